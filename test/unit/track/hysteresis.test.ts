import { describe, expect, it } from 'vitest';
import { Hysteresis } from '../../../src/track';

const feed = (h: Hysteresis, results: boolean[]) => results.map((r) => h.feed(r));

describe('Hysteresis (rise/fall)', () => {
  it('decides at the first result when the state is unknown', () => {
    const h = new Hysteresis(3, 3);
    expect(h.state).toBeUndefined();
    expect(h.feed(false)).toBe(true);
    expect(h.state).toBe(false);
  });

  it('goes down after exactly `fall` failures in a row and up after exactly `rise` successes', () => {
    const h = new Hysteresis(2, 3, true);
    expect(feed(h, [false, false])).toEqual([false, false]);
    expect(h.state).toBe(true);
    expect(h.feed(false)).toBe(true);
    expect(h.state).toBe(false);
    expect(h.feed(true)).toBe(false);
    expect(h.feed(true)).toBe(true);
    expect(h.state).toBe(true);
  });

  it('restarts the count when a result agrees with the state (no flapping)', () => {
    const h = new Hysteresis(1, 3, true);
    expect(feed(h, [false, false, true, false, false, true, false, false])).toEqual(new Array(8).fill(false));
    expect(h.state).toBe(true);
    expect(h.pending).toBe(2);
    expect(h.feed(false)).toBe(true);
    expect(h.pending).toBe(0);
  });

  it('refuses rise or fall below 1', () => {
    expect(() => new Hysteresis(0, 1)).toThrow();
    expect(() => new Hysteresis(1, 0)).toThrow();
  });
});
