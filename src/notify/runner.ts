import { spawn, type ChildProcess } from 'node:child_process';
import { resolveCommand, scriptInsecurity } from './script-security';
import { lookupUser, type UserIds } from './users';

/** What the runner logs through (the daemon's SubsystemLogger fits). */
export interface NotifyLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface NotifyJob {
  /** Queue key: jobs of one key run one at a time, in order (one instance or one sync group). */
  key: string;
  /** Full argv, keepalived's extra arguments included. */
  argv: string[];
  /** For log lines, e.g. "VI_1 notify_master". */
  label: string;
}

export interface NotifyRunnerOptions {
  /** Milliseconds before the script's process group gets SIGTERM (then SIGKILL after killGraceMs). */
  timeoutMs: number;
  killGraceMs?: number;
  /** Jobs waiting per key; beyond it the oldest waiting job is dropped and counted. */
  maxQueue?: number;
  /** keepalived enable_script_security: refuse scripts root would run from unsafe places. */
  scriptSecurity: boolean;
  /** keepalived script_user: run scripts as this user (name or uid); default: as the daemon. */
  scriptUser?: string;
  log: NotifyLog;
  env?: NodeJS.ProcessEnv;
  /** Seam for tests: the uid the daemon runs as. */
  ourUid?: number;
  passwdPath?: string;
}

export interface NotifyCounters {
  queued: number;
  started: number;
  succeeded: number;
  failed: number;
  timed_out: number;
  refused: number;
  dropped: number;
  [key: string]: number;
}

export interface JobOutcome {
  job: NotifyJob;
  result: 'ok' | 'failed' | 'timeout' | 'refused' | 'dropped';
  detail: string;
}

interface Lane {
  waiting: NotifyJob[];
  running: boolean;
}

/**
 * Runs notify scripts the way keepalived does (argv, no shell; own process group; optional
 * user), without ever blocking the caller: enqueue() returns at once, each key (instance or
 * group) has its own ordered, bounded lane, and a hung script is killed with its whole process
 * group after the timeout.
 */
export class NotifyRunner {
  readonly counters: NotifyCounters = { queued: 0, started: 0, succeeded: 0, failed: 0, timed_out: 0, refused: 0, dropped: 0 };
  private readonly lanes = new Map<string, Lane>();
  private readonly children = new Set<ChildProcess>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly outcomeListeners = new Set<(o: JobOutcome) => void>();
  private userIds: Promise<UserIds | undefined | 'unknown'> | undefined;
  private stopped = false;

  constructor(private readonly opts: NotifyRunnerOptions) {}

  /** Queues a job; false when it was not accepted (runner stopped). Never waits. */
  enqueue(job: NotifyJob): boolean {
    if (this.stopped) return false;
    let lane = this.lanes.get(job.key);
    if (!lane) {
      lane = { waiting: [], running: false };
      this.lanes.set(job.key, lane);
    }
    const max = this.opts.maxQueue ?? 16;
    if (lane.waiting.length >= max) {
      const dropped = lane.waiting.shift() as NotifyJob;
      this.counters.dropped++;
      this.opts.log.warn(`${dropped.label}: dropped, ${max} notify scripts already waiting for ${job.key}`, { argv: dropped.argv });
      this.emit({ job: dropped, result: 'dropped', detail: 'queue full' });
    }
    lane.waiting.push(job);
    this.counters.queued++;
    if (!lane.running) void this.drain(job.key, lane);
    return true;
  }

  onOutcome(listener: (o: JobOutcome) => void): () => void {
    this.outcomeListeners.add(listener);
    return () => this.outcomeListeners.delete(listener);
  }

