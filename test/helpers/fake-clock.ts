// The one fake clock of the unit tests: a discrete-event scheduler. Nothing moves until
// runUntil(); events run in time order, those at the same instant in the order they were
// scheduled. It is the VRRP runner's RunnerClock (now, schedule with cancel) and the simulated
// network's clock (at, after).

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock {
  private t: number;
  private seq = 0;
  private heap: Entry[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Runs `fn` at `at` (a time already past runs at the next runUntil, without moving the clock back). Returns a cancel function. */
  schedule(at: number, fn: () => void): () => void {
    const e: Entry = { at, seq: this.seq++, fn, cancelled: false };
    this.push(e);
    return () => {
      e.cancelled = true;
    };
  }

  /** Like schedule, for a simulation's own events: a time in the past is a bug of the test. */
  at(time: number, fn: () => void): void {
    if (time < this.t) throw new Error(`scheduled in the past: ${time} < ${this.t}`);
    this.schedule(time, fn);
  }

  after(delayMs: number, fn: () => void): void {
    this.at(this.t + delayMs, fn);
  }

  /** Runs every event due at or before `until`, then leaves the clock at `until` (never earlier than now). */
  runUntil(until: number): void {
    for (let top = this.heap[0]; top !== undefined && top.at <= until; top = this.heap[0]) {
      this.pop();
      if (top.cancelled) continue;
      this.t = Math.max(this.t, top.at);
      top.fn();
    }
    this.t = Math.max(this.t, until);
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
