import type { CheckConfig } from '../config';
import { commandArgv } from '../lib/command-argv';
import { ScriptPolicy, type PolicySource } from '../exec';
import { httpProbe, pingProbe, scriptProbe, tcpProbe, type Probe } from './probes';
import { CheckRunner } from './runner';

export interface CheckRunnerDeps {
  /** The shared script policy (enable_script_security, script_user) or a getter of the running config's; default security on, no script_user. */
  policy?: PolicySource;
  /** Warnings about script checks (an unsafe script run because enable_script_security is off). */
  onWarning?: (msg: string) => void;
  now?: () => number;
  /** Ping binary; default `ping` from PATH. */
  pingBinary?: string;
}

export type ProbeBuild = { ok: true; probe: Probe } | { ok: false; error: string };

/** The probe a `checks.<name>` entry denotes. */
export function probeFromConfig(check: CheckConfig, deps: CheckRunnerDeps = {}): ProbeBuild {
  switch (check.type) {
    case 'tcp':
      return { ok: true, probe: tcpProbe(check.host, check.port) };
    case 'http':
      return { ok: true, probe: httpProbe({ url: check.url, status: check.status, tlsVerify: check.tls_verify }) };
    case 'ping':
      return { ok: true, probe: pingProbe({ host: check.host, count: check.count, waitSeconds: check.timeout, ...(deps.pingBinary ? { binary: deps.pingBinary } : {}) }) };
    case 'script':
      return {
        ok: true,
        probe: scriptProbe({
          argv: commandArgv(check.script),
          ...(check.user === undefined ? {} : { user: check.user }),
          policy: deps.policy ?? new ScriptPolicy({ security: true }),
          ...(deps.onWarning ? { onInsecure: deps.onWarning } : {}),
        }),
      };
  }
}

/** A runner for one `checks.<name>` entry, exactly as the config gives it (seconds -> ms). */
export function checkRunnerFromConfig(name: string, check: CheckConfig, deps: CheckRunnerDeps = {}): { ok: true; runner: CheckRunner } | { ok: false; error: string } {
  const built = probeFromConfig(check, deps);
  if (!built.ok) return { ok: false, error: `check ${name}: ${built.error}` };
  const runner = new CheckRunner({
    name,
    probe: built.probe,
    intervalMs: Math.round(check.interval * 1000),
    timeoutMs: Math.round(check.timeout * 1000),
    rise: check.rise,
    fall: check.fall,
    ...(deps.now ? { now: deps.now } : {}),
  });
  return { ok: true, runner };
}
