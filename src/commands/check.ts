import { readdir } from 'node:fs/promises';
import {
  checkInterfacesExist,
  checkPrograms,
  checkSecretFiles,
  formatIssues,
  instanceVips,
  loadConfigFile,
  type ConfigIssue,
  type TwinvipConfig,
} from '../config/index';
import { configSchemaJson } from '../config/schema-json';

import { renderProbes, selftest, type Probe } from './selftest';

export const DEFAULT_CONFIG_PATH = '/etc/twinvip/twinvip.json';

const USAGE = `usage: twinvip check [-c FILE] [--json] [--host | --offline]
       twinvip check --schema

Validates the file, then what it names on this machine: every secret file (*_file: present,
not empty, the heartbeat key at least 16 bytes; a mode that lets group or others read it is a
warning) and every program it runs (notify scripts, tracked script checks, the fence command),
judged by the script policy the daemon applies (notify.enable_script_security, script_user).

  -c, --config FILE  configuration to validate (default ${DEFAULT_CONFIG_PATH})
  --json             print the result as JSON on stdout
  --host             also require the interfaces it names to exist on this machine, and try
                     what \`run\` needs of it (twinvip selftest: sockets, joins, serial, Nginx)
  --offline          the file only: skip secret files and programs (a configuration for another box)
  --schema           print the configuration's JSON Schema (for editors) and exit
`;

interface CheckOptions {
  file: string;
  json: boolean;
  host: boolean;
  offline: boolean;
  schema: boolean;
}

function parseArgs(args: string[]): CheckOptions | string {
  const opts: CheckOptions = { file: DEFAULT_CONFIG_PATH, json: false, host: false, offline: false, schema: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-c' || a === '--config') {
      const v = args[++i];
      if (v === undefined || v === '') return `option ${a} needs a file name`;
      opts.file = v;
    } else if (a.startsWith('--config=')) {
      opts.file = a.slice('--config='.length);
      if (opts.file === '') return 'option --config needs a file name';
    } else if (a === '--json') opts.json = true;
    else if (a === '--host') opts.host = true;
    else if (a === '--offline') opts.offline = true;
    else if (a === '--schema') opts.schema = true;
    else if (a === '-h' || a === '--help') return '';
    else return `unknown argument '${a}'`;
  }
  if (opts.host && opts.offline) return '--host and --offline exclude each other';
  return opts;
}

/** One line: what the configuration sets up. */
export function summarize(config: TwinvipConfig): string {
  const instances = Object.entries(config.instances);
  const vips = instances.reduce((n, [, inst]) => n + instanceVips(inst).length, 0);
  const parts = [
    `${instances.length} instance${instances.length === 1 ? '' : 's'}` +
      (instances.length ? ` (${instances.map(([n, i]) => `${n} v${i.version} ${i.interface} vrid ${i.vrid} prio ${i.priority}`).join(', ')})` : ''),
    `${vips} VIP${vips === 1 ? '' : 's'}`,
    `${Object.keys(config.checks).length} check(s)`,
    `${Object.keys(config.sync_groups).length} sync group(s)`,
    config.heartbeat.serial?.enabled ? `serial heartbeat on ${config.heartbeat.serial.device}` : 'no serial heartbeat',
    `nginx ${config.nginx.enabled ? 'on' : 'off'}`,
    `mqtt ${config.mqtt.enabled ? 'on' : 'off'}`,
    `console ${config.console.enabled ? 'on' : 'off'}`,
  ];
  return parts.join(', ');
}

async function hostInterfaces(): Promise<string[]> {
  try {
    return await readdir('/sys/class/net');
  } catch {
    return [];
  }
}

/** `twinvip check`: 0 valid, 1 invalid, 2 usage error. */
export async function checkCommand(args: string[]): Promise<number> {
  const opts = parseArgs(args);
  if (typeof opts === 'string') {
    if (opts === '') {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(`twinvip check: ${opts}\n${USAGE}`);
    return 2;
  }
  if (opts.schema) {
    process.stdout.write(`${JSON.stringify(configSchemaJson(), null, 2)}\n`);
    return 0;
  }

  const result = await loadConfigFile(opts.file);
  let errors: ConfigIssue[] = result.ok ? [] : result.errors;
  const warnings = [...result.warnings];
  let probes: Probe[] | undefined;
  if (result.ok && opts.host) {
    errors = checkInterfacesExist(result.config, await hostInterfaces());
    // What `run` needs of this machine, tried for real (twinvip selftest): sockets, joins, serial, Nginx.
    probes = await selftest(result.config);
    for (const p of probes) if (!p.ok) errors.push({ path: '', message: `selftest: ${p.what}: FAIL ${p.detail ?? ''}`.trim() });
  }
  if (result.ok && !opts.offline) {
    for (const found of [await checkSecretFiles(result.config), await checkPrograms(result.config)]) {
      errors.push(...found.errors);
      warnings.push(...found.warnings);
    }
  }
  const ok = errors.length === 0;

  if (opts.json) {
    const out = {
      ok,
      file: opts.file,
      hash: result.ok ? result.hash : null,
      summary: result.ok ? summarize(result.config) : null,
      errors,
      warnings,
      ...(probes ? { selftest: probes } : {}),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return ok ? 0 : 1;
  }
  if (probes) process.stdout.write(`selftest on this machine:\n${renderProbes(probes)}\n`);
  if (!ok) {
    process.stderr.write(`${formatIssues(errors, opts.file)}\n`);
    if (warnings.length) process.stderr.write(`${formatIssues(warnings.map(asWarning), opts.file)}\n`);
    process.stderr.write(`${opts.file}: ${errors.length} error${errors.length === 1 ? '' : 's'}, configuration refused\n`);
    return 1;
  }
  if (result.ok) {
    process.stdout.write(`${opts.file}: ok, ${summarize(result.config)}; hash ${result.hash}\n`);
    if (warnings.length) process.stderr.write(`${formatIssues(warnings.map(asWarning), opts.file)}\n`);
  }
  return 0;
}

function asWarning(i: ConfigIssue): ConfigIssue {
  return { ...i, message: `warning: ${i.message}` };
}
