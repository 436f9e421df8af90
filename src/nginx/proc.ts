import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { http } from '../lib/http-builtins';
import { statField, statNumber } from '../lib/proc-stat';
import { GENERATION_HEADER, GENERATION_PATH } from './render';

export type ProcState = 'running' | 'zombie' | 'gone';

/**
 * State of a process from /proc/PID/stat. `kill -0` succeeds on a zombie, so a dead Nginx master
 * that nobody reaped would look alive: read the state letter instead.
 */
export async function processState(pid: number): Promise<ProcState> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 'gone';
  }
  const state = statField(stat, 3);
  return state === 'Z' || state === 'X' ? 'zombie' : 'running';
}

export async function parentPid(pid: number): Promise<number | undefined> {
  try {
    return statNumber(await readFile(`/proc/${pid}/stat`, 'utf8'), 4);
  } catch {
    return undefined;
  }
}

export async function commandLine(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
}

/**
 * Worker processes of an Nginx master that still accept connections: not those whose title says
 * "shutting down" (Nginx sets that title just before it closes the listening sockets).
 */
export async function acceptingWorkers(master: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if ((await parentPid(pid)) !== master) continue;
    const cmd = (await commandLine(pid)) ?? '';
    if (/^nginx: worker process/.test(cmd) && !/shutting down/.test(cmd)) out.push(pid);
  }
  return out;
}

export async function readPidFile(path: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(path, 'utf8')).trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** An Nginx master that is alive (not a zombie) at `pid`. */
export async function isLiveMaster(pid: number): Promise<boolean> {
  if ((await processState(pid)) !== 'running') return false;
  return /^nginx: master process/.test((await commandLine(pid)) ?? '');
}

export interface NginxTestResult {
  ok: boolean;
  /** nginx -t's output, trimmed; the reason when not ok. */
  output: string;
}

/**
 * `nginx -t` on a candidate file. A `[warn]` is a failure too: Nginx then runs with something
 * other than what the model says (measured: least_conn after keepalive only warns).
 */
export function testConfig(binary: string, conf: string, prefix: string, timeoutMs = 30_000): Promise<NginxTestResult> {
  return new Promise((resolve) => {
    execFile(binary, ['-t', '-p', `${prefix}/`, '-c', conf], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      const problems = output.split('\n').filter((l) => /\[(warn|emerg|alert|crit|error)\]/.test(l));
      if (err) return resolve({ ok: false, output: problems.join('\n') || output || err.message });
      if (problems.length > 0) return resolve({ ok: false, output: problems.join('\n') });
      resolve({ ok: true, output });
    });
  });
}

/** The generation the status endpoint serves now, or undefined when nothing answers. */
export function probeGeneration(address: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.request({ host: address, port, path: GENERATION_PATH, method: 'GET', agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      res.resume();
      const gen = res.headers[GENERATION_HEADER.toLowerCase()];
      resolve(res.statusCode === 200 && typeof gen === 'string' ? gen : undefined);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
