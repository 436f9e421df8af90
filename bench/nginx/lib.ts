// Shared parts of the Nginx benchmarks: loopback ports, upstream processes the benchmark starts
// (and alone kills, by PID), the proxy model through the real config loader, a timestamped log,
// and a cleanup list that runs on every exit path.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config';
import { Logger } from '../../src/log';
import { NginxController, type NginxConfig } from '../../src/nginx';
import { processState } from '../../src/nginx/proc';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const cleanups: (() => Promise<void> | void)[] = [];

/** Registered work runs in reverse order at the end, on failure, and on SIGINT/SIGTERM. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      process.stderr.write(`cleanup: ${(err as Error).message}\n`);
    }
  }
}

/** Runs a benchmark body with cleanup on every path; exit code 1 when it throws. */
export function main(body: () => Promise<void>): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`${sig}: cleaning up\n`);
      void runCleanups().finally(() => process.exit(130));
    });
  }
  body()
    .then(runCleanups, async (err: unknown) => {
      process.stderr.write(`benchmark failed: ${(err as Error).stack ?? String(err)}\n`);
      await runCleanups();
      process.exitCode = 1;
    })
    .catch(() => {
      process.exitCode = 1;
    })
    // Requests still in flight (a hung upstream's) must not hold the process open.
    .finally(() => process.exit());
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A temp dir that Nginx workers (nobody) can traverse, removed at cleanup. */
export function benchDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tvnb-${tag}-`));
  chmodSync(dir, 0o755);
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A static root with a small CSS file (served by Nginx itself). */
export function staticRoot(dir: string): string {
  const www = join(dir, 'www');
  mkdirSync(join(www, 'static'), { recursive: true });
  writeFileSync(join(www, 'static', 'app.css'), `body { color: red; }\n${'/* padding */\n'.repeat(40)}`);
  return www;
}

// The upstream: a separate Node process (its own event loop, and a kill that is a real process
// death). It answers every request with its name and the URL, and prints its port when ready.
const UPSTREAM_CODE = `
const http = require('node:http');
const [name, port] = process.argv.slice(1);
const srv = http.createServer((req, res) => { res.setHeader('content-type', 'text/plain'); res.end(name + ' ' + req.url + '\\n'); });
srv.keepAliveTimeout = 60000;
srv.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready ' + srv.address().port + '\\n'));
`;

export interface Upstream {
  name: string;
  port: number;
  pid: number;
  /** Sends a signal and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Sends a signal without waiting (SIGSTOP/SIGCONT: a hung server and its recovery). */
  signal(signal: NodeJS.Signals): void;
}

/** Starts an upstream process on `port` (0 = any) and waits until it listens. */
export async function startUpstream(name: string, port = 0): Promise<Upstream> {
  const child: ChildProcess = spawn(process.execPath, ['-e', UPSTREAM_CODE, name, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const bound = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`upstream ${name} exited (${code}) before listening`)));
  });
  let alive = true;
  void exited.then(() => (alive = false));
  const up: Upstream = {
    name,
    port: bound,
    pid: child.pid!,
    kill: async (signal = 'SIGTERM') => {
      if (!alive) return;
      child.kill(signal);
      await exited;
    },
    signal: (signal) => {
      if (alive) child.kill(signal);
    },
  };
  onCleanup(() => up.kill('SIGKILL'));
  return up;
}

/** The nginx section through the real loader (schema + semantic checks), as users write it. */
export function model(nginx: Record<string, unknown>): NginxConfig {
  const r = parseConfigText(JSON.stringify({ nginx: { enabled: true, ...nginx } }), 'bench.json');
  if (!r.ok) throw new Error(`model refused: ${JSON.stringify(r.errors)}`);
  return r.config.nginx;
}

export interface TimedLine {
  at: number;
  line: string;
}

/** A logger whose lines are kept with the time they were emitted (events, not polling). */
export function timedLogger(): { log: ReturnType<Logger['for']>; lines: TimedLine[] } {
  const lines: TimedLine[] = [];
  const logger = new Logger({ sink: (line) => lines.push({ at: Date.now(), line }), level: 'debug' });
  return { log: logger.for('nginx'), lines };
}

/** Starts a controller; at cleanup stops it and SIGKILLs its own master (by PID) if it survived. */
export async function startController(m: NginxConfig, log: ReturnType<Logger['for']>): Promise<NginxController> {
  const c = new NginxController({ model: m, log });
  onCleanup(async () => {
    const pid = c.supervisor.pid;
    await c.stop();
    if (pid !== undefined && (await processState(pid)) === 'running') process.kill(pid, 'SIGKILL');
  });
  const r = await c.start();
  if (!r.ok) throw new Error(`controller start failed: ${JSON.stringify(r)}`);
  return c;
}

export interface GetResult {
  status: number;
  body: string;
}

/** One GET on a fresh connection (Connection: close). */
export function get(port: number, path: string, timeoutMs = 5000): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, out: `${stdout}${stderr}`.trim() });
    });
  });
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Date, machine and versions, for the README's results header. */
export async function machine(): Promise<Record<string, string>> {
  const nginx = await run('/usr/sbin/nginx', ['-v']);
  const wrk = await run('wrk', ['-v']);
  const uname = await run('uname', ['-m']);
  const nproc = await run('nproc', []);
  return {
    date: new Date().toISOString(),
    machine: uname.out,
    nproc: nproc.out,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    nginx: nginx.out.replace(/^nginx version: /, ''),
    wrk: /wrk (\S+)/.exec(wrk.out)?.[1] ?? 'absent',
  };
}
