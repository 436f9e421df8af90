import { describe, expect, it } from 'vitest';
import type { Advert } from '../../../src/vrrp/types';
import { formatTransition, type Action, type InstanceParams } from '../../../src/vrrp/events';
import { VrrpInstance, checkInstanceParams } from '../../../src/vrrp/instance';
import { compareAddresses } from '../../../src/lib/ip';
import { masterDownIntervalMs, skewTimeMs } from '../../../src/vrrp/timers';

const OWN = '10.0.0.1';

function mk(extra: Partial<InstanceParams> = {}): VrrpInstance {
  return new VrrpInstance({
    name: 'VI_1',
    vrid: 51,
    version: 2,
    family: 4,
    priority: 100,
    advertIntervalCs: 100,
    preempt: true,
    preemptDelayMs: 0,
    primaryAddress: OWN,
    vips: ['10.0.0.100'],
    ...extra,
  });
}

function adv(priority: number, source = '10.0.0.2', extra: Partial<Advert> = {}): { type: 'advert'; advert: Advert } {
  return {
    type: 'advert',
    advert: { version: 2, family: 4, vrid: 51, priority, advertIntervalCs: 100, addresses: ['10.0.0.100'], authType: 0, source, ...extra },
  };
}

const types = (actions: Action[]) => actions.map((a) => a.type);
const transition = (actions: Action[]) => actions.find((a): a is Extract<Action, { type: 'transition' }> => a.type === 'transition');
const find = <T extends Action['type']>(actions: Action[], type: T) =>
  actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);

/** An instance that became MASTER by timing out at `MDI` after startup at 0. */
function master(extra: Partial<InstanceParams> = {}): { inst: VrrpInstance; t: number } {
  const inst = mk(extra);
  inst.handle({ type: 'startup' }, 0);
  const t = inst.nextDeadline()!;
  inst.handle({ type: 'timer' }, t);
  expect(inst.currentState).toBe('MASTER');
  return { inst, t };
}

describe('startup (RFC 6.4.1)', () => {
  it('goes BACKUP, notifies BACKUP and arms Master_Down_Interval; then MASTER when it runs out', () => {
    const inst = mk();
    const a = inst.handle({ type: 'startup' }, 0);
    expect(transition(a)).toEqual({ type: 'transition', from: 'INIT', to: 'BACKUP', cause: 'startup', detail: '' });
    expect(find(a, 'notify')).toEqual([{ type: 'notify', state: 'BACKUP', cause: 'startup', detail: '' }]);
    expect(inst.nextDeadline()).toBe(3609.375);
    expect(inst.handle({ type: 'timer' }, 3609)).toEqual([]); // not yet
    const b = inst.handle({ type: 'timer' }, 3609.375);
    expect(types(b)).toEqual(['transition', 'add-vips', 'send-advert', 'send-garp', 'notify']);
    expect(transition(b)).toMatchObject({ from: 'BACKUP', to: 'MASTER', cause: 'master down', detail: '3609 ms without advert' });
    expect(find(b, 'send-advert')[0]).toEqual({ type: 'send-advert', priority: 100, advertIntervalCs: 100 });
    expect(find(b, 'send-garp')[0]).toEqual({ type: 'send-garp', reason: 'become master', count: 5 });
    expect(inst.snapshot().vipsHeld).toBe(true);
  });

  it('priority 255 goes MASTER at once', () => {
    const inst = mk({ priority: 255 });
    const a = inst.handle({ type: 'startup' }, 7);
    expect(transition(a)).toMatchObject({ from: 'INIT', to: 'MASTER', cause: 'startup owner' });
    expect(find(a, 'send-advert')[0]?.priority).toBe(255);
    expect(inst.nextDeadline()).toBe(1007);
  });

  it('addressOwner forces priority 255', () => {
    const inst = mk({ addressOwner: true, priority: 100 });
    expect(transition(inst.handle({ type: 'startup' }, 0))?.to).toBe('MASTER');
    expect(inst.snapshot().effectivePriority).toBe(255);
  });

  it("initialState 'MASTER' takes over at once like keepalived's 1 µs down timer, through BACKUP", () => {
    const inst = mk({ initialState: 'MASTER', preempt: false, preemptDelayMs: 5000 });
    const a = inst.handle({ type: 'startup' }, 0);
    expect(transition(a)?.to).toBe('BACKUP');
    expect(inst.nextDeadline()).toBe(0);
    const b = inst.handle({ type: 'timer' }, 0);
    expect(transition(b)).toMatchObject({ to: 'MASTER', cause: 'startup state MASTER' });
    // keepalived clears nopreempt and preempt_delay with state MASTER
    expect(inst.snapshot().preempt).toBe(true);
  });

  it('an unweighted tracked object down at startup → FAULT, no timers', () => {
    const inst = mk({ tracked: [{ name: 'eth0', up: false }] });
    const a = inst.handle({ type: 'startup' }, 0);
    expect(transition(a)).toMatchObject({ to: 'FAULT', cause: 'startup', detail: 'eth0 down' });
    expect(find(a, 'notify')[0]?.state).toBe('FAULT');
    expect(inst.nextDeadline()).toBeUndefined();
  });
});

