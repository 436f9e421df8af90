import { describe, expect, it } from 'vitest';
import { masterDownIntervalMs, skewTimeMs } from '../../../src/vrrp/timers';

describe('Skew_Time and Master_Down_Interval (RFC 3768 §6.1, RFC 5798 §6.1)', () => {
  it('v2 skew is (256 - priority)/256 s, independent of the advert interval', () => {
    expect(skewTimeMs(2, 100, 100)).toBe(609.375);
    expect(skewTimeMs(2, 100, 500)).toBe(609.375);
    expect(skewTimeMs(2, 150, 100)).toBe(414.0625);
    expect(skewTimeMs(2, 255, 100)).toBe(3.90625);
    expect(skewTimeMs(2, 1, 100)).toBe(996.09375);
  });

  it('v3 skew is ((256 - priority) x Master_Adver_Interval)/256 centiseconds', () => {
    expect(skewTimeMs(3, 100, 100)).toBe(609.375);
    expect(skewTimeMs(3, 100, 50)).toBe(304.6875);
    expect(skewTimeMs(3, 200, 10)).toBe(21.875);
  });

  it('Master_Down_Interval = 3 x Master_Adver_Interval + Skew_Time', () => {
    expect(masterDownIntervalMs(2, 100, 100)).toBe(3609.375);
    expect(masterDownIntervalMs(2, 100, 200)).toBe(6609.375);
    expect(masterDownIntervalMs(2, 150, 100)).toBe(3414.0625);
    expect(masterDownIntervalMs(3, 100, 50)).toBe(1804.6875);
    expect(masterDownIntervalMs(3, 254, 1)).toBeCloseTo(30 + 2 * 10 / 256, 12);
  });

  it('a higher priority always times out first (the election converges on it)', () => {
    for (let p = 1; p < 255; p++) {
      expect(masterDownIntervalMs(2, p + 1, 100)).toBeLessThan(masterDownIntervalMs(2, p, 100));
      expect(masterDownIntervalMs(3, p + 1, 100)).toBeLessThan(masterDownIntervalMs(3, p, 100));
    }
  });
});