  /** Resolves when no job is waiting or running (tests, shutdown). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops accepting jobs, drops waiting ones, kills running ones' process groups. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const lane of this.lanes.values()) {
      this.counters.dropped += lane.waiting.length;
      lane.waiting.length = 0;
    }
    for (const child of this.children) killGroup(child, 'SIGKILL');
    await this.idle();
  }

  private isIdle(): boolean {
    for (const lane of this.lanes.values()) if (lane.running || lane.waiting.length > 0) return false;
    return true;
  }

  private emit(o: JobOutcome): void {
    for (const l of this.outcomeListeners) {
      try {
        l(o);
      } catch {
        // a listener's failure is not the script's
      }
    }
  }

  private async drain(key: string, lane: Lane): Promise<void> {
    lane.running = true;
    while (lane.waiting.length > 0) {
      const job = lane.waiting.shift() as NotifyJob;
      const outcome = await this.runOne(job).catch((err: unknown): JobOutcome => ({ job, result: 'failed', detail: String(err) }));
      this.emit(outcome);
    }
    lane.running = false;
    if (lane.waiting.length === 0) this.lanes.delete(key);
    if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async runUser(): Promise<UserIds | undefined | 'unknown'> {
    if (this.opts.scriptUser === undefined) return undefined;
    this.userIds ??= lookupUser(this.opts.scriptUser, this.opts.passwdPath).then((u) => u ?? 'unknown');
    return this.userIds;
  }

  private async runOne(job: NotifyJob): Promise<JobOutcome> {
    const { log } = this.opts;
    const refuse = (why: string): JobOutcome => {
      this.counters.refused++;
      log.error(`${job.label}: not run: ${why}`, { argv: job.argv });
      return { job, result: 'refused', detail: why };
    };
    const cmd = job.argv[0];
    if (cmd === undefined || cmd === '') return refuse('empty command');
    const user = await this.runUser();
    if (user === 'unknown') return refuse(`script_user '${this.opts.scriptUser}' does not exist`);
    const resolved = await resolveCommand(cmd, this.opts.env?.PATH ?? process.env.PATH);
    if (!resolved.ok) return refuse(resolved.reason);
    const ourUid = this.opts.ourUid ?? process.getuid?.() ?? 0;
    const runsAsRoot = user ? user.uid === 0 : ourUid === 0;
    if (this.opts.scriptSecurity && runsAsRoot) {
      const why = await scriptInsecurity(resolved.path);
      if (why) return refuse(`enable_script_security: ${why}`);
    }

    this.counters.started++;
    const started = Date.now();
    return new Promise<JobOutcome>((resolve) => {
      let timedOut = false;
      let stderr = '';
      let child: ChildProcess;
      try {
        // spawn rather than execFile: execFile does not pass `detached` on, and the script needs
        // its own process group so the timeout can kill what it started (keepalived setpgid()s too).
        // No shell either way: argv goes to execve as is.
        child = spawn(resolved.path, job.argv.slice(1), {
          detached: true,
          shell: false,
          stdio: ['ignore', 'ignore', 'pipe'],
          env: this.opts.env ?? process.env,
          ...(user && user.uid !== ourUid ? { uid: user.uid, gid: user.gid } : {}),
        });
      } catch (err) {
        this.counters.failed++;
        log.error(`${job.label}: cannot start: ${(err as Error).message}`, { argv: job.argv });
        resolve({ job, result: 'failed', detail: (err as Error).message });
        return;
      }
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (d: string) => {
        if (stderr.length < 4096) stderr += d;
      });
      this.children.add(child);
      let killer: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child, 'SIGTERM');
        killer = setTimeout(() => killGroup(child, 'SIGKILL'), this.opts.killGraceMs ?? 2000);
        killer.unref();
      }, this.opts.timeoutMs);
      timer.unref();
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        // After a timeout the SIGKILL still goes out: the leader may be gone while children that ignored SIGTERM live on.
        if (!timedOut) clearTimeout(killer);
        this.children.delete(child);
        const ms = Date.now() - started;
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        if (timedOut) {
          this.counters.timed_out++;
          log.error(`${job.label}: killed after ${this.opts.timeoutMs} ms timeout (process group)`, { argv: job.argv });
          resolve({ job, result: 'timeout', detail: `killed after ${this.opts.timeoutMs} ms` });
        } else if (spawnError || code !== 0) {
          this.counters.failed++;
          const why = spawnError ? spawnError.message : code !== null ? `exit status ${code}` : `signal ${String(signal)}`;
          log.warn(`${job.label}: failed (${why}, ${ms} ms)${tail ? `: ${tail}` : ''}`, { argv: job.argv });
          resolve({ job, result: 'failed', detail: why });
        } else {
          this.counters.succeeded++;
          log.info(`${job.label}: ran (${ms} ms)`, { argv: job.argv });
          resolve({ job, result: 'ok', detail: `${ms} ms` });
        }
      };
      // 'exit', not 'close': a background process the script left behind may hold stderr open.
      child.on('exit', (code, signal) => setImmediate(() => finish(code, signal)));
      child.on('error', (err) => finish(null, null, err));
    });
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}
