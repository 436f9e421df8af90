import { spawn } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { http, https } from '../lib/http-builtins';
import { connect } from 'node:net';
import { currentPolicy, runProgram, ScriptPolicy, type PolicySource } from '../exec';
import { redactUrlCredentials } from '../log/redact';

/** One run of a check. `detail` says why in words a log line can carry. */
export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/** A probe honours `signal` (the runner aborts it at its timeout) and never rejects. */
export type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

const ok = (detail: string): ProbeResult => ({ ok: true, detail });
const fail = (detail: string): ProbeResult => ({ ok: false, detail });

function errText(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return err instanceof Error ? err.message : String(err);
}

/** TCP connect: healthy once the handshake completes; the connection is closed at once. */
export function tcpProbe(host: string, port: number): Probe {
  const where = `tcp ${host.includes(':') ? `[${host}]` : host}:${port}`;
  return (signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve(fail(`${where}: timed out`));
      const sock = connect({ host, port });
      const finish = (r: ProbeResult) => {
        signal.removeEventListener('abort', onAbort);
        sock.destroy();
        resolve(r);
      };
      const onAbort = () => finish(fail(`${where}: timed out`));
      signal.addEventListener('abort', onAbort, { once: true });
      sock.once('connect', () => finish(ok(`${where}: connected`)));
      sock.once('error', (err) => finish(fail(`${where}: connect ${errText(err)}`)));
    });
}

export interface HttpProbeOptions {
  url: string;
  /** Healthy statuses; default [200]. */
  status?: readonly number[];
  /** Healthy only if the body (first 64 KiB) matches. */
  body?: RegExp;
  tlsVerify?: boolean;
  /** Sent as the Host header (an upstream probed by address for a virtual host). */
  host?: string;
}

const BODY_LIMIT = 64 * 1024;

/** HTTP(S) GET with `Connection: close`, so a probe never holds a keep-alive socket open. */
export function httpProbe(opts: HttpProbeOptions): Probe {
  const statuses = opts.status ?? [200];
  const url = new URL(opts.url);
  // The detail goes to status, MQTT state and the console: never with a password from the URL.
  const where = `http ${redactUrlCredentials(opts.url)}`;
  const doRequest = url.protocol === 'https:' ? https.request : http.request;
  return (signal) =>
    new Promise((resolve) => {
      let settled = false;
      const finish = (r: ProbeResult) => {
        if (settled) return;
        settled = true;
        req.destroy();
        resolve(r);
      };
      const headers: Record<string, string> = { connection: 'close', 'user-agent': 'twinvip-check' };
      if (opts.host) headers.host = opts.host;
      const req = doRequest(url, { method: 'GET', headers, signal, rejectUnauthorized: opts.tlsVerify ?? true, agent: false }, (res: IncomingMessage) => {
        const code = res.statusCode ?? 0;
        if (!statuses.includes(code)) return finish(fail(`${where}: status ${code}, expected ${statuses.join('/')}`));
        if (!opts.body) {
          res.resume();
          return finish(ok(`${where}: status ${code}`));
        }
        const pattern = opts.body;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < BODY_LIMIT) text += chunk;
          if (text.length >= BODY_LIMIT) res.destroy();
        });
        const judge = () => finish(pattern.test(text.slice(0, BODY_LIMIT)) ? ok(`${where}: status ${code}, body matches`) : fail(`${where}: body does not match ${String(pattern)}`));
        res.on('end', judge);
        res.on('close', judge);
        res.on('error', (err) => finish(fail(`${where}: ${errText(err)}`)));
      });
      req.on('error', (err) => finish(fail(signal.aborted ? `${where}: timed out` : `${where}: ${errText(err)}`)));
      req.end();
    });
}

export interface ScriptProbeOptions {
  argv: readonly string[];
  /** Run as this user (name or uid); default the policy's script_user. */
  user?: string;
  /** The shared script policy (src/exec), or a getter of the running config's; default enable_script_security on, no script_user. */
  policy?: PolicySource;
  /** Told once per new finding when an unsafe script runs because enable_script_security is off. */
  onInsecure?: (why: string) => void;
}

/**
 * Runs a program without a shell (keepalived vrrp_script, but argv-only): exit 0 is healthy.
 * The script policy decides whether and as whom it runs, and it executes the file it checked.
 * It runs in a process group of its own: at the timeout (the runner aborts the probe) the whole
 * group gets SIGKILL, as does whatever the program leaves behind when it exits.
 */
export function scriptProbe(opts: ScriptProbeOptions): Probe {
  const file = opts.argv[0];
  if (file === undefined) throw new Error('script probe needs a program');
  const where = `script ${file}`;
  const policy = opts.policy ?? new ScriptPolicy({ security: true });
  let reported: string | undefined;
  return async (signal) => {
    const prepared = await currentPolicy(policy).prepare(opts.argv, opts.user);
    if (!prepared.ok) return fail(`${where}: not run: ${prepared.reason}`);
    const insecure = prepared.program.insecure;
    if (insecure !== reported) {
      reported = insecure;
      if (insecure) opts.onInsecure?.(`${where}: runs although unsafe (enable_script_security is off): ${insecure}`);
    }
    if (signal.aborted) return fail(`${where}: timed out, killed`);
    const r = await runProgram(prepared.program, { killGraceMs: 0, killGroupOnExit: true, signal }).done;
    switch (r.outcome) {
      case 'exited':
        if (r.code === 0) return ok(`${where}: exit 0`);
        return fail(r.code !== null ? `${where}: exit ${r.code}` : `${where}: killed by ${String(r.signal)}`);
      case 'aborted':
      case 'timeout':
        return fail(`${where}: timed out, killed`);
      case 'spawn-failed':
        return fail(`${where}: ${r.error ?? 'cannot start'}`);
    }
  };
}

export interface PingProbeOptions {
  host: string;
  count?: number;
  /** Seconds ping waits for a reply (-W); the runner's timeout still bounds the whole run. */
  waitSeconds?: number;
  /** Default `ping` from PATH (iputils-ping); an absolute path is safer under systemd. */
  binary?: string;
}

/**
 * ICMP echo through the system `ping` (raw ICMP needs privileges Node does not have). It runs in
 * the calling process's network namespace: tests run the daemon inside a box's namespace.
 */
export function pingProbe(opts: PingProbeOptions): Probe {
  const count = opts.count ?? 1;
  const wait = Math.max(1, Math.ceil(opts.waitSeconds ?? 1));
  const argv = ['-n', '-q', '-c', String(count), '-W', String(wait), opts.host];
  const where = `ping ${opts.host}`;
  return (signal) =>
    new Promise((resolve) => {
      const child = spawn(opts.binary ?? 'ping', argv, { stdio: 'ignore', signal, killSignal: 'SIGKILL' });
      child.once('error', (err) => resolve(fail(signal.aborted ? `${where}: timed out` : `${where}: ${errText(err)}`)));
      child.once('exit', (code) => {
        if (code === 0) resolve(ok(`${where}: reply`));
        else if (signal.aborted) resolve(fail(`${where}: timed out`));
        else resolve(fail(`${where}: no reply (exit ${code ?? 'signal'})`));
      });
    });
}