describe('BACKUP (RFC 6.4.2)', () => {
  it('an advert with priority >= ours resets the Master_Down timer', () => {
    const inst = mk();
    inst.handle({ type: 'startup' }, 0);
    expect(inst.handle(adv(150), 1000)).toEqual([]);
    expect(inst.nextDeadline()).toBe(1000 + 3609.375);
    inst.handle(adv(100, '10.0.0.0'), 2000); // equal priority also resets
    expect(inst.nextDeadline()).toBe(2000 + 3609.375);
    expect(inst.snapshot().master).toMatchObject({ address: '10.0.0.0', priority: 100 });
  });

  it('priority 0 sets the Master_Down timer to Skew_Time; takeover cause is "priority 0 from master"', () => {
    const inst = mk();
    inst.handle({ type: 'startup' }, 0);
    inst.handle(adv(150), 1000);
    inst.handle(adv(0), 1500);
    expect(inst.nextDeadline()).toBe(1500 + 609.375);
    const a = inst.handle({ type: 'timer' }, 2109.375);
    expect(transition(a)).toMatchObject({ from: 'BACKUP', to: 'MASTER', cause: 'priority 0 from master', detail: '10.0.0.2' });
    expect(inst.snapshot().counters.priorityZeroReceived).toBe(1);
  });

  it('with preempt, a lower-priority advert is discarded and the backup takes over when the timer runs out', () => {
    const inst = mk();
    inst.handle({ type: 'startup' }, 0);
    inst.handle(adv(150), 1000); // a real master, then a lower one replaces it
    for (let t = 2000; t < 4609; t += 1000) expect(inst.handle(adv(50, '10.0.0.3'), t)).toEqual([]);
    expect(inst.nextDeadline()).toBe(4609.375);
    const a = inst.handle({ type: 'timer' }, 4609.375);
    expect(transition(a)).toMatchObject({ to: 'MASTER', cause: 'preempt', detail: 'lower priority master 10.0.0.3 (50), ours 100' });
    expect(inst.snapshot().counters.preemptDiscarded).toBe(3);
  });

  it('nopreempt: a higher-priority backup never takes over from a live lower-priority master', () => {
    const inst = mk({ priority: 200, preempt: false });
    inst.handle({ type: 'startup' }, 0);
    for (let t = 500; t < 60_000; t += 1000) {
      inst.handle(adv(50), t);
      const d = inst.nextDeadline()!;
      expect(d).toBe(t + masterDownIntervalMs(2, 200, 100));
    }
    expect(inst.currentState).toBe('BACKUP');
  });

  it('v3 learns Master_Adver_Interval from the master; v2 keeps its own', () => {
    const v3 = mk({ version: 3 });
    v3.handle({ type: 'startup' }, 0);
    v3.handle(adv(150, '10.0.0.2', { version: 3, advertIntervalCs: 50 }), 100);
    expect(v3.snapshot().masterAdverIntervalCs).toBe(50);
    expect(v3.nextDeadline()).toBe(100 + 1500 + 304.6875);
    const v2 = mk();
    v2.handle({ type: 'startup' }, 0);
    v2.handle(adv(150, '10.0.0.2', { advertIntervalCs: 200 }), 100);
    expect(v2.snapshot().masterAdverIntervalCs).toBe(100);
    expect(v2.nextDeadline()).toBe(100 + 3609.375);
  });

  it('ignores its own adverts and other VRIDs', () => {
    const inst = mk();
    inst.handle({ type: 'startup' }, 0);
    inst.handle(adv(200, OWN), 1000);
    inst.handle(adv(200, '10.0.0.2', { vrid: 52 }), 1000);
    expect(inst.nextDeadline()).toBe(3609.375);
    expect(inst.snapshot().counters.advertsIgnored).toBe(2);
  });

  it("preempt_delay (keepalived): the first lower-priority advert starts the delay; preemption only after it", () => {
    const inst = mk({ priority: 200, preemptDelayMs: 10_000 });
    inst.handle({ type: 'startup' }, 0);
    const mdi = masterDownIntervalMs(2, 200, 100);
    for (let t = 1000; t < 11_000; t += 1000) {
      inst.handle(adv(100), t);
      expect(inst.nextDeadline()).toBe(t + mdi); // still accepted: delay running
    }
    expect(inst.snapshot().preemptDelayUntil).toBe(11_000);
    for (let t = 11_000; t < 10_000 + mdi; t += 1000) inst.handle(adv(100), t); // now discarded
    expect(inst.nextDeadline()).toBe(10_000 + mdi);
    const a = inst.handle({ type: 'timer' }, 10_000 + mdi);
    expect(transition(a)).toMatchObject({ to: 'MASTER', cause: 'preempt' });
  });

  it('preempt_delay is cancelled by a higher-or-equal advert', () => {
    const inst = mk({ priority: 200, preemptDelayMs: 10_000 });
    inst.handle({ type: 'startup' }, 0);
    inst.handle(adv(100), 1000);
    expect(inst.snapshot().preemptDelayUntil).toBe(11_000);
    inst.handle(adv(250), 2000);
    expect(inst.snapshot().preemptDelayUntil).toBeNull();
  });
});

