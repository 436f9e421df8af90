import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patience } from './patience';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The pinned Node.js 24 (never the machine's node). */
export const NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');
export const BUNDLE = join(REPO_ROOT, 'dist', 'twinvip.js');

/** Runs scripts/build.mjs (the integration project's globalSetup calls it once per run). */
export function buildBundleNow(): string {
  const r = spawnSync(NODE, [join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bundle build failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return BUNDLE;
}

/**
 * The bundle a test runs: built once per vitest run by the integration project's globalSetup
 * (helpers/build-bundle.global.ts), never by a test file, because files run in parallel and a
 * rebuild empties dist/ under the daemons of the others. Builds only when dist/ is missing (a
 * file run outside that project).
 */
export function buildBundle(): string {
  if (existsSync(BUNDLE)) return BUNDLE;
  return buildBundleNow();
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `twinvip ARGS` from the bundle to completion (killing it after timeoutMs). */
export function runCli(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BUNDLE, ...args], { cwd: REPO_ROOT, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), patience(opts.timeoutMs ?? 15_000));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** One stdout line of a spawned process, with its JSON object when the line is one (JSON logging). */
export interface OutputLine {
  text: string;
  json?: Record<string, unknown>;
}

export type LinePredicate = (line: OutputLine) => boolean;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A long-running process (the daemon) whose stdout lines are events to wait on. Use `mark()` before
 * an action and `waitForLine(pred, { from: mark })` after it, so an older line cannot satisfy it.
 * Call `stop()` in afterAll/finally: it signals only this PID.
 */
export class SpawnedProcess {
  readonly lines: OutputLine[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly child: ChildProcess) {
    let partial = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) this.lines.push(parseLine(text));
      this.wake();
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
        this.wake();
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('process did not start');
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Index of the next line; pass as `from` to wait only for lines after this point. */
  mark(): number {
    return this.lines.length;
  }

  /** Resolves with the first line (at index >= from) matching; rejects on timeout or exit. */
  waitForLine(pred: LinePredicate, opts: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<OutputLine> {
    const from = opts.from ?? 0;
    const timeoutMs = patience(opts.timeoutMs ?? 15_000);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        for (let i = from; i < this.lines.length; i++) {
          const line = this.lines[i]!;
          if (pred(line)) return done(() => resolve(line));
        }
        if (this.exit) done(() => reject(new Error(`process exited (${JSON.stringify(this.exit)}) before ${opts.what ?? 'the line'} appeared\n${this.transcript()}`)));
      };
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a line'}\n${this.transcript()}`))), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a signal to this process only (never a group, never by name). */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs. Safe to call twice. */
  async stop(graceMs = 5000): Promise<Exit> {
    if (!this.running) return this.exit!;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  transcript(): string {
    return `--- stdout ---\n${this.lines.map((l) => l.text).join('\n')}\n--- stderr ---\n${this.stderr}`;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

function parseLine(text: string): OutputLine {
  if (!text.startsWith('{')) return { text };
  try {
    const json = JSON.parse(text) as unknown;
    return typeof json === 'object' && json !== null ? { text, json: json as Record<string, unknown> } : { text };
  } catch {
    return { text };
  }
}

/** Starts `twinvip ARGS` from the bundle in the background. */
export function spawnTwinvip(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): SpawnedProcess {
  const child = spawn(NODE, [BUNDLE, ...args], { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new SpawnedProcess(child);
}
