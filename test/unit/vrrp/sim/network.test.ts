// The real VrrpInstance/SyncGroup cores on a simulated segment with a fake clock: election
// timings exactly per the RFC formulas, failures, partitions and the heartbeat arbiter's hooks.

import { afterEach, describe, expect, it } from 'vitest';
import { masterDownIntervalMs, skewTimeMs } from '../../../../src/vrrp/timers';
import { SimNetwork, v2Instance } from './network';

let net: SimNetwork;
afterEach(() => {
  // Every scenario also proves the invariants: VIPs held ⇔ MASTER, no deadline in the past.
  expect(net.violations).toEqual([]);
});

function pair(opts: { delayMs?: number; aExtra?: object; bExtra?: object } = {}): SimNetwork {
  net = new SimNetwork({ delayMs: opts.delayMs ?? 0 });
  net.addRouter({ name: 'A', address: '10.0.0.1', instances: [v2Instance('VI_1', 51, 150, opts.aExtra)] });
  net.addRouter({ name: 'B', address: '10.0.0.2', instances: [v2Instance('VI_1', 51, 100, opts.bExtra)] });
  return net;
}

const MDI_150 = masterDownIntervalMs(2, 150, 100); // 3414.0625
const MDI_100 = masterDownIntervalMs(2, 100, 100); // 3609.375

describe('simulated segment: election timings', () => {
  it('two routers started together: the higher priority is MASTER at exactly its Master_Down_Interval', () => {
    pair();
    net.startAll(0);
    net.run(10_000);
    expect(net.masters(51)).toEqual(['A']);
    const toMaster = net.transitions({ to: 'MASTER' });
    expect(toMaster.map((t) => [t.router, t.at, t.action.cause])).toEqual([['A', MDI_150, 'master down']]);
    expect(net.transitions({ router: 'B' }).map((t) => t.action.to)).toEqual(['BACKUP']);
    expect(net.dualMasterMs(51)).toBe(0);
  });

  it('VRRPv3 with 50 cs adverts, three routers: the highest wins at 3 x 500 ms + its skew', () => {
    net = new SimNetwork();
    for (const [name, prio, addr] of [['A', 100, '10.0.0.1'], ['B', 200, '10.0.0.2'], ['C', 150, '10.0.0.3']] as const) {
      net.addRouter({ name, address: addr, instances: [v2Instance('VI_1', 7, prio, { version: 3, advertIntervalCs: 50 })] });
    }
    net.startAll(0);
    net.run(5_000);
    expect(net.masters(7)).toEqual(['B']);
    expect(net.transitions({ to: 'MASTER' }).map((t) => [t.router, t.at])).toEqual([['B', 1500 + skewTimeMs(3, 200, 50)]]);
  });

  it('master dies (stops sending): the backup takes over Master_Down_Interval after the last advert', () => {
    pair();
    net.startAll(0);
    net.at(10_000, () => net.router('A').crash());
    net.run(20_000);
    const lastAdvert = MDI_150 + 6 * 1000; // A's adverts: 3414.0625 + k s; the last before 10 s
    const takeover = net.transitions({ router: 'B', to: 'MASTER' });
    expect(takeover).toHaveLength(1);
    expect(takeover[0]!.at).toBe(lastAdvert + MDI_100);
    expect(takeover[0]!.action).toMatchObject({ cause: 'master down', detail: '3609 ms without advert' });
    expect(net.masters(51)).toEqual(['B']);
  });

  it('shutdown: priority 0 lets the backup take over after Skew_Time (+ link delay)', () => {
    pair({ delayMs: 1 });
    net.startAll(0);
    net.at(10_000, () => net.router('A').dispatch('VI_1', { type: 'shutdown' }));
    net.run(20_000);
    const takeover = net.transitions({ router: 'B', to: 'MASTER' });
    expect(takeover.map((t) => [t.at, t.action.cause])).toEqual([[10_001 + skewTimeMs(2, 100, 100), 'priority 0 from master']]);
    expect(net.transitions({ router: 'A' }).at(-1)?.action).toMatchObject({ to: 'INIT', cause: 'shutdown' });
    expect(net.actions('notify', 'A').at(-1)?.action.state).toBe('STOP');
  });

  it('healed partition: exactly one master again, the loser steps down and the winner re-sends GARP', () => {
    pair();
    net.startAll(0);
    net.at(10_000, () => net.setCut('A', 'B', true));
    net.at(20_000, () => net.setCut('A', 'B', false));
    net.run(15_000);
    expect(net.masters(51).sort()).toEqual(['A', 'B']); // split-brain while cut
    net.run(25_000);
    expect(net.masters(51)).toEqual(['A']);
    const stepDown = net.transitions({ router: 'B' }).at(-1)!;
    expect(stepDown.action).toMatchObject({ from: 'MASTER', to: 'BACKUP', cause: 'higher priority advert' });
    const garps = net.actions('send-garp', 'A').filter((g) => g.at >= 20_000);
    expect(garps.map((g) => g.action.reason)).toContain('lower priority master heard');
    expect(net.actions('alarm', 'A').some((a) => a.action.name === 'dual-master' && a.at >= 20_000)).toBe(true);
    // B's first advert after healing (13023.4375 + 7 s) resolves it: no second advert interval.
    expect(stepDown.at).toBe(MDI_150 + 6000 + MDI_100 + 7000);
  });

  it('master/master: VRID 51 (150 on A / 100 on B) and VRID 52 (the opposite) → each box MASTER of one', () => {
    net = new SimNetwork({ delayMs: 1 });
    net.addRouter({ name: 'A', address: '10.0.0.1', instances: [v2Instance('VI_51', 51, 150), v2Instance('VI_52', 52, 100)] });
    net.addRouter({ name: 'B', address: '10.0.0.2', instances: [v2Instance('VI_51', 51, 100), v2Instance('VI_52', 52, 150)] });
    net.startAll(0, { B: 700 });
    net.run(15_000);
    expect(net.masters(51)).toEqual(['A']);
    expect(net.masters(52)).toEqual(['B']);
    net.at(15_000, () => net.router('B').crash());
    net.run(25_000);
    expect(net.masters(52)).toEqual(['A']);
  });

  it('preempt: a higher-priority router that starts late takes over; nopreempt: it does not', () => {
    pair({ delayMs: 1 });
    net.startAll(0, { A: 10_000 });
    net.run(30_000);
    expect(net.masters(51)).toEqual(['A']);
    expect(net.transitions({ router: 'A', to: 'MASTER' })[0]).toMatchObject({ at: 10_000 + MDI_150, action: { cause: 'preempt' } });
    expect(net.violations).toEqual([]);
    // A routine preemption: B's last advert (higher_prio_send_advert) reaches A 2 ms after A's
    // first one. A answers and re-announces, but that is a handover, not a dual-master alarm.
    expect(net.actions('send-garp', 'A').map((g) => g.action.reason)).toContain('lower priority master heard');
    expect(net.actions('alarm', 'A').map((a) => a.action.name)).toEqual([]);

    pair({ delayMs: 1, aExtra: { preempt: false } });
    net.startAll(0, { A: 10_000 });
    net.run(60_000);
    expect(net.masters(51)).toEqual(['B']);
  });
});