describe('MASTER (RFC 6.4.3)', () => {
  it('sends an advert every Advertisement_Interval, anchored on the schedule', () => {
    const { inst, t } = master();
    expect(inst.nextDeadline()).toBe(t + 1000);
    const a = inst.handle({ type: 'timer' }, t + 1003); // shell woke 3 ms late
    expect(find(a, 'send-advert')).toHaveLength(1);
    expect(inst.nextDeadline()).toBe(t + 2000);
  });

  it('priority 0 advert → advert at once and Adver_Timer reset', () => {
    const { inst, t } = master();
    const a = inst.handle(adv(0), t + 400);
    expect(a).toEqual([{ type: 'send-advert', priority: 100, advertIntervalCs: 100 }]);
    expect(inst.nextDeadline()).toBe(t + 1400);
  });

  it('higher priority advert → BACKUP, VIPs removed, cause names the sender', () => {
    const { inst, t } = master();
    const a = inst.handle(adv(150), t + 10);
    // One last advert at our priority first (keepalived higher_prio_send_advert), so the winner
    // re-announces the VIPs if it missed the split.
    expect(types(a)).toEqual(['send-advert', 'remove-vips', 'transition', 'notify']);
    expect(a[0]).toEqual({ type: 'send-advert', priority: 100, advertIntervalCs: 100 });
    expect(transition(a)).toEqual({
      type: 'transition', from: 'MASTER', to: 'BACKUP', cause: 'higher priority advert', detail: 'from 10.0.0.2 (150), ours 100',
    });
    expect(inst.snapshot().vipsHeld).toBe(false);
    expect(inst.nextDeadline()).toBe(t + 10 + 3609.375);
  });

  it('higherPrioSendAdvert false: steps down silently, as keepalived does by default', () => {
    const inst = mk({ higherPrioSendAdvert: false });
    inst.handle({ type: 'startup' }, 0);
    inst.handle({ type: 'timer' }, 3610);
    const a = inst.handle(adv(150), 4000);
    expect(types(a)).toEqual(['remove-vips', 'transition', 'notify']);
  });

  it('v3: stepping down learns the new master interval (RFC 5798 6.4.3)', () => {
    const { inst, t } = master({ version: 3 });
    inst.handle(adv(150, '10.0.0.2', { version: 3, advertIntervalCs: 50 }), t);
    expect(inst.snapshot().masterAdverIntervalCs).toBe(50);
    expect(inst.nextDeadline()).toBe(t + 1500 + 304.6875);
  });

  it('equal priority: the higher primary address wins', () => {
    const hi = master();
    expect(transition(hi.inst.handle(adv(100, '10.0.0.9'), hi.t))).toMatchObject({ to: 'BACKUP', cause: 'equal priority, higher address' });
    const lo = master();
    const a = lo.inst.handle(adv(100, '10.0.0.0'), lo.t + 1500);
    expect(lo.inst.currentState).toBe('MASTER');
    expect(types(a)).toEqual(['alarm', 'send-advert', 'send-garp']);
  });

  it('lower priority advert (two masters met): stay MASTER, answer with an advert and gratuitous ARP, raise dual-master with the overlap', () => {
    const { inst, t } = master({ garp: { lowerPrioRepeat: 3 } });
    const a = inst.handle(adv(50), t + 2500);
    expect(a).toEqual([
      {
        type: 'alarm', name: 'dual-master', overlapMs: 2500,
        detail: 'lower priority master 10.0.0.2 (50) heard 2500 ms after our first advert as MASTER, ours 100; re-announcing',
      },
      { type: 'send-advert', priority: 100, advertIntervalCs: 100 },
      { type: 'send-garp', reason: 'lower priority master heard', count: 3 },
    ]);
    expect(inst.snapshot().counters.lowerPriorityHeard).toBe(1);
  });

  it('dual-master: not within one advert interval of our first advert (a handover), once per episode after that', () => {
    const { inst, t } = master();
    // The master we preempted: its last advert crosses ours. Still answered and re-announced.
    expect(types(inst.handle(adv(50), t + 2))).toEqual(['send-advert', 'send-garp']);
    expect(types(inst.handle(adv(50), t + 1000))).toEqual(['send-advert']);
    // Heard again past one interval: the alarm, once while the episode lasts.
    expect(find(inst.handle(adv(50), t + 1001), 'alarm').map((a) => a.overlapMs)).toEqual([1001]);
    expect(find(inst.handle(adv(50), t + 2001), 'alarm')).toEqual([]);
    // Silent for more than three intervals: a new episode raises it again.
    expect(find(inst.handle(adv(50), t + 6000), 'alarm').map((a) => a.overlapMs)).toEqual([6000]);
    // Claims over serial follow the same rule.
    const m = master();
    expect(find(m.inst.handle({ type: 'peer-claim', priority: 50, address: '10.0.0.2', advertIntervalCs: 100 }, m.t + 100), 'alarm')).toEqual([]);
  });

  it('lower_prio_no_advert and garp_lower_prio_repeat 0 silence the answer', () => {
    const { inst, t } = master({ lowerPrioNoAdvert: true, garp: { lowerPrioRepeat: 0 } });
    expect(types(inst.handle(adv(50), t + 1500))).toEqual(['alarm']);
  });

  it('garp_lower_prio_delay schedules a second burst', () => {
    const { inst, t } = master({ garp: { lowerPrioDelayMs: 2000, masterDelayMs: 0 } });
    inst.handle(adv(50), t + 10);
    const b = inst.handle({ type: 'timer' }, t + 1000);
    expect(find(b, 'send-garp')).toEqual([]);
    const c = inst.handle({ type: 'timer' }, t + 2010);
    expect(find(c, 'send-garp')).toEqual([{ type: 'send-garp', reason: 'lower priority master heard (delayed)', count: 5 }]);
  });

  it('gratuitous ARP: burst on becoming MASTER, a second after masterDelayMs, refresh every masterRefreshMs', () => {
    const { inst, t } = master({ garp: { masterDelayMs: 2500, masterRepeat: 2, masterRefreshMs: 4000, masterRefreshRepeat: 1 } });
    const bursts: Array<{ at: number; reason: string; count: number }> = [];
    for (let now = t; now <= t + 9000; now = inst.nextDeadline()!) {
      for (const g of find(inst.handle({ type: 'timer' }, now), 'send-garp')) bursts.push({ at: now - t, reason: g.reason, count: g.count });
    }
    expect(bursts).toEqual([
      { at: 2500, reason: 'master delay', count: 2 },
      { at: 4000, reason: 'master refresh', count: 1 },
      { at: 8000, reason: 'master refresh', count: 1 },
    ]);
  });

  it('two address owners: ours lowered to 254 and we step down (keepalived)', () => {
    const inst = mk({ priority: 255 });
    inst.handle({ type: 'startup' }, 0);
    const a = inst.handle(adv(255), 10);
    expect(find(a, 'alarm')[0]?.name).toBe('address-owner-conflict');
    expect(transition(a)).toMatchObject({ to: 'BACKUP', cause: 'higher priority advert' });
    expect(inst.snapshot().effectivePriority).toBe(254);
  });
});

