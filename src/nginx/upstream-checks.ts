import { CheckRunner, httpProbe, scriptProbe, tcpProbe, type Probe, type TrackEvent } from '../track';
import type { UpstreamCheckConfig, UpstreamConfig, UpstreamServerConfig } from '../config/nginx/schema';
import { ScriptPolicy, type PolicySource } from '../exec';
import { commandArgv } from '../lib/command-argv';
import { serverKey } from './upstream-state';

export interface ServerCheckState {
  group: string;
  server: string;
  up: boolean;
  last?: string;
  failures: number;
}

function probeFor(s: UpstreamServerConfig, check: UpstreamCheckConfig, policy: PolicySource): Probe {
  if (check.type === 'tcp') return tcpProbe(s.address, s.port);
  if (check.type === 'script') {
    // The rules refuse type script without a script; an empty argv would throw in scriptProbe.
    // {address} and {port} in an argument become this server's (one check for every server of the group).
    const argv = (check.script === undefined ? [] : commandArgv(check.script)).map((w) => w.replaceAll('{address}', s.address).replaceAll('{port}', String(s.port)));
    if (argv.length === 0) return async () => ({ ok: false, detail: 'script check without a script' });
    return scriptProbe({ argv, ...(check.user === undefined ? {} : { user: check.user }), policy });
  }
  const host = s.address.includes(':') ? `[${s.address}]` : s.address;
  return httpProbe({
    url: `${check.type}://${host}:${s.port}${check.path}`,
    status: check.status,
    // https: the certificate is not verified, as keepalived's SSL_GET without a CA does not.
    ...(check.type === 'https' ? { tlsVerify: false } : {}),
    ...(check.body !== undefined ? { body: new RegExp(check.body) } : {}),
    ...(check.host !== undefined ? { host: check.host } : {}),
  });
}

/**
 * Active checks of upstream servers (open-source Nginx only has passive ones). One runner per
 * server of every group with a `check`; servers start up (Nginx already sends to them) and go
 * down after `fall` failures, back after `rise` successes. A reloaded config keeps the runners
 * (and states) of servers whose check did not change, so a reload never resets a down server.
 */
export class UpstreamChecks {
  private runners = new Map<string, { runner: CheckRunner; group: string; spec: string; off: () => void }>();

  /** `policy`: the shared script policy for script checks (default: enable_script_security on, no script_user). */
  constructor(
    private readonly onChange: (event: TrackEvent, group: string) => void,
    private readonly policy: PolicySource = new ScriptPolicy({ security: true }),
  ) {}

  /** Starts, keeps or stops runners to match the groups. */
  sync(upstreams: Record<string, UpstreamConfig>): void {
    const wanted = new Map<string, { group: string; server: UpstreamServerConfig; check: UpstreamCheckConfig; spec: string }>();
    for (const group of Object.keys(upstreams).sort()) {
      const up = upstreams[group]!;
      if (!up.check) continue;
      for (const server of up.servers) {
        const key = serverKey(group, server);
        wanted.set(key, { group, server, check: up.check, spec: JSON.stringify(up.check) });
      }
    }
    for (const [key, r] of this.runners) {
      if (wanted.get(key)?.spec === r.spec) continue;
      r.off();
      r.runner.stop();
      this.runners.delete(key);
    }
    for (const [key, w] of wanted) {
      if (this.runners.has(key)) continue;
      const runner = new CheckRunner({
        name: key,
        probe: probeFor(w.server, w.check, this.policy),
        intervalMs: Math.round(w.check.interval * 1000),
        timeoutMs: Math.round(w.check.timeout * 1000),
        rise: w.check.rise,
        fall: w.check.fall,
        initial: true,
      });
      const off = runner.on((ev) => this.onChange(ev, w.group));
      this.runners.set(key, { runner, group: w.group, spec: w.spec, off });
      runner.start();
    }
  }

  /** Server keys currently failing their check. */
  failing(): Set<string> {
    const out = new Set<string>();
    for (const [key, r] of this.runners) if (r.runner.up === false) out.add(key);
    return out;
  }

  states(): ServerCheckState[] {
    return [...this.runners].map(([key, r]) => {
      const s: ServerCheckState = { group: r.group, server: key.slice(r.group.length + 1), up: r.runner.up !== false, failures: r.runner.counters.failures };
      const last = r.runner.lastResult;
      if (last) s.last = last.detail;
      return s;
    });
  }

  stop(): void {
    for (const r of this.runners.values()) {
      r.off();
      r.runner.stop();
    }
    this.runners.clear();
  }
}
