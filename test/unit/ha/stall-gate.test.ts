// The stall gate's shell (src/ha/stall-gate.ts) around the pure StallWatch: a check that starts
// after a stall must end, whatever the order of the clock it reads and of the timer that wakes it.
// Found by bench/soak.mjs (issue 22): a Node timer may run a fraction of a millisecond before
// performance.now() reaches the time it was set for (libuv counts whole milliseconds); the gate's
// decide timer then found the check not ready and armed no other one, and the box held its
// adverts, its serial frames and its VRRP timers for good (a master that never came back after a
// link flap; a BACKUP at start-up that never took over).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../../src/daemon/events';
import { StallGate } from '../../../src/ha/stall-gate';
import { Logger, memorySink } from '../../../src/log';

const PAIR = { thresholdMs: 90, settleMs: 300, serial: true };

function gateOn(clock: { t: number }) {
  const sink = memorySink();
  const log = new Logger({ sink, level: 'debug', format: 'text' }).for('vrrp');
  const alarms: unknown[] = [];
  const bus = new EventBus();
  bus.on('alarm', (a) => alarms.push(a));
  const gate = new StallGate(PAIR, { log, bus, runner: () => undefined, now: () => clock.t });
  return { gate, lines: sink.lines, alarms };
}

describe('stall gate: a check always ends', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('its deadline timer fires while the clock is still a fraction of a ms short: it waits again, then decides and lets the held timers go', () => {
    const clock = { t: 0 };
    const { gate, lines, alarms } = gateOn(clock);
    gate.start();
    clock.t = 1000;
    expect(gate.beat()).toBe(false); // a 1000 ms gap: a check starts, the HA path sends nothing
    expect(gate.holding).toBe(true);
    const held = vi.fn();
    gate.guard(held)();
    expect(held).not.toHaveBeenCalled();

    // The deadline is 1000 + 300 ms. The timer fires; the gate's clock reads 0.05 ms short.
    clock.t = 1299.95;
    vi.advanceTimersByTime(301);
    expect(gate.holding).toBe(true);

    // Time goes on: the check is decided (no news from the twin: carry on), held work runs.
    clock.t = 1302;
    vi.advanceTimersByTime(5);
    expect(gate.holding).toBe(false);
    expect(held).toHaveBeenCalledTimes(1);
    expect(lines.some((l) => /stall of 1000 ms checked in 302 ms: the twin has not taken over/.test(l))).toBe(true);
    expect(alarms).toHaveLength(1);
  });

  it('a timer on time decides once, with one alarm', () => {
    const clock = { t: 0 };
    const { gate, alarms } = gateOn(clock);
    gate.start();
    clock.t = 500;
    gate.beat();
    const held = vi.fn();
    gate.guard(held)();
    clock.t = 801;
    vi.advanceTimersByTime(301);
    expect(gate.holding).toBe(false);
    expect(held).toHaveBeenCalledTimes(1);
    clock.t = 2000;
    vi.advanceTimersByTime(2000);
    expect(alarms).toHaveLength(1);
  });

  it('start-up is no stall: before start() a long gap notices nothing; after it, gaps count from start()', () => {
    const clock = { t: 0 };
    const { gate, lines, alarms } = gateOn(clock);
    clock.t = 140; // the HA side still starting (the serial port's modules load) while VRRP runs
    expect(gate.beat()).toBe(true);
    const early = vi.fn();
    gate.guard(early)();
    expect(early).toHaveBeenCalledTimes(1);
    clock.t = 400;
    gate.start();
    clock.t = 480;
    expect(gate.beat()).toBe(true);
    clock.t = 700; // 220 ms without a beat after start(): a stall
    expect(gate.beat()).toBe(false);
    expect(lines.filter((l) => /HA path stalled for 220 ms/.test(l))).toHaveLength(1);
    gate.stop();
    clock.t = 5000; // stopped: nothing is noticed or held any more
    expect(gate.beat()).toBe(true);
    expect(alarms).toHaveLength(0);
  });
});

describe('stall gate: covered by another periodic beat (issue 22: one wake-up per period)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('its own watch timer runs only while no other timer beats at least as often; beats still notice a stall', () => {
    const clock = { t: 0 };
    const { gate } = gateOn(clock); // threshold 90 ms: the watch beats every 22 ms
    gate.start();
    expect(vi.getTimerCount()).toBe(1);
    gate.coveredBy(20);
    expect(vi.getTimerCount()).toBe(0);
    // The covering timer's beats are the watch's: a 1000 ms gap between two is a stall.
    clock.t = 10;
    expect(gate.beat()).toBe(true);
    clock.t = 1010;
    expect(gate.beat()).toBe(false);
    expect(gate.holding).toBe(true);
    clock.t = 1400;
    vi.advanceTimersByTime(400);
    expect(gate.holding).toBe(false);
    // A slower covering timer is not enough, and a stopped one gives the watch its timer back.
    gate.coveredBy(100);
    expect(vi.getTimerCount()).toBe(1);
    gate.coveredBy(20);
    gate.coveredBy(undefined);
    expect(vi.getTimerCount()).toBe(1);
    gate.stop();
    expect(vi.getTimerCount()).toBe(0);
    gate.coveredBy(20);
    gate.coveredBy(undefined);
    expect(vi.getTimerCount()).toBe(0);
  });
});