describe('shutdown', () => {
  it('MASTER sends priority 0, removes VIPs, goes INIT with notify STOP; nothing armed', () => {
    const { inst, t } = master();
    const a = inst.handle({ type: 'shutdown' }, t + 5);
    expect(a).toEqual([
      { type: 'send-advert', priority: 0, advertIntervalCs: 100 },
      { type: 'remove-vips' },
      { type: 'transition', from: 'MASTER', to: 'INIT', cause: 'shutdown', detail: '' },
      { type: 'notify', state: 'STOP', cause: 'shutdown', detail: '' },
    ]);
    expect(inst.nextDeadline()).toBeUndefined();
    expect(inst.snapshot().counters.priorityZeroSent).toBe(1);
  });

  it('BACKUP just stops (no advert)', () => {
    const inst = mk();
    inst.handle({ type: 'startup' }, 0);
    expect(types(inst.handle({ type: 'shutdown' }, 1))).toEqual(['transition', 'notify']);
  });
});

describe('tracking and FAULT', () => {
  it('unweighted object down: MASTER → FAULT (priority 0, VIPs removed); silent in FAULT; back up → BACKUP', () => {
    const { inst, t } = master({ tracked: [{ name: 'eth0' }, { name: 'chk', weight: -20 }] });
    const a = inst.handle({ type: 'track', name: 'eth0', up: false }, t + 1);
    expect(a).toEqual([
      { type: 'send-advert', priority: 0, advertIntervalCs: 100 },
      { type: 'remove-vips' },
      { type: 'transition', from: 'MASTER', to: 'FAULT', cause: 'fault', detail: 'eth0 down' },
      { type: 'notify', state: 'FAULT', cause: 'fault', detail: 'eth0 down' },
    ]);
    expect(inst.nextDeadline()).toBeUndefined();
    expect(inst.handle(adv(50), t + 2)).toEqual([]);
    const b = inst.handle({ type: 'track', name: 'eth0', up: true }, t + 3);
    expect(transition(b)).toMatchObject({ from: 'FAULT', to: 'BACKUP', cause: 'fault cleared', detail: 'eth0 up' });
    expect(inst.nextDeadline()).toBe(t + 3 + 3609.375);
  });

  it('weights move the priority, clamped to 1..254; a MASTER advertises the change at once', () => {
    const { inst, t } = master({ priority: 250, tracked: [{ name: 'nginx', weight: 10 }, { name: 'gw', weight: -300 }] });
    expect(inst.snapshot().effectivePriority).toBe(254); // 250 + 10, clamped
    const a = inst.handle({ type: 'track', name: 'gw', up: false }, t + 1);
    expect(a).toEqual([{ type: 'send-advert', priority: 1, advertIntervalCs: 100 }]);
    inst.handle({ type: 'track', name: 'gw', up: true }, t + 2);
    inst.handle({ type: 'track', name: 'nginx', up: false }, t + 3);
    expect(inst.snapshot().effectivePriority).toBe(250);
  });

  it('an address owner ignores weights', () => {
    const inst = mk({ priority: 255, tracked: [{ name: 'chk', weight: -50, up: false }] });
    expect(inst.snapshot().effectivePriority).toBe(255);
  });

  it('unknown tracked names are counted, not fatal', () => {
    const inst = mk();
    expect(inst.handle({ type: 'track', name: 'nope', up: false }, 0)).toEqual([]);
    expect(inst.snapshot().counters.unknownTrack).toBe(1);
  });
});

