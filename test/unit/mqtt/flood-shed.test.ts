// The flood-shed policy alone, on a fake clock: when a flood of dropped requests makes the box
// stop listening, for how long, and when the episode is over.
import { describe, expect, it } from 'vitest';
import { FloodShedPolicy } from '../../../src/mqtt/commands/flood-shed';

const policy = (threshold = 5) => new FloodShedPolicy({ threshold, windowMs: 1000, pauseMs: 10_000, maxPauseMs: 40_000, calmMs: 60_000 });
const drops = (p: FloodShedPolicy, n: number, at: number) => {
  let d;
  for (let k = 0; k < n && !d; k++) d = p.dropped(at);
  return d;
};

describe('flood-shed policy', () => {
  it('pauses when threshold drops fall within one window, not when they are spread out', () => {
    const p = policy();
    expect(drops(p, 4, 0)).toBeUndefined();
    expect(drops(p, 4, 1000)).toBeUndefined(); // a new window
    expect(p.paused).toBe(false);
    expect(p.dropped(1500)).toEqual({ pauseMs: 10_000, dropped: 5, pauseNumber: 1 });
    expect(p.paused && p.flooding).toBe(true);
    expect(p.dropped(1600)).toBeUndefined(); // drops while paused decide nothing
  });

  it('doubles the pause while the flood goes on after each resume, up to the ceiling', () => {
    const p = policy();
    let now = 0;
    const seen: number[] = [];
    for (let k = 0; k < 5; k++) {
      const d = drops(p, 5, now)!;
      seen.push(d.pauseMs);
      expect(d.pauseNumber).toBe(k + 1);
      now += d.pauseMs;
      p.resume(now);
      now += 100;
    }
    expect(seen).toEqual([10_000, 20_000, 40_000, 40_000, 40_000]);
  });

  it('the episode ends after calmMs of listening without a pause; the next starts from the first pause again', () => {
    const p = policy();
    drops(p, 5, 0);
    p.resume(10_000);
    expect(p.calm(69_999)).toBeUndefined();
    expect(p.flooding).toBe(true);
    expect(p.calm(70_000)).toBe(70_000);
    expect(p.flooding).toBe(false);
    expect(p.calm(80_000)).toBeUndefined(); // once
    expect(drops(p, 5, 200_000)).toMatchObject({ pauseMs: 10_000, pauseNumber: 1 });
    // A flood more than calmMs after a resume, even without a calm() call, starts over too.
    p.resume(210_000);
    expect(drops(p, 5, 271_000)).toMatchObject({ pauseMs: 10_000, pauseNumber: 1 });
  });

  it('never pauses with threshold 0', () => {
    const p = policy(0);
    expect(drops(p, 100_000, 0)).toBeUndefined();
  });
});
