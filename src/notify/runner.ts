import { currentPolicy, runProgram, ScriptPolicy, type PolicySource, type RunningProgram } from '../exec';

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
  /** The shared policy (src/exec), or a getter of the running config's; built from scriptSecurity/scriptUser when not given. */
  policy?: PolicySource;
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
  private readonly children = new Set<RunningProgram>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly outcomeListeners = new Set<(o: JobOutcome) => void>();
  private readonly policy: PolicySource;
  private stopped = false;

  constructor(private readonly opts: NotifyRunnerOptions) {
    this.policy =
      opts.policy ??
      new ScriptPolicy({
        security: opts.scriptSecurity,
        ...(opts.scriptUser === undefined ? {} : { defaultUser: opts.scriptUser }),
        ...(opts.env?.PATH === undefined ? {} : { pathEnv: opts.env.PATH }),
        ...(opts.ourUid === undefined ? {} : { ourUid: opts.ourUid }),
        ...(opts.passwdPath === undefined ? {} : { passwdPath: opts.passwdPath }),
      });
  }

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
    for (const child of this.children) child.kill('SIGKILL');
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

  private async runOne(job: NotifyJob): Promise<JobOutcome> {
    const { log } = this.opts;
    const refuse = (why: string): JobOutcome => {
      this.counters.refused++;
      log.error(`${job.label}: not run: ${why}`, { argv: job.argv });
      return { job, result: 'refused', detail: why };
    };
    const prepared = await currentPolicy(this.policy).prepare(job.argv);
    if (!prepared.ok) return refuse(prepared.reason);
    const program = prepared.program;
    if (program.insecure) log.warn(`${job.label}: runs although unsafe (enable_script_security is off): ${program.insecure}`, { argv: job.argv });

    this.counters.started++;
    const running = runProgram(program, {
      timeoutMs: this.opts.timeoutMs,
      killGraceMs: this.opts.killGraceMs ?? 2000,
      // keepalived leaves what a notify script started in the background alone (a service it
      // launched, say); only a timeout takes the whole group down.
      killGroupOnExit: false,
      ...(this.opts.env ? { env: this.opts.env } : {}),
    });
    this.children.add(running);
    const r = await running.done;
    this.children.delete(running);
    const tail = r.stderr.trim().split('\n').slice(-3).join(' | ');
    switch (r.outcome) {
      case 'timeout':
      case 'aborted':
        this.counters.timed_out++;
        log.error(`${job.label}: killed after ${this.opts.timeoutMs} ms timeout (process group)`, { argv: job.argv });
        return { job, result: 'timeout', detail: `killed after ${this.opts.timeoutMs} ms` };
      case 'spawn-failed':
        this.counters.failed++;
        log.error(`${job.label}: cannot start: ${r.error ?? 'unknown error'}`, { argv: job.argv });
        return { job, result: 'failed', detail: r.error ?? 'cannot start' };
      case 'exited':
        if (r.code === 0) {
          this.counters.succeeded++;
          log.info(`${job.label}: ran (${r.ms} ms)`, { argv: job.argv });
          return { job, result: 'ok', detail: `${r.ms} ms` };
        } else {
          this.counters.failed++;
          const why = r.code !== null ? `exit status ${r.code}` : `signal ${String(r.signal)}`;
          log.warn(`${job.label}: failed (${why}, ${r.ms} ms)${tail ? `: ${tail}` : ''}`, { argv: job.argv });
          return { job, result: 'failed', detail: why };
        }
    }
  }
}