describe('demotions (maintenance, heartbeat release)', () => {
  const demote = (reason: 'maintenance' | 'heartbeat-release', active: boolean) => ({ type: 'demote' as const, reason, active });

  it('a MASTER hands over (priority 0, VIPs removed) and stays BACKUP without Master_Down; clearing restores', () => {
    const { inst, t } = master();
    const a = inst.handle(demote('maintenance', true), t + 1);
    expect(types(a)).toEqual(['send-advert', 'remove-vips', 'transition', 'notify']);
    expect(find(a, 'send-advert')[0]?.priority).toBe(0);
    expect(transition(a)).toMatchObject({ to: 'BACKUP', cause: 'maintenance' });
    expect(inst.nextDeadline()).toBeUndefined();
    expect(inst.handle({ type: 'peer-dead' }, t + 2)).toEqual([]);
    inst.handle(adv(0), t + 3);
    expect(inst.nextDeadline()).toBeUndefined();
    expect(inst.snapshot()).toMatchObject({ maintenance: true, effectivePriority: 0, demotions: ['maintenance'] });
    inst.handle(demote('maintenance', false), t + 4);
    expect(inst.nextDeadline()).toBe(t + 4 + 3609.375);
    expect(inst.snapshot()).toMatchObject({ maintenance: false, effectivePriority: 100, demotions: [] });
  });

  it('combine: lifting a heartbeat release leaves the operator\'s maintenance in force, and the reverse', () => {
    const { inst, t } = master();
    expect(transition(inst.handle(demote('heartbeat-release', true), t + 1))).toMatchObject({ to: 'BACKUP', cause: 'heartbeat-release' });
    expect(inst.handle(demote('maintenance', true), t + 2)).toEqual([]);
    expect(inst.snapshot().demotions).toEqual(['maintenance', 'heartbeat-release']);
    // The heartbeat lifts its release: the operator's maintenance still holds the instance down.
    inst.handle(demote('heartbeat-release', false), t + 3);
    expect(inst.snapshot()).toMatchObject({ demotions: ['maintenance'], effectivePriority: 0 });
    expect(inst.nextDeadline()).toBeUndefined();
    expect(inst.handle({ type: 'peer-dead' }, t + 4)).toEqual([]);
    // maintenance off while a release holds: still demoted, never MASTER.
    inst.handle(demote('heartbeat-release', true), t + 5);
    inst.handle(demote('maintenance', false), t + 6);
    expect(inst.snapshot()).toMatchObject({ demotions: ['heartbeat-release'], maintenance: false, effectivePriority: 0 });
    expect(inst.nextDeadline()).toBeUndefined();
    // The last one lifted: plain VRRP again.
    inst.handle(demote('heartbeat-release', false), t + 7);
    expect(inst.nextDeadline()).toBe(t + 7 + 3609.375);
  });

  it('fault and a sync group\'s fault show among the demotions', () => {
    const inst = mk({ tracked: [{ name: 'eth0' }] });
    inst.handle({ type: 'startup' }, 0);
    inst.handle({ type: 'track', name: 'eth0', up: false }, 1);
    inst.handle(demote('maintenance', true), 2);
    expect(inst.snapshot().demotions).toEqual(['maintenance', 'fault']);
  });
});

