import { describe, expect, it } from 'vitest';
import { StallWatch, stallAdvertBudgetMs, stallMinSettleMs, stallSettleMs, stallThresholdMs } from '../../../src/heartbeat/stall';

const pair = { thresholdMs: 400, settleMs: 300, serial: true };
const plain = { thresholdMs: 2000, settleMs: 100, serial: false };

describe('stall watch: noticing a stall of the HA path', () => {
  it('a gap up to the threshold is no stall; a longer one starts one check with its length', () => {
    const w = new StallWatch(pair, 0);
    for (let t = 100; t <= 1000; t += 100) expect(w.beat(t)).toBeNull();
    expect(w.beat(1400)).toBeNull(); // exactly the threshold
    expect(w.checking).toBe(false);
    expect(w.beat(6400)).toEqual({ wokeAt: 6400, stalledMs: 5000 });
    expect(w.checking).toBe(true);
    // Beats during the check start no second one, however late.
    expect(w.beat(9000)).toBeNull();
  });

  it('restart() forgets the time before the HA path ran (start-up is no stall)', () => {
    const w = new StallWatch(pair, 0);
    w.restart(10_000);
    expect(w.beat(10_100)).toBeNull();
  });

  it('refuses a threshold that is not positive', () => {
    expect(() => new StallWatch({ ...pair, thresholdMs: 0 }, 0)).toThrow(/positive/);
  });
});

describe('stall watch: the verdict after waking', () => {
  it("the twin's first fresh heartbeat claims MASTER: our MASTER of that instance steps down, decided at once", () => {
    const w = new StallWatch(pair, 0);
    w.beat(5000);
    expect(w.ready(5001)).toBe(false);
    expect(w.serialFrame(['VI_1'], 5000)).toBe(true);
    expect(w.ready(5050)).toBe(true);
    expect(w.decide(5050, ['VI_1', 'VI_2'])).toEqual({ wokeAt: 5000, stalledMs: 5000, stepDown: ['VI_1'], evidence: 'serial', checkMs: 50 });
    expect(w.checking).toBe(false);
    // Beats carry on from the verdict, not from before the stall.
    expect(w.beat(5100)).toBeNull();
  });

  it('a heartbeat sent before we woke (it waited in the tty) does not count: the twin may have taken over since', () => {
    const w = new StallWatch(pair, 0);
    w.beat(5000);
    expect(w.serialFrame([], 4950)).toBe(false);
    expect(w.ready(5010)).toBe(false);
    expect(w.serialFrame(['VI_1'], 5060)).toBe(true);
    expect(w.decide(5070, ['VI_1'])).toMatchObject({ stepDown: ['VI_1'], evidence: 'serial' });
  });

  it('a fresh heartbeat without a MASTER claim: nothing steps down, even if adverts of the twin waited in the socket', () => {
    const w = new StallWatch(pair, 0);
    w.beat(3000);
    w.advert('VI_1', 100);
    w.serialFrame([], 5000);
    expect(w.decide(3010, ['VI_1'])).toMatchObject({ stepDown: [], evidence: 'serial' });
  });

  it('a MASTER claim in any heartbeat of the check counts, also when a later one is without it', () => {
    const w = new StallWatch(pair, 0);
    w.beat(3000);
    w.serialFrame(['VI_1'], 5000);
    w.serialFrame([], 5000);
    expect(w.decide(3010, ['VI_1'])!.stepDown).toEqual(['VI_1']);
  });

  it('a heartbeat that looks fresh but claims nothing does not decide at once: the twin\'s frames sent after its takeover still step us down', () => {
    // Seen under load (CI, stall.test.ts): the twin took over 35 ms before we woke; the first frame
    // we read was dated after waking but had been sent just before its takeover.
    const w = new StallWatch(pair, 0);
    w.beat(5000); // woke: stalled 5000 ms
    expect(w.serialFrame([], 5010)).toBe(false);
    expect(w.ready(5064)).toBe(false);
    expect(w.serialFrame(['VI_1'], 5090)).toBe(true);
    expect(w.ready(5100)).toBe(true);
    expect(w.decide(5100, ['VI_1'])).toMatchObject({ stepDown: ['VI_1'], evidence: 'serial' });
  });

  it('a claim in a frame that waited in the tty counts too: it was sent during our stall', () => {
    const w = new StallWatch(pair, 0);
    w.beat(5000);
    expect(w.serialFrame(['VI_1'], 4900)).toBe(true);
    expect(w.decide(5005, ['VI_1'])).toMatchObject({ stepDown: ['VI_1'], evidence: 'serial' });
  });

  it('a fresh heartbeat without a claim: carry on once the settle time is over', () => {
    const w = new StallWatch(pair, 0);
    w.beat(5000);
    w.serialFrame([], 5010);
    const settle = w.deadline()!;
    expect(w.ready(settle - 1)).toBe(false);
    expect(w.ready(settle)).toBe(true);
    expect(w.decide(settle, ['VI_1'])).toMatchObject({ stepDown: [], evidence: 'serial' });
  });

  it('no fresh heartbeat within the settle time: adverts of the twin read after waking decide', () => {
    const w = new StallWatch(pair, 0);
    w.beat(3000);
    w.advert('VI_2', 0); // priority 0: the twin gives up, it does not hold the VIP
    w.advert('VI_1', 90);
    expect(w.ready(3299)).toBe(false);
    expect(w.deadline()).toBe(3300);
    expect(w.ready(3300)).toBe(true);
    expect(w.decide(3300, ['VI_1', 'VI_2'])).toMatchObject({ stepDown: ['VI_1'], evidence: 'adverts' });
  });

  it('plain VRRP (no serial): adverts decide after the settle time; none means carry on', () => {
    const w = new StallWatch(plain, 0);
    expect(w.beat(2500)).toEqual({ wokeAt: 2500, stalledMs: 2500 });
    expect(w.serialFrame(['VI_1'], 5000)).toBe(true); // recorded, but a plain check waits for its settle time
    expect(w.ready(2550)).toBe(false);
    const w2 = new StallWatch(plain, 0);
    w2.beat(2500);
    expect(w2.decide(2600, ['VI_1'])).toMatchObject({ stepDown: [], evidence: 'none', checkMs: 100 });
  });

  it('a BACKUP that stalled has nothing to step down', () => {
    const w = new StallWatch(pair, 0);
    w.beat(3000);
    w.serialFrame(['VI_1'], 5000);
    expect(w.decide(3005, [])!.stepDown).toEqual([]);
  });

  it("the hold ends before the twin's Master_Down would: short adverts shorten the check, never below its minimum", () => {
    // adverts every 100 ms: the next one must leave within 2 x 100 - 20 ms of the last beat
    const fast = { thresholdMs: 90, settleMs: 300, serial: true, advertBudgetMs: 180, minSettleMs: 100 };
    const w = new StallWatch(fast, 0);
    w.beat(1000); // a 1000 ms gap: the budget is gone, the check lasts its minimum (one serial period)
    expect(w.deadline()).toBe(1100);
    expect(w.ready(1099)).toBe(false);
    expect(w.decide(1100, ['VI_1'])).toMatchObject({ stepDown: [], evidence: 'none' });
    w.beat(1150);
    // 90 ms later than the beat at 1150 plus a bit: a stall of 93 ms, 87 ms of budget left, but the minimum is 100
    w.beat(1243);
    expect(w.deadline()).toBe(1343);
    // adverts every second: the budget (1980 ms) leaves the full settle time
    const slow = new StallWatch({ ...fast, advertBudgetMs: 1980 }, 0);
    slow.beat(500);
    expect(slow.deadline()).toBe(800);
    // a stall that leaves part of the budget: the check ends when it runs out
    const mid = new StallWatch({ ...fast, advertBudgetMs: 380 }, 0);
    mid.beat(150);
    expect(mid.deadline()).toBe(380);
    // a claim still decides at once
    expect(mid.serialFrame(['VI_1'], 160)).toBe(true);
    expect(mid.ready(151)).toBe(true);
  });

  it('no check, no verdict', () => {
    expect(new StallWatch(pair, 0).decide(10, ['VI_1'])).toBeNull();
  });
});

