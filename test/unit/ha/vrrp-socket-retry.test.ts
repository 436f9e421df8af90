import { describe, expect, it } from 'vitest';
import { RETRY_MS, firstRetryDelay } from '../../../src/ha/vrrp/extension';

describe('firstRetryDelay (a broken VRRP socket)', () => {
  it('starts at the initial delay the first time', () => {
    expect(firstRetryDelay(undefined, undefined)).toBe(RETRY_MS.initial);
  });

  it('keeps the back-off when the reopened socket broke again soon', () => {
    expect(firstRetryDelay(40_000, 2_000)).toBe(40_000);
    expect(firstRetryDelay(RETRY_MS.max, RETRY_MS.stable - 1)).toBe(RETRY_MS.max);
  });

  it('starts over once the reopened socket has worked for the stable time', () => {
    expect(firstRetryDelay(RETRY_MS.max, RETRY_MS.stable)).toBe(RETRY_MS.initial);
    expect(firstRetryDelay(20_000, 3_600_000)).toBe(RETRY_MS.initial);
  });
});