describe('heartbeat arbiter hooks', () => {
  it('peer-claim counts like an advert for a BACKUP (resets Master_Down, preemption applies)', () => {
    const inst = mk();
    inst.handle({ type: 'startup' }, 0);
    inst.handle({ type: 'peer-claim', priority: 150, address: '10.0.0.2', advertIntervalCs: 100 }, 3000);
    expect(inst.nextDeadline()).toBe(3000 + 3609.375);
    inst.handle({ type: 'peer-claim', priority: 50, address: '10.0.0.2', advertIntervalCs: 100 }, 4000);
    expect(inst.nextDeadline()).toBe(3000 + 3609.375); // lower claim discarded (preempt)
  });

  it('peer-claim that outranks a MASTER makes it step down; a lower one gets rate-limited GARP', () => {
    const { inst, t } = master();
    const lower = inst.handle({ type: 'peer-claim', priority: 90, address: '10.0.0.2', advertIntervalCs: 100 }, t + 1);
    expect(types(lower)).toEqual(['send-garp']);
    expect(find(lower, 'send-garp')[0]?.reason).toBe('lower priority peer claim');
    expect(types(inst.handle({ type: 'peer-claim', priority: 90, address: '10.0.0.2', advertIntervalCs: 100 }, t + 200))).toEqual([]);
    const a = inst.handle({ type: 'peer-claim', priority: 100, address: '10.0.0.2', advertIntervalCs: 100 }, t + 300);
    expect(transition(a)).toMatchObject({ to: 'BACKUP', cause: 'peer claim', detail: 'from 10.0.0.2 (100) over serial, ours 100' });
  });

  it('peer-release: a BACKUP takes over after Skew_Time', () => {
    const inst = mk();
    inst.handle({ type: 'startup' }, 0);
    inst.handle(adv(150), 500);
    inst.handle({ type: 'peer-release' }, 1000);
    expect(inst.nextDeadline()).toBe(1000 + skewTimeMs(2, 100, 100));
    expect(transition(inst.handle({ type: 'timer' }, 1609.375))).toMatchObject({ to: 'MASTER', cause: 'peer released' });
  });

  it('preemptReadySince: set from the first lower-priority claim a preempting BACKUP discards; kept while it keeps discarding; null for nopreempt, a higher master, maintenance', () => {
    const claim = (priority: number) => ({ type: 'peer-claim' as const, priority, address: '10.0.0.2', advertIntervalCs: 100 });
    const inst = mk({ priority: 150 });
    inst.handle({ type: 'startup' }, 0);
    expect(inst.snapshot().preemptReadySince).toBeNull();
    inst.handle(claim(100), 200);
    inst.handle(claim(100), 300);
    expect(inst.snapshot().preemptReadySince).toBe(200);
    inst.handle(claim(200), 400);
    expect(inst.snapshot().preemptReadySince).toBeNull();
    inst.handle(claim(100), 500);
    inst.handle({ type: 'demote', reason: 'maintenance', active: true }, 600);
    expect(inst.snapshot().preemptReadySince).toBeNull();
    const nopreempt = mk({ priority: 150, preempt: false });
    nopreempt.handle({ type: 'startup' }, 0);
    nopreempt.handle(claim(100), 200);
    expect(nopreempt.snapshot().preemptReadySince).toBeNull();
  });

  it('preemptReadySince waits for preempt_delay (keepalived preempt_time)', () => {
    const claim = { type: 'peer-claim' as const, priority: 100, address: '10.0.0.2', advertIntervalCs: 100 };
    const inst = mk({ priority: 150, preemptDelayMs: 1000 });
    inst.handle({ type: 'startup' }, 0);
    inst.handle(claim, 100);
    inst.handle(claim, 900);
    expect(inst.snapshot().preemptReadySince).toBeNull();
    inst.handle(claim, 1100);
    expect(inst.snapshot().preemptReadySince).toBe(1100);
  });

  it('peer-release immediate (the twin is the only other router): MASTER now, VIPs, advert and GARP in the same step', () => {
    const inst = mk();
    inst.handle({ type: 'startup' }, 0);
    inst.handle(adv(150), 500);
    const a = inst.handle({ type: 'peer-release', immediate: true }, 1000);
    expect(transition(a)).toMatchObject({ from: 'BACKUP', to: 'MASTER', cause: 'twin released' });
    expect(types(a)).toEqual(expect.arrayContaining(['add-vips', 'send-advert', 'send-garp']));
    // The twin's priority 0 advert of the same handover, a few ms later: answered, no step down.
    expect(transition(inst.handle(adv(0), 1003))).toBeUndefined();
    expect(inst.currentState).toBe('MASTER');
  });

  it('peer-release immediate is ignored in maintenance, in FAULT and as MASTER', () => {
    const held = mk();
    held.handle({ type: 'startup' }, 0);
    held.handle({ type: 'demote', reason: 'maintenance', active: true }, 10);
    expect(held.handle({ type: 'peer-release', immediate: true }, 100)).toEqual([]);
    const faulty = mk({ tracked: [{ name: 'eth0', up: false }] });
    faulty.handle({ type: 'startup' }, 0);
    expect(faulty.handle({ type: 'peer-release', immediate: true }, 100)).toEqual([]);
    const master = mk();
    master.handle({ type: 'startup' }, 0);
    master.handle({ type: 'peer-dead' }, 10);
    expect(transition(master.handle({ type: 'peer-release', immediate: true }, 100))).toBeUndefined();
  });

  it('peer-release immediate in a sync group asks the group (want-master) instead of taking over alone', () => {
    const inst = mk({ syncGroup: 'G' });
    inst.handle({ type: 'startup' }, 0);
    const a = inst.handle({ type: 'peer-release', immediate: true }, 100);
    expect(types(a)).toEqual(['want-master']);
  });

  it('a release then the same shutdown\'s priority-0 advert a few ms later keep the first skew deadline', () => {
    const inst = mk();
    inst.handle({ type: 'startup' }, 0);
    inst.handle(adv(150), 500);
    inst.handle({ type: 'peer-release' }, 1000);
    inst.handle(adv(0), 1005);
    expect(inst.nextDeadline()).toBe(1000 + skewTimeMs(2, 100, 100));
    // A fresh master's advert in between starts over: a later priority 0 gets its full skew.
    inst.handle(adv(150), 1100);
    inst.handle(adv(0), 1200);
    expect(inst.nextDeadline()).toBe(1200 + skewTimeMs(2, 100, 100));
  });

  it('peer-dead: a BACKUP becomes MASTER now', () => {
    const inst = mk();
    inst.handle({ type: 'startup' }, 0);
    inst.handle(adv(150), 500);
    const a = inst.handle({ type: 'peer-dead' }, 1200);
    expect(transition(a)).toMatchObject({ from: 'BACKUP', to: 'MASTER', cause: 'peer dead on both channels' });
  });

  it('peer-dead is ignored in FAULT', () => {
    const inst = mk({ tracked: [{ name: 'eth0', up: false }] });
    inst.handle({ type: 'startup' }, 0);
    expect(inst.handle({ type: 'peer-dead' }, 1)).toEqual([]);
  });
});