describe('stall thresholds: the earliest the twin may take over', () => {
  it('pair mode: serial dead time less one period, at least the Ethernet margin', () => {
    expect(stallThresholdMs({ advertIntervalCs: 100, serial: { periodMs: 100, deadPeriods: 5, ethernetMarginMs: 200 } })).toBe(400);
    expect(stallThresholdMs({ advertIntervalCs: 100, serial: { periodMs: 50, deadPeriods: 3, ethernetMarginMs: 200 } })).toBe(200);
  });

  it('pair mode with the twin probe: the probe round after after_ms of silence is the earliest takeover', () => {
    // defaults: after_ms = period + 30, 3 tries 20 ms apart: the twin takes over 190 ms after our last frame
    expect(stallThresholdMs({ advertIntervalCs: 100, serial: { periodMs: 100, deadPeriods: 5, ethernetMarginMs: 200, probeTakeoverMs: 190 } })).toBe(90);
    // the test labs: after_ms 1500, 5 tries 50 ms apart, dead time 20 periods
    expect(stallThresholdMs({ advertIntervalCs: 100, serial: { periodMs: 100, deadPeriods: 20, ethernetMarginMs: 200, probeTakeoverMs: 1750 } })).toBe(1650);
    // a probe slower than the dead time changes nothing; a very fast one is floored
    expect(stallThresholdMs({ advertIntervalCs: 100, serial: { periodMs: 100, deadPeriods: 5, ethernetMarginMs: 200, probeTakeoverMs: 5000 } })).toBe(400);
    expect(stallThresholdMs({ advertIntervalCs: 100, serial: { periodMs: 100, deadPeriods: 5, ethernetMarginMs: 200, probeTakeoverMs: 60 } })).toBe(50);
    expect(stallSettleMs({ advertIntervalCs: 100, serial: { periodMs: 100, deadPeriods: 5, ethernetMarginMs: 200 } })).toBe(300);
  });

  it('plain VRRP: two advert intervals (Master_Down_Interval less the interval our last advert may be old)', () => {
    expect(stallThresholdMs({ advertIntervalCs: 100 })).toBe(2000);
    expect(stallSettleMs({ advertIntervalCs: 100 })).toBe(100);
  });

  it("the advert budget: two advert intervals less 20 ms; the shortest check is one serial period (or the plain settle)", () => {
    const serial = { periodMs: 100, deadPeriods: 5, ethernetMarginMs: 200 };
    expect(stallAdvertBudgetMs({ advertIntervalCs: 10, serial })).toBe(180);
    expect(stallAdvertBudgetMs({ advertIntervalCs: 100 })).toBe(1980);
    expect(stallMinSettleMs({ advertIntervalCs: 10, serial })).toBe(100);
    expect(stallMinSettleMs({ advertIntervalCs: 10 })).toBe(100);
  });
});
