import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckRunner, checkRunnerFromConfig, type ProbeResult, type TrackEvent } from '../../../src/track';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A probe whose results the test scripts; `hang` never answers (until aborted). */
function scripted(results: (boolean | 'hang')[]) {
  let i = 0;
  const calls: number[] = [];
  const probe = (signal: AbortSignal) => {
    calls.push(Date.now());
    const r = results[Math.min(i++, results.length - 1)];
    if (r === 'hang') {
      return new Promise<ProbeResult>((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, detail: 'aborted' })));
    }
    return Promise.resolve({ ok: r === true, detail: r ? 'good' : 'bad' });
  };
  return { probe, calls };
}

describe('CheckRunner', () => {
  it('runs every interval and emits only transitions, with rise/fall', async () => {
    const s = scripted([true, true, false, false, false, true, true]);
    const r = new CheckRunner({ name: 'gw', probe: s.probe, intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3 });
    const events: TrackEvent[] = [];
    r.on((e) => events.push(e));
    r.start();
    await vi.advanceTimersByTimeAsync(6_500);
    r.stop();
    expect(s.calls.map((t) => t - 1_000_000)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000]);
    expect(events.map((e) => [e.up, e.at - 1_000_000])).toEqual([[true, 0], [false, 4000], [true, 6000]]);
    expect(events[1]!.cause).toMatch(/bad \(3 failures in a row\)/);
    expect(r.counters).toMatchObject({ runs: 7, failures: 3, transitions: 3 });
  });

  it('counts a run that exceeds the timeout as a failure and aborts it', async () => {
    const s = scripted(['hang']);
    const r = new CheckRunner({ name: 'slow', probe: s.probe, intervalMs: 1000, timeoutMs: 300, rise: 1, fall: 1, initial: true });
    const events: TrackEvent[] = [];
    r.on((e) => events.push(e));
    r.start();
    await vi.advanceTimersByTimeAsync(350);
    expect(r.up).toBe(false);
    expect(r.counters.timeouts).toBe(1);
    expect(events).toHaveLength(1);
    r.stop();
  });

  it('stops running after stop()', async () => {
    const s = scripted([true]);
    const r = new CheckRunner({ name: 'x', probe: s.probe, intervalMs: 100, timeoutMs: 50, rise: 1, fall: 1 });
    r.start();
    await vi.advanceTimersByTimeAsync(250);
    r.stop();
    const n = s.calls.length;
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.calls.length).toBe(n);
  });

  it('builds runners from the checks section as it is (seconds to ms, every type)', () => {
    const common = { interval: 2, timeout: 1, rise: 2, fall: 3 };
    for (const c of [
      { type: 'tcp' as const, host: '127.0.0.1', port: 80, ...common },
      { type: 'http' as const, url: 'http://127.0.0.1/', status: [200], tls_verify: true, ...common },
      { type: 'ping' as const, host: '127.0.0.1', count: 1, ...common },
      { type: 'script' as const, script: '/bin/true', ...common },
    ]) {
      const r = checkRunnerFromConfig('c', c);
      expect(r.ok).toBe(true);
    }
  });
});