describe('plumbing', () => {
  it('compares addresses numerically (v4 and v6)', () => {
    expect(compareAddresses('10.0.0.10', '10.0.0.9')).toBe(1);
    expect(compareAddresses('9.255.255.255', '10.0.0.0')).toBe(-1);
    expect(compareAddresses('fe80::2', 'fe80::10')).toBe(-1);
    expect(compareAddresses('2001:db8::1', '2001:db8:0:0:0:0:0:1')).toBe(0);
    expect(compareAddresses('::ffff:10.0.0.2', '::ffff:10.0.0.1')).toBe(1);
    expect(compareAddresses('fe80::1%eth0', 'fe80::1')).toBe(0);
  });

  it('rejects impossible parameters (a bug of the caller)', () => {
    expect(checkInstanceParams({ name: 'x', vrid: 0, version: 2, family: 6, priority: 0, advertIntervalCs: 150, primaryAddress: '', vips: [] })).toEqual([
      'vrid: 0 not in 1..255',
      'version 2 is IPv4 only',
      'priority: 0 not in 1..255',
      'advertIntervalCs: 150 must be whole seconds (1..255 s) for VRRPv2',
      'primaryAddress: must not be empty',
    ]);
    expect(() => mk({ priority: 300 })).toThrow(/priority: 300/);
  });

  it('formats the log line', () => {
    expect(formatTransition('VI_1', { from: 'BACKUP', to: 'MASTER', cause: 'master down', detail: '3609 ms without advert' })).toBe(
      'VI_1: BACKUP -> MASTER (master down, 3609 ms without advert)',
    );
  });
});

