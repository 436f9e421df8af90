import { describe, expect, it } from 'vitest';
import { GarpScheduler, type Timers } from '../../../src/net/garp-scheduler';

class FakeTimers implements Timers {
  now = 0;
  private seq = 0;
  private pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const next = [...this.pending.entries()].filter(([, t]) => t.at <= end).sort((x, y) => x[1].at - y[1].at)[0];
      if (!next) break;
      this.pending.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = end;
  }
  get size(): number {
    return this.pending.size;
  }
}

describe('GARP scheduler', () => {
  it('sends a burst at once and a second after the delay, like garp_master_delay/repeat', () => {
    const t = new FakeTimers();
    const sent: [number, string][] = [];
    const s = new GarpScheduler((v) => sent.push([t.now, v]), t);
    s.start('VI_1', ['10.0.0.1', 'fd00::1'], { repeat: 2, delayMs: 5000, refreshMs: 0, refreshRepeat: 1, intervalMs: 0 });
    expect(sent).toEqual([[0, '10.0.0.1'], [0, 'fd00::1'], [0, '10.0.0.1'], [0, 'fd00::1']]);
    t.advance(4999);
    expect(sent.length).toBe(4);
    t.advance(1);
    expect(sent.slice(4).map((x) => x[0])).toEqual([5000, 5000, 5000, 5000]);
    expect(s.active('VI_1')).toBe(false);
    expect(t.size).toBe(0);
  });

  it('spaces a burst by the interval and refreshes periodically until stopped', () => {
    const t = new FakeTimers();
    const at: number[] = [];
    const s = new GarpScheduler(() => at.push(t.now), t);
    s.start('VI_1', ['10.0.0.1'], { repeat: 3, delayMs: 0, refreshMs: 1000, refreshRepeat: 1, intervalMs: 10 });
    t.advance(2500);
    expect(at).toEqual([0, 10, 20, 1000, 2000]);
    s.stop('VI_1');
    t.advance(5000);
    expect(at.length).toBe(5);
    expect(t.size).toBe(0);
  });

  it('a restart replaces the running plan (no doubled bursts)', () => {
    const t = new FakeTimers();
    let n = 0;
    const s = new GarpScheduler(() => n++, t);
    const plan = { repeat: 1, delayMs: 100, refreshMs: 0, refreshRepeat: 1, intervalMs: 0 };
    s.start('VI_1', ['10.0.0.1'], plan);
    s.start('VI_1', ['10.0.0.1'], plan);
    t.advance(1000);
    expect(n).toBe(3);
  });
});
