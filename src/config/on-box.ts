// What a configuration names on the box itself, beyond its own text: the secret files and the
// programs it runs. `twinvip check` reports all of it (unless --offline); `twinvip run` and every
// reload refuse a configuration whose secret files are missing or unfit, so a box never starts
// or reloads into a silent fallback (plain VRRP without the serial heartbeat, an MQTT login
// without its password). One exception, said loudly: a heartbeat key_file that does not exist
// yet is a box waiting for pairing (`twinvip pair`): it runs plain VRRP and says so everywhere.

import { stat } from 'node:fs/promises';
import { ScriptPolicy, scriptPolicyFromConfig } from '../exec';
import { readSecretFile } from '../lib/secret-file';
import type { ConfigIssue } from '../lib/config-issues';
import { loadConfigFile, type ConfigResult } from './load';
import { commandArgv } from '../lib/command-argv';
import type { CommandSpec } from '../lib/schema-helpers';
import type { TwinvipConfig } from './schema/root';
import { secretFiles } from './secrets';
import { trackRefs } from './track';

export interface OnBoxFindings {
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** Reads every `*_file` secret as the daemon will: missing, empty, too short or too long is an error; a loose mode or owner a warning. */
export async function checkSecretFiles(config: TwinvipConfig): Promise<OnBoxFindings> {
  const out: OnBoxFindings = { errors: [], warnings: [] };
  for (const ref of secretFiles(config)) {
    if (ref.absent !== undefined && (await missing(ref.path))) {
      out.warnings.push({ path: ref.pointer, message: ref.absent });
      continue;
    }
    const r = await readSecretFile(ref.path, ref.rules);
    if (!r.ok) {
      out.errors.push({ path: ref.pointer, message: `secret file ${r.error}`, hint: hintFor(ref.rules.minBytes, ref.rules.maxBytes) });
      continue;
    }
    for (const w of r.warnings) out.warnings.push({ path: ref.pointer, message: `secret file ${w}` });
  }
  return out;
}

async function missing(path: string): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function hintFor(min: number | undefined, max: number | undefined): string {
  const size = min !== undefined ? `at least ${min} bytes` : max !== undefined ? `at most ${max} bytes` : 'not empty';
  return `a root-owned file of mode 0600 whose first line is the secret (${size})`;
}

interface ProgramRef {
  pointer: string;
  argv: string[];
  user?: string;
}

/** Every program the configuration would run: notify scripts, tracked script checks, the fence command. */
export function configuredPrograms(config: TwinvipConfig): ProgramRef[] {
  const refs: ProgramRef[] = [];
  const notify = (base: string, block: Record<string, CommandSpec | undefined>) => {
    for (const field of ['master', 'backup', 'fault', 'stop', 'notify']) {
      const spec = block[field];
      if (spec !== undefined) refs.push({ pointer: `${base}/notify/${field}`, argv: commandArgv(spec) });
    }
  };
  const tracked = new Set<string>();
  for (const [name, inst] of Object.entries(config.instances)) {
    notify(`/instances/${name}`, inst.notify as Record<string, CommandSpec | undefined>);
    for (const t of trackRefs(inst.track_checks)) tracked.add(t.name);
  }
  for (const [name, sg] of Object.entries(config.sync_groups)) notify(`/sync_groups/${name}`, sg.notify as Record<string, CommandSpec | undefined>);
  // An untracked check never runs (and is warned about as such).
  for (const [name, check] of Object.entries(config.checks)) {
    if (check.type !== 'script' || !tracked.has(name)) continue;
    refs.push({ pointer: `/checks/${name}/script`, argv: commandArgv(check.script), ...(check.user === undefined ? {} : { user: check.user }) });
  }
  const fence = config.heartbeat.fence;
  if (fence) refs.push({ pointer: '/heartbeat/fence/command', argv: commandArgv(fence.command), ...(fence.user === undefined ? {} : { user: fence.user }) });
  return refs;
}

/** Each program through the same script policy the daemon uses: what it would refuse is an error, an unsafe program it would run anyway a warning. */
export async function checkPrograms(config: TwinvipConfig, policy: ScriptPolicy = scriptPolicyFromConfig(config.notify)): Promise<OnBoxFindings> {
  const out: OnBoxFindings = { errors: [], warnings: [] };
  for (const ref of configuredPrograms(config)) {
    const r = await policy.prepare(ref.argv, ref.user);
    if (!r.ok) {
      const hint = r.reason.startsWith('enable_script_security')
        ? 'root-owned, and not writable by a non-root group or others: the file, every directory above it and every symlink on the way'
        : undefined;
      out.errors.push({ path: ref.pointer, message: `would not run: ${r.reason}`, ...(hint ? { hint } : {}) });
    } else if (r.program.insecure) {
      out.warnings.push({ path: ref.pointer, message: `runs as root although unsafe (notify.enable_script_security is false): ${r.program.insecure}` });
    }
  }
  return out;
}

/**
 * The loader of the running daemon (start-up and every reload): the file as loadConfigFile reads
 * it, then its secret files, whose errors refuse the configuration like any other error. The
 * programs it names are reported as warnings only: each run is judged again when it happens
 * (and refused then), as keepalived disables an unsafe script and runs on.
 */
export async function loadConfigOnBox(path: string): Promise<ConfigResult> {
  const r = await loadConfigFile(path);
  if (!r.ok) return r;
  const secrets = await checkSecretFiles(r.config);
  const programs = await checkPrograms(r.config);
  const warnings = [...r.warnings, ...secrets.warnings, ...programs.errors, ...programs.warnings];
  if (secrets.errors.length > 0) return { ok: false, errors: secrets.errors, warnings };
  return { ...r, warnings };
}