describe('simulated segment: heartbeat arbiter hooks', () => {
  it('Ethernet cut but serial claims keep arriving: the backup stays BACKUP; peer-release → MASTER after skew', () => {
    pair({ delayMs: 1 });
    net.startAll(0);
    net.at(10_000, () => net.setCut('A', 'B', true));
    for (let t = 10_000; t < 30_000; t += 200) {
      net.at(t, () => net.router('B').dispatch('VI_1', { type: 'peer-claim', priority: 150, address: '10.0.0.1', advertIntervalCs: 100 }));
    }
    net.run(30_000);
    expect(net.masters(51)).toEqual(['A']);
    net.at(30_000, () => {
      net.router('A').dispatch('VI_1', { type: 'demote', reason: 'heartbeat-release', active: true });
      net.router('B').dispatch('VI_1', { type: 'peer-release' });
    });
    net.run(40_000);
    expect(net.masters(51)).toEqual(['B']);
    expect(net.transitions({ router: 'B', to: 'MASTER' }).map((t) => [t.at, t.action.cause])).toEqual([
      [30_000 + skewTimeMs(2, 100, 100), 'peer released'],
    ]);
    expect(net.dualMasterMs(51)).toBe(0);
  });

  it('peer-dead: the backup becomes MASTER at once, without waiting Master_Down_Interval', () => {
    pair({ delayMs: 1 });
    net.startAll(0);
    net.at(10_000, () => net.router('A').crash());
    net.at(11_200, () => net.router('B').dispatch('VI_1', { type: 'peer-dead' }));
    net.run(20_000);
    expect(net.transitions({ router: 'B', to: 'MASTER' }).map((t) => [t.at, t.action.cause])).toEqual([
      [11_200, 'peer dead on both channels'],
    ]);
  });

  it('a MASTER that hears a higher claim over serial steps down even with Ethernet cut', () => {
    pair({ delayMs: 1 });
    net.startAll(0, { A: 5_000 });
    net.at(4_000, () => net.setCut('A', 'B', true)); // A starts with Ethernet already cut
    net.run(9_000);
    expect(net.masters(51).sort()).toEqual(['A', 'B']);
    net.at(9_000, () => net.router('B').dispatch('VI_1', { type: 'peer-claim', priority: 150, address: '10.0.0.1', advertIntervalCs: 100 }));
    net.run(10_000);
    expect(net.masters(51)).toEqual(['A']);
    expect(net.transitions({ router: 'B' }).at(-1)?.action).toMatchObject({ to: 'BACKUP', cause: 'peer claim' });
  });
});

describe('simulated segment: sync groups', () => {
  it('a fault on one member moves the whole group; the peer group takes both VIPs after skew', () => {
    net = new SimNetwork();
    for (const [name, addr, prio] of [['A', '10.0.0.1', 150], ['B', '10.0.0.2', 100]] as const) {
      net.addRouter({
        name,
        address: addr,
        instances: [
          v2Instance('VI_LAN', 1, prio, { syncGroup: 'VG', tracked: [{ name: 'eth0' }] }),
          v2Instance('VI_UP', 2, prio, { syncGroup: 'VG' }),
        ],
        syncGroups: [{ name: 'VG', members: ['VI_LAN', 'VI_UP'] }],
      });
    }
    net.startAll(0);
    net.run(10_000);
    expect([net.masters(1), net.masters(2)]).toEqual([['A'], ['A']]);
    net.at(10_000, () => net.router('A').dispatch('VI_LAN', { type: 'track', name: 'eth0', up: false }));
    net.run(12_000);
    expect([net.masters(1), net.masters(2)]).toEqual([['B'], ['B']]);
    expect(net.router('A').state('VI_UP')).toBe('FAULT');
    const bUp = net.transitions({ router: 'B', to: 'MASTER' }).map((t) => t.at);
    expect(bUp).toEqual([10_000 + skewTimeMs(2, 100, 100), 10_000 + skewTimeMs(2, 100, 100)]);
    net.at(12_000, () => net.router('A').dispatch('VI_LAN', { type: 'track', name: 'eth0', up: true }));
    net.run(20_000);
    expect([net.masters(1), net.masters(2)]).toEqual([['A'], ['A']]); // preempts back, together
  });
});
