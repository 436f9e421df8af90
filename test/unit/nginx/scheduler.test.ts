import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReloadScheduler } from '../../../src/nginx';
import { effectiveDown } from '../../../src/nginx';
import { parseStubStatus } from '../../../src/nginx/stub-status';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ReloadScheduler', () => {
  it('runs the first request at once, coalesces the ones made while it runs into one, and spaces reloads by min interval', async () => {
    const runs: { at: number; reasons: string[] }[] = [];
    const s = new ReloadScheduler(async (reasons) => {
      runs.push({ at: Date.now(), reasons });
      await new Promise((r) => setTimeout(r, 100));
      return 'reloaded';
    }, 1000, () => true);
    const p1 = s.request('a');
    const p2 = s.request('b');
    const p3 = s.request('c');
    await vi.advanceTimersByTimeAsync(50);
    const p4 = s.request('d');
    await vi.advanceTimersByTimeAsync(5000);
    await Promise.all([p1, p2, p3, p4]);
    expect(runs).toEqual([
      { at: 0, reasons: ['a'] },
      // b, c (queued while a ran) and d become one run, min interval after a's reload finished.
      { at: 1100, reasons: ['b', 'c', 'd'] },
    ]);
  });

  it('does not rate-limit runs that did not reload (skipped, unchanged)', async () => {
    const runs: number[] = [];
    const s = new ReloadScheduler(async () => {
      runs.push(Date.now());
      return 'skipped';
    }, 1000, (r) => r === 'reloaded');
    await s.request('a');
    await s.request('b');
    expect(runs).toEqual([0, 0]);
  });
});

describe('effectiveDown', () => {
  const groups = {
    g: { balance: 'round_robin' as const, hash_consistent: false, servers: [
      { address: '10.0.0.1', port: 80, weight: 1, max_fails: 1, fail_timeout: 10, backup: false },
      { address: '10.0.0.2', port: 80, weight: 1, max_fails: 1, fail_timeout: 10, backup: false },
    ] },
  };
  it('marks failing servers down unless that would be all of the group', () => {
    expect(effectiveDown(groups, new Set(['g/10.0.0.1:80']))).toEqual({ down: new Set(['g/10.0.0.1:80']), failOpen: [] });
    expect(effectiveDown(groups, new Set(['g/10.0.0.1:80', 'g/10.0.0.2:80']))).toEqual({ down: new Set(), failOpen: ['g'] });
    expect(effectiveDown(groups, new Set(['other/10.0.0.1:80']))).toEqual({ down: new Set(), failOpen: [] });
  });
});

describe('parseStubStatus', () => {
  it('reads the counters of stub_status', () => {
    const text = 'Active connections: 2 \nserver accepts handled requests\n 10 10 31 \nReading: 0 Writing: 1 Waiting: 1 \n';
    expect(parseStubStatus(text)).toEqual({ active: 2, accepts: 10, handled: 10, requests: 31, reading: 0, writing: 1, waiting: 1 });
    expect(parseStubStatus('nope')).toBeUndefined();
  });
});
