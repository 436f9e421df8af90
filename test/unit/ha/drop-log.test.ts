// The drop log's rate limit (issue 15: a stray advert once a second, or a flood, must be counted
// every time but logged only now and then, with the count of lines held back).
import { describe, expect, it } from 'vitest';
import { DropLogLimiter } from '../../../src/ha/vrrp/drop-log';

describe('DropLogLimiter', () => {
  it('logs each new source once per window, at most `burst` lines, and says how many were held back', () => {
    const l = new DropLogLimiter(60_000, 3);
    const key = 'VI_1/address-list';
    expect(l.admit(key, '10.0.0.50', 0)).toEqual({ log: true, held: 0 });
    // The same source again within the window: counted, not logged (a neighbour once a second).
    for (let t = 1000; t <= 59_000; t += 1000) expect(l.admit(key, '10.0.0.50', t).log).toBe(false);
    // Two more sources get their line; a fourth is over the burst.
    expect(l.admit(key, '10.0.0.51', 59_100)).toEqual({ log: true, held: 59 });
    expect(l.admit(key, '10.0.0.52', 59_200)).toEqual({ log: true, held: 0 });
    expect(l.admit(key, '10.0.0.53', 59_300)).toEqual({ log: false, held: 1 });
    // Next window: the first line carries what the last window held back.
    expect(l.admit(key, '10.0.0.50', 60_000)).toEqual({ log: true, held: 1 });
  });

  it('keeps keys (instance and reason) apart, and forgets a removed instance', () => {
    const l = new DropLogLimiter(60_000, 1);
    expect(l.admit('VI_1/address-list', 's', 0).log).toBe(true);
    expect(l.admit('VI_1/not-twin', 's', 0).log).toBe(true);
    expect(l.admit('VI_2/address-list', 's', 0).log).toBe(true);
    expect(l.admit('VI_1/address-list', 's', 1).log).toBe(false);
    l.forget('VI_1/');
    expect(l.admit('VI_1/address-list', 's', 2)).toEqual({ log: true, held: 0 });
    expect(l.admit('VI_2/address-list', 's', 2).log).toBe(false);
  });

  it('a flood from spoofed sources logs `burst` lines per window, whatever the number of sources', () => {
    const l = new DropLogLimiter(60_000, 3);
    let lines = 0;
    for (let i = 0; i < 20_000; i++) if (l.admit('VI_1/not-twin', `10.1.${i >> 8}.${i & 255}`, i).log) lines++;
    expect(lines).toBe(3);
  });
});
