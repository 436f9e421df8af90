// Discrete-event scheduler with a fake clock: the simulated network's only notion of time.
// Events at the same instant run in the order they were scheduled.

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
}

export class Scheduler {
  now = 0;
  private seq = 0;
  private heap: Entry[] = [];

  at(time: number, fn: () => void): void {
    if (time < this.now) throw new Error(`scheduled in the past: ${time} < ${this.now}`);
    this.push({ at: time, seq: this.seq++, fn });
  }

  after(delayMs: number, fn: () => void): void {
    this.at(this.now + delayMs, fn);
  }

  /** Run every event due at or before `until`, then leave the clock at `until`. */
  runUntil(until: number): void {
    for (let top = this.heap[0]; top !== undefined && top.at <= until; top = this.heap[0]) {
      this.pop();
      this.now = top.at;
      top.fn();
    }
    this.now = Math.max(this.now, until);
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
