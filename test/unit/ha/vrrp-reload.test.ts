// Reload of VRRP instances: which instances a new configuration leaves alone, rebuilds, removes
// or adds (diffPlans), and what VrrpRunner.replace does to a running MASTER (no transition,
// VIPs diffed rather than dropped) on an in-memory io with a fake clock.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../helpers/fake-clock';
import { parseConfigText, type TwinvipConfig } from '../../../src/config';
import { planInstance, type InstancePlan } from '../../../src/ha/vrrp/instance-plan';
import { diffPlans } from '../../../src/ha/vrrp/reload-diff';
import { VrrpRunner, type VrrpIo } from '../../../src/ha/vrrp/runner';
import { EventBus, type DaemonEvents } from '../../../src/daemon/events';
import { Logger, memorySink } from '../../../src/log';

function cfg(instances: Record<string, Record<string, unknown>>, syncGroups?: Record<string, string[]>): TwinvipConfig {
  const full = Object.fromEntries(
    Object.entries(instances).map(([n, i], k) => [n, { interface: 'lan0', vrid: 51 + k, priority: 150, vips: [`192.0.2.${10 + k}/24`], ...i }]),
  );
  const r = parseConfigText(
    JSON.stringify({
      node: { name: 'box' },
      instances: full,
      ...(syncGroups ? { sync_groups: Object.fromEntries(Object.entries(syncGroups).map(([g, m]) => [g, { instances: m }])) } : {}),
    }),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

function plansOf(c: TwinvipConfig): InstancePlan[] {
  return Object.keys(c.instances).map((n) => planInstance(c, n, c.instances[n]!, '192.0.2.1', ['192.0.2.1']));
}

function groupsOf(c: TwinvipConfig): Record<string, string[]> {
  return Object.fromEntries(Object.entries(c.sync_groups ?? {}).map(([g, s]) => [g, s.instances]));
}

function diff(a: TwinvipConfig, b: TwinvipConfig) {
  return diffPlans({ plans: plansOf(a), groups: groupsOf(a) }, { plans: plansOf(b), groups: groupsOf(b) });
}

describe('diffPlans', () => {
  it('sorts instances into unchanged, changed, removed and added', () => {
    const before = cfg({ A: {}, B: {}, C: {} });
    const after = cfg({ A: {}, B: { priority: 50 }, D: { vrid: 60 } });
    // D takes index 2 like C did, so its VRID is set explicitly to make it a different router.
    expect(diff(before, after)).toEqual({ unchanged: ['A'], changed: ['B'], removed: ['C'], added: ['D'] });
  });

  it('an identical configuration changes nothing, and tracked up/down state does not count', () => {
    const c = cfg({ A: {}, B: {} });
    const moved = plansOf(c);
    moved[0]!.params.tracked = [{ name: 'iface:lan0', up: false }];
    moved[0]!.tracked.push({ name: 'iface:lan0' });
    const same = plansOf(c);
    same[0]!.params.tracked = [{ name: 'iface:lan0', up: true }];
    same[0]!.tracked.push({ name: 'iface:lan0' });
    expect(diffPlans({ plans: moved, groups: {} }, { plans: same, groups: {} })).toEqual({ unchanged: ['A', 'B'], changed: [], removed: [], added: [] });
  });

  it('added VIPs and advert interval make an instance changed', () => {
    expect(diff(cfg({ A: {} }), cfg({ A: { vips: ['192.0.2.10/24', '192.0.2.99/24'] } })).changed).toEqual(['A']);
    expect(diff(cfg({ A: {} }), cfg({ A: { advert_int: 2 } })).changed).toEqual(['A']);
  });

  it('a new VRID or interface is a removal plus an addition, not an in-place change', () => {
    expect(diff(cfg({ A: {} }), cfg({ A: { vrid: 99 } }))).toEqual({ unchanged: [], changed: [], removed: ['A'], added: ['A'] });
    expect(diff(cfg({ A: {} }), cfg({ A: { interface: 'lan1' } }))).toEqual({ unchanged: [], changed: [], removed: ['A'], added: ['A'] });
  });

  it('a changed member rebuilds its whole sync group; other instances stay', () => {
    const before = cfg({ A: {}, B: {}, C: {} }, { G: ['A', 'B'] });
    const after = cfg({ A: { priority: 120 }, B: {}, C: {} }, { G: ['A', 'B'] });
    expect(diff(before, after)).toEqual({ unchanged: ['C'], changed: ['A', 'B'], removed: [], added: [] });
  });

  it('a sync group membership change rebuilds the members', () => {
    const before = cfg({ A: {}, B: {}, C: {} }, { G: ['A', 'B'] });
    const after = cfg({ A: {}, B: {}, C: {} }, { G: ['A', 'B', 'C'] });
    expect(diff(before, after)).toEqual({ unchanged: [], changed: ['A', 'B', 'C'], removed: [], added: [] });
  });
});


function lone(c: TwinvipConfig) {
  const clock = new FakeClock();
  const vips = new Set<string>();
  const sent: { instance: string; priority: number; at: number }[] = [];
  const io: VrrpIo = {
    send: (p, _d, bytes) => sent.push({ instance: p.name, priority: bytes[2]!, at: clock.now() }),
    setVips: async (p, present) => {
      for (const v of p.vips) (present ? vips.add(v.address) : vips.delete(v.address));
    },
    announce: () => {},
  };
  const bus = new EventBus();
  const transitions: DaemonEvents['transition'][] = [];
  bus.on('transition', (e) => transitions.push(e));
  const log = new Logger({ sink: memorySink(), level: 'debug', format: 'text', now: () => clock.now() }).for('vrrp');
  const runner = new VrrpRunner({ plans: plansOf(c), groups: groupsOf(c), io, clock, log, bus });
  return { clock, vips, sent, transitions, runner };
}

describe('VrrpRunner.replace', () => {
  it('a MASTER rebuilt with one VIP more stays MASTER without a transition and gains the VIP', async () => {
    const b = lone(cfg({ A: {}, B: {} }));
    b.runner.start();
    b.clock.runUntil(10_000); // alone on the wire: both become MASTER after Master_Down_Interval
    expect(b.runner.views().map((v) => v.snapshot.state)).toEqual(['MASTER', 'MASTER']);
    const before = b.transitions.length;
    const diffed = await b.runner.replace(plansOf(cfg({ A: { vips: ['192.0.2.10/24', '192.0.2.99/24'] }, B: {} })), {});
    expect(diffed.changed).toEqual(['A']);
    expect(b.transitions.length).toBe(before);
    expect(b.vips).toEqual(new Set(['192.0.2.10', '192.0.2.99', '192.0.2.11']));
    b.clock.runUntil(20_000);
    expect(b.runner.views().map((v) => v.snapshot.state)).toEqual(['MASTER', 'MASTER']);
    expect(b.transitions.length).toBe(before);
  });

  it('a vanished VIP is removed, a removed instance sends priority 0, an added one starts', async () => {
    const b = lone(cfg({ A: { vips: ['192.0.2.10/24', '192.0.2.98/24'] }, B: {} }));
    b.runner.start();
    b.clock.runUntil(10_000);
    const next = cfg({ A: {}, C: { vrid: 70, vips: ['192.0.2.70/24'] } });
    const diffed = await b.runner.replace(plansOf(next), {});
    expect(diffed).toEqual({ unchanged: [], changed: ['A'], removed: ['B'], added: ['C'] });
    expect(b.sent.some((s) => s.instance === 'B' && s.priority === 0)).toBe(true);
    expect(b.vips.has('192.0.2.98')).toBe(false);
    expect(b.vips.has('192.0.2.11')).toBe(false);
    expect(b.vips.has('192.0.2.10')).toBe(true);
    b.clock.runUntil(20_000);
    expect(b.runner.views().map((v) => [v.plan.name, v.snapshot.state])).toEqual([
      ['A', 'MASTER'],
      ['C', 'MASTER'],
    ]);
    expect(b.vips.has('192.0.2.70')).toBe(true);
    expect(b.transitions.filter((t) => t.instance === 'A').length).toBe(2); // only the start-up ones
  });

  it('an unchanged instance keeps its advert rhythm across a reload', async () => {
    const b = lone(cfg({ A: {}, B: {} }));
    b.runner.start();
    b.clock.runUntil(10_000);
    await b.runner.replace(plansOf(cfg({ A: {}, B: { priority: 120 } })), {});
    b.clock.runUntil(15_000);
    const times = b.sent.filter((s) => s.instance === 'A' && s.at >= 5_000).map((s) => s.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(1000);
  });
});

describe('VrrpRunner.replace keeps operator state', () => {
  it('an instance in maintenance stays in maintenance (never MASTER) after being rebuilt', async () => {
    const b = lone(cfg({ A: {} }));
    b.runner.deliver('A', { type: 'demote', reason: 'maintenance', active: true });
    b.runner.start();
    b.clock.runUntil(10_000);
    expect(b.runner.views()[0]!.snapshot).toMatchObject({ state: 'BACKUP', maintenance: true });
    await b.runner.replace(plansOf(cfg({ A: { priority: 200 } })), {});
    b.clock.runUntil(30_000);
    expect(b.runner.views()[0]!.snapshot).toMatchObject({ state: 'BACKUP', maintenance: true, configuredPriority: 200 });
    expect(b.vips.size).toBe(0);
  });

  it('every demotion is carried over, each still cleared only by its own owner', async () => {
    const b = lone(cfg({ A: {} }));
    b.runner.deliver('A', { type: 'demote', reason: 'maintenance', active: true });
    b.runner.deliver('A', { type: 'demote', reason: 'heartbeat-release', active: true });
    b.runner.start();
    await b.runner.replace(plansOf(cfg({ A: { priority: 200 } })), {});
    expect(b.runner.views()[0]!.snapshot.demotions).toEqual(['maintenance', 'heartbeat-release']);
    b.runner.deliver('A', { type: 'demote', reason: 'heartbeat-release', active: false });
    b.clock.runUntil(30_000);
    expect(b.runner.views()[0]!.snapshot).toMatchObject({ state: 'BACKUP', demotions: ['maintenance'] });
  });

  it('a sync group rebuilt around a MASTER pair resumes both as MASTER without transitions', async () => {
    const b = lone(cfg({ A: {}, B: {} }, { G: ['A', 'B'] }));
    b.runner.start();
    b.clock.runUntil(10_000);
    expect(b.runner.views().map((v) => v.snapshot.state)).toEqual(['MASTER', 'MASTER']);
    const before = b.transitions.length;
    const d = await b.runner.replace(plansOf(cfg({ A: { priority: 120 }, B: {} }, { G: ['A', 'B'] })), groupsOf(cfg({ A: {}, B: {} }, { G: ['A', 'B'] })));
    expect(d.changed).toEqual(['A', 'B']);
    b.clock.runUntil(20_000);
    expect(b.runner.views().map((v) => v.snapshot.state)).toEqual(['MASTER', 'MASTER']);
    expect(b.transitions.length).toBe(before);
  });
});
