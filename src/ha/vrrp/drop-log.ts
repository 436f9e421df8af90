// How often a dropped advert gets a log line (and an alarm event): every drop is counted, but a
// flood, or a neighbour advertising once a second on our VRID, must not fill the journal. Per
// key (instance and reason): each new source gets a line, at most `burst` lines per window; a
// source already reported in this window is only counted, and the next line that gets through
// says how many were held back. Time comes in as an argument.

interface Window {
  start: number;
  used: number;
  held: number;
  sources: Set<string>;
}

export class DropLogLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly burst = 3,
  ) {}

  /** Whether to log this drop now; `held` = drops of this key not logged since the last line. */
  admit(key: string, source: string, now: number): { log: boolean; held: number } {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      const held = w?.held ?? 0;
      w = { start: now, used: 0, held, sources: new Set() };
      this.windows.set(key, w);
    }
    if (w.sources.has(source) || w.used >= this.burst) {
      w.held++;
      return { log: false, held: w.held };
    }
    w.used++;
    w.sources.add(source);
    const held = w.held;
    w.held = 0;
    return { log: true, held };
  }

  /** Forget an instance's windows (it was removed by a reload). */
  forget(prefix: string): void {
    for (const k of this.windows.keys()) if (k.startsWith(prefix)) this.windows.delete(k);
  }
}
