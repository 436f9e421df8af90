/**
 * Coalesces and rate-limits reloads. Every reload closes idle keep-alive connections of the old
 * workers (measured: clients reusing a socket see ECONNRESET), so a burst of changes — several
 * upstream servers failing one after the other — becomes one reload, at most one per
 * `minIntervalMs`. `run` renders the state as it is when it runs, so the latest change wins.
 * Every caller gets the outcome of the run that covered its request.
 */
export class ReloadScheduler<R> {
  private pending: { reasons: string[]; waiters: ((r: R) => void)[] } | undefined;
  private busy = false;
  private lastRunAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly run: (reasons: string[]) => Promise<R>,
    private minIntervalMs: number,
    /** Whether a result reloaded Nginx (only those count against the rate). */
    private readonly reloaded: (r: R) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  setMinInterval(ms: number): void {
    this.minIntervalMs = ms;
  }

  request(reason: string): Promise<R> {
    return new Promise((resolve) => {
      if (!this.pending) this.pending = { reasons: [], waiters: [] };
      this.pending.reasons.push(reason);
      this.pending.waiters.push(resolve);
      void this.drain();
    });
  }

  get queued(): number {
    return this.pending?.reasons.length ?? 0;
  }

  /** Pending requests are dropped (their promises never settle); a running apply finishes. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.pending && !this.stopped) {
        const wait = this.lastRunAt + this.minIntervalMs - this.now();
        if (wait > 0) {
          await new Promise<void>((r) => {
            this.wake = r;
            this.timer = setTimeout(r, wait);
          });
          continue;
        }
        const batch = this.pending;
        this.pending = undefined;
        const result = await this.run(batch.reasons);
        if (this.reloaded(result)) this.lastRunAt = this.now();
        for (const w of batch.waiters) w(result);
      }
    } finally {
      this.busy = false;
    }
  }
}