describe('resume (a config reload rebuilt the instance; keepalived keeps state on reload)', () => {
  it('MASTER: advertises at once, re-announces, keeps its VIPs, no transition or notify; adverts follow every interval', () => {
    const inst = mk();
    const a = inst.handle({ type: 'resume', state: 'MASTER' }, 1000);
    expect(types(a)).toEqual(['send-advert', 'send-garp']);
    expect(find(a, 'send-garp')[0]).toMatchObject({ reason: 'config reload' });
    expect(inst.snapshot()).toMatchObject({ state: 'MASTER', vipsHeld: true, lastTransition: null });
    expect(inst.nextDeadline()).toBe(2000);
    expect(types(inst.handle({ type: 'timer' }, 2000))).toEqual(['send-advert']);
  });

  it('MASTER whose new priority loses steps down by normal election', () => {
    const inst = mk({ priority: 50 });
    inst.handle({ type: 'resume', state: 'MASTER' }, 0);
    const a = inst.handle(adv(100), 10);
    expect(transition(a)).toMatchObject({ from: 'MASTER', to: 'BACKUP', cause: 'higher priority advert' });
    expect(types(a)).toContain('remove-vips');
  });

  it('MASTER with an unweighted tracked object down: priority 0 advert, VIPs removed, FAULT', () => {
    const inst = mk({ tracked: [{ name: 'iface:lan0', up: false }] });
    const a = inst.handle({ type: 'resume', state: 'MASTER' }, 0);
    expect(find(a, 'send-advert')[0]).toMatchObject({ priority: 0 });
    expect(types(a)).toContain('remove-vips');
    expect(transition(a)).toMatchObject({ from: 'MASTER', to: 'FAULT' });
  });

  it('BACKUP: no transition, Master_Down_Interval armed; takes over when it runs out', () => {
    const inst = mk();
    expect(inst.handle({ type: 'resume', state: 'BACKUP' }, 0)).toEqual([]);
    expect(inst.currentState).toBe('BACKUP');
    expect(inst.nextDeadline()).toBe(3609.375);
    expect(transition(inst.handle({ type: 'timer' }, 3609.375))).toMatchObject({ from: 'BACKUP', to: 'MASTER', cause: 'master down' });
  });

  it('is ignored once the instance runs', () => {
    const { inst, t } = master();
    expect(inst.handle({ type: 'resume', state: 'BACKUP' }, t + 1)).toEqual([]);
    expect(inst.currentState).toBe('MASTER');
  });
});
