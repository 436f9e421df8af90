import { readFileSync } from 'node:fs';
import { commandArgv, type CheckConfig } from '../config';
import { httpProbe, pingProbe, scriptProbe, tcpProbe, type Probe } from './probes';
import { CheckRunner } from './runner';

export interface CheckRunnerDeps {
  /** Default notify.script_user for script checks without `user`. */
  scriptUser?: string;
  now?: () => number;
  /** Ping binary; default `ping` from PATH. */
  pingBinary?: string;
}

/** uid/gid of a user from /etc/passwd; undefined when unknown (the caller refuses the check). */
export function lookupUser(user: string, passwd = '/etc/passwd'): { uid: number; gid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
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
    case 'script': {
      const user = check.user ?? deps.scriptUser;
      if (user === undefined || user === 'root') return { ok: true, probe: scriptProbe({ argv: commandArgv(check.script) }) };
      const ids = lookupUser(user);
      if (!ids) return { ok: false, error: `script user "${user}" does not exist` };
      return { ok: true, probe: scriptProbe({ argv: commandArgv(check.script), ...ids }) };
    }
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
