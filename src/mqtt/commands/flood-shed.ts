// When to stop listening. The token bucket (rate-limit.ts) already drops a flood unread, but every
// dropped request has still crossed the network and been parsed as an MQTT packet on the main
// thread: a flood of small requests took 45 % of a CPU and pushed the advert jitter's p99 from
// 9 ms to 90 ms (bench/README.md "fleet flood"). Past a threshold of dropped requests per window
// the box therefore unsubscribes from its request topics for a pause, so the broker stops sending
// them at all; it listens again after the pause, and a flood still going on at once pauses it
// again for twice as long (up to a ceiling). After a calm period without a new pause, the pause
// length starts from the beginning again and the alarm clears.
// Pure: the caller passes the time; the intake turns decisions into (un)subscribes and timers.

export interface FloodShedOptions {
  /** Requests dropped by the rate limit within `windowMs` that start a pause; 0 never pauses. */
  threshold: number;
  windowMs: number;
  /** The first pause; doubled for each pause that follows a resume within `calmMs`. */
  pauseMs: number;
  maxPauseMs: number;
  /** Listening this long after a resume without a new pause ends the episode. */
  calmMs: number;
}

export interface PauseDecision {
  /** How long not to listen. */
  pauseMs: number;
  /** Requests dropped in the window that triggered it. */
  dropped: number;
  /** 1 for the first pause of an episode, then 2, 3... */
  pauseNumber: number;
}

export class FloodShedPolicy {
  private windowStart = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  private pausedUntil: number | undefined;
  private resumedAt: number | undefined;
  private strikes = 0;
  /** When the current episode (first pause until calm) began; undefined when calm. */
  private episodeStart: number | undefined;

  constructor(readonly opts: FloodShedOptions) {}

  get paused(): boolean {
    return this.pausedUntil !== undefined;
  }

  /** True from the first pause until the calm period after the last resume has passed. */
  get flooding(): boolean {
    return this.episodeStart !== undefined;
  }

  /** A request the rate limit dropped; a decision to pause when the window is full. */
  dropped(now: number): PauseDecision | undefined {
    if (this.opts.threshold <= 0 || this.pausedUntil !== undefined) return undefined;
    if (now - this.windowStart >= this.opts.windowMs) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    this.inWindow++;
    if (this.inWindow < this.opts.threshold) return undefined;
    const dropped = this.inWindow;
    this.inWindow = 0;
    this.windowStart = Number.NEGATIVE_INFINITY;
    const again = this.resumedAt !== undefined && now - this.resumedAt < this.opts.calmMs;
    this.strikes = again ? this.strikes + 1 : 0;
    if (!again || this.episodeStart === undefined) this.episodeStart = now;
    const pauseMs = Math.min(this.opts.maxPauseMs, this.opts.pauseMs * 2 ** Math.min(this.strikes, 30));
    this.pausedUntil = now + pauseMs;
    this.resumedAt = undefined;
    return { pauseMs, dropped, pauseNumber: this.strikes + 1 };
  }

  /** The pause is over (the caller's timer fired): listening again. */
  resume(now: number): void {
    if (this.pausedUntil === undefined) return;
    this.pausedUntil = undefined;
    this.resumedAt = now;
    this.windowStart = Number.NEGATIVE_INFINITY;
    this.inWindow = 0;
  }

  /**
   * The caller's check `calmMs` after a resume: when no pause came since, the episode is over;
   * returns its length (first pause to now) so the alarm can say how long it lasted.
   */
  calm(now: number): number | undefined {
    if (this.pausedUntil !== undefined || this.resumedAt === undefined || this.episodeStart === undefined) return undefined;
    if (now - this.resumedAt < this.opts.calmMs) return undefined;
    const lasted = now - this.episodeStart;
    this.episodeStart = undefined;
    this.resumedAt = undefined;
    this.strikes = 0;
    return lasted;
  }
}
