// Two VrrpRunners (the real shell logic over the real codec and cores) on an in-memory wire
// with a fake clock: adverts cross as encoded bytes, so encode → decode → validate → state
// machine → encode is exercised end to end without sockets.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../helpers/fake-clock';
import { parseConfigText, type TwinvipConfig } from '../../../src/config';
import { planInstance, type InstancePlan } from '../../../src/ha/vrrp/instance-plan';
import { VrrpRunner, type VrrpIo } from '../../../src/ha/vrrp/runner';
import { EventBus, type DaemonEvents } from '../../../src/daemon/events';
import { encodeAdvert } from '../../../src/vrrp/packet';
import { Logger, memorySink } from '../../../src/log';


interface Box {
  name: string;
  runner: VrrpRunner;
  vips: Set<string>;
  transitions: DaemonEvents['transition'][];
  alarms: DaemonEvents['alarm'][];
  notified: DaemonEvents['notify'][];
  /** 'transition TO' and 'notify STATE' in bus order. */
  order: string[];
  garps: number;
  log: ReturnType<typeof memorySink>;
}

function config(priority: number, extra: Record<string, unknown> = {}): TwinvipConfig {
  const r = parseConfigText(
    JSON.stringify({
      node: { name: 'box' },
      checks: { gw: { type: 'tcp', host: '127.0.0.1', port: 9 } },
      instances: { VI_1: { interface: 'lan0', vrid: 51, priority, vips: ['192.0.2.10/24'], ...extra } },
    }),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

function makePair(prioA: number, prioB: number, extraA: Record<string, unknown> = {}, extraB: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const wire = { up: true, delivered: 0, garbage: false };
  const boxes: Box[] = [];
  const addr = { A: '192.0.2.1', B: '192.0.2.2' } as const;
  for (const [name, prio, extra] of [['A', prioA, extraA], ['B', prioB, extraB]] as const) {
    const cfg = config(prio, extra);
    const plan = planInstance(cfg, 'VI_1', cfg.instances.VI_1!, addr[name], [addr[name]]);
    const bus = new EventBus();
    const sink = memorySink();
    const logger = new Logger({ sink, level: 'debug', format: 'text', now: () => clock.now() });
    const box: Box = { name, runner: undefined as unknown as VrrpRunner, vips: new Set(), transitions: [], alarms: [], notified: [], order: [], garps: 0, log: sink };
    const io: VrrpIo = {
      send: (p: InstancePlan, destination: string, bytes: Uint8Array) => {
        if (!wire.up) return;
        const copy = Uint8Array.from(bytes);
        clock.schedule(clock.now() + 1, () => {
          for (const other of boxes) {
            if (other === box) continue;
            wire.delivered++;
            other.runner.receive({ interface: 'lan0', family: 4, payload: copy, source: p.params.primaryAddress, destination, ttl: 255 });
          }
        });
      },
      setVips: async (p, present) => {
        for (const v of p.vips) (present ? box.vips.add(v.address) : box.vips.delete(v.address));
      },
      announce: () => {
        box.garps++;
      },
    };
    bus.on('transition', (e) => {
      box.transitions.push(e);
      box.order.push(`transition ${e.to}`);
    });
    bus.on('notify', (e) => {
      box.notified.push(e);
      box.order.push(`notify ${e.state}`);
    });
    bus.on('alarm', (e) => box.alarms.push(e));
    box.runner = new VrrpRunner({ plans: [plan], groups: {}, io, clock, log: logger.for('vrrp'), bus });
    boxes.push(box);
  }
  return { clock, wire, A: boxes[0]!, B: boxes[1]! };
}

const state = (b: Box) => b.runner.views()[0]!.snapshot.state;

describe('VrrpRunner over an in-memory wire (real codec + cores)', () => {
  it('elects the higher priority, which alone holds the VIP; the backup takes over at Master_Down_Interval after the master goes silent', () => {
    const { clock, wire, A, B } = makePair(150, 100);
    A.runner.start();
    B.runner.start();
    clock.runUntil(5000);
    expect(state(A)).toBe('MASTER');
    expect(state(B)).toBe('BACKUP');
    expect([...A.vips]).toEqual(['192.0.2.10']);
    expect(B.vips.size).toBe(0);
    expect(wire.delivered).toBeGreaterThan(0);
    expect(B.runner.views()[0]!.snapshot.counters.advertsReceived).toBeGreaterThan(0);

    wire.up = false; // A's adverts stop reaching B (power loss as seen from B)
    const cut = clock.now();
    clock.runUntil(cut + 5000);
    const takeover = B.transitions.find((t) => t.to === 'MASTER');
    expect(takeover?.cause).toMatch(/^master down/);
    // v2, 1 s adverts, priority 100: 3 s + (256-100)/256 s = 3609.375 ms after the last advert
    // heard, which arrived at most one advert interval (+1 ms wire delay) before the cut.
    const at = B.runner.views()[0]!.snapshot.lastTransition!.at;
    expect(at - cut).toBeGreaterThanOrEqual(3609.375 - 1001);
    expect(at - cut).toBeLessThanOrEqual(3609.375);
    expect(B.log.lines.some((l) => /VI_1: BACKUP -> MASTER \(master down/.test(l))).toBe(true);
    expect(B.vips.has('192.0.2.10')).toBe(true);
  });

  it('a graceful stop sends priority 0 and the backup takes over after skew time, not Master_Down_Interval', async () => {
    const { clock, A, B } = makePair(150, 100);
    A.runner.start();
    B.runner.start();
    clock.runUntil(5000);
    expect(state(A)).toBe('MASTER');
    const stopAt = clock.now();
    await A.runner.stop();
    expect(A.vips.size).toBe(0);
    clock.runUntil(stopAt + 700);
    expect(state(B)).toBe('MASTER');
    expect(B.transitions.at(-1)!.cause).toMatch(/priority 0 from master/);
  });

  it('puts the core\'s notify actions on the bus after each transition: its state (STOP when stopping), effective priority and cause', async () => {
    const { clock, A } = makePair(150, 100);
    A.runner.start();
    clock.runUntil(5000);
    await A.runner.stop();
    expect(A.notified.map((n) => [n.instance, n.state, n.priority])).toEqual([['VI_1', 'BACKUP', 150], ['VI_1', 'MASTER', 150], ['VI_1', 'STOP', 150]]);
    expect(A.notified[1]!.cause).toMatch(/^master down, \d+ ms without advert$/);
    expect(A.order).toEqual(['transition BACKUP', 'notify BACKUP', 'transition MASTER', 'notify MASTER', 'transition INIT', 'notify STOP']);
  });

  it('drops and counts a v2 interval mismatch and raises one alarm (keepalived drops silently and both become MASTER)', () => {
    const { clock, A, B } = makePair(150, 100, { advert_int: 2 });
    A.runner.start();
    B.runner.start();
    clock.runUntil(10_000);
    expect(B.runner.views()[0]!.drops['interval-mismatch']).toBeGreaterThan(0);
    expect(B.alarms.filter((a) => a.id === 'advert-interval-mismatch')).toHaveLength(1);
  });

  it('counts a malformed packet per interface and never lets it reach an instance', () => {
    const { A } = makePair(150, 100);
    A.runner.start();
    A.runner.receive({ interface: 'lan0', family: 4, payload: new Uint8Array([0x21, 51, 100, 1, 0, 1, 0xde, 0xad]), source: '192.0.2.9', destination: '224.0.0.18', ttl: 255 });
    A.runner.receive({ interface: 'lan0', family: 4, payload: new Uint8Array([1, 2, 3]), source: '192.0.2.9', destination: '224.0.0.18', ttl: 64 });
    const drops = A.runner.interfaceDropCounters().lan0!;
    expect(drops.short + drops.length + drops.checksum + drops.ttl).toBe(2);
    expect(A.runner.views()[0]!.snapshot.counters.advertsReceived).toBe(0);
  });

  it('a tracked check going down with a weight lowers the priority and hands the VIP over (preempt)', () => {
    const { clock, A, B } = makePair(150, 100, { track_checks: [{ name: 'gw', weight: -60 }] }, {});
    // The referenced check must exist for the config to pass; the plan maps it to "check:gw".
    expect(A.runner.views()[0]!.plan.tracked).toEqual([{ name: 'check:gw', weight: -60 }]);
    A.runner.start();
    B.runner.start();
    clock.runUntil(5000);
    expect(state(A)).toBe('MASTER');
    A.runner.track('check:gw', false);
    clock.runUntil(12_000);
    expect(state(A)).toBe('BACKUP');
    expect(state(B)).toBe('MASTER');
    expect(A.vips.size).toBe(0);
  });

  it('one stray advert with another address list (priority 254) is dropped like keepalived: no transition, counted, logged with source and both lists', () => {
    const { clock, A, B } = makePair(150, 100);
    A.runner.start();
    B.runner.start();
    clock.runUntil(5000);
    expect(state(A)).toBe('MASTER');
    for (const box of [A, B]) box.runner.receive(stray(254, ['10.88.0.200']));
    clock.runUntil(15_000);
    expect(state(A)).toBe('MASTER');
    expect(state(B)).toBe('BACKUP');
    expect(A.transitions.filter((t) => t.from === 'MASTER')).toHaveLength(0);
    for (const box of [A, B]) {
      expect(box.runner.views()[0]!.drops['address-list']).toBe(1);
      expect(box.log.lines.filter((l) => /VI_1: dropping advert from 192\.0\.2\.50 \(priority 254\): address list \[10\.88\.0\.200\] differs from ours \[192\.0\.2\.10\]/.test(l))).toHaveLength(1);
    }
  });

  it('the lenient address_list_mismatch "accept" acts on it and counts a warning, not a drop', () => {
    const { clock, A, B } = makePair(150, 100, { address_list_mismatch: 'accept' }, { address_list_mismatch: 'accept' });
    A.runner.start();
    B.runner.start();
    clock.runUntil(5000);
    A.runner.receive(stray(254, ['10.88.0.200']));
    clock.runUntil(5100);
    expect(state(A)).toBe('BACKUP');
    const v = A.runner.views()[0]!;
    expect(v.drops['address-list']).toBe(0);
    expect(v.warnings['address-list']).toBe(1);
    expect(v.accepted).toBeGreaterThanOrEqual(1);
  });

  it('every packet handed to receive() ends in exactly one counter: accepted, or one drop reason', async () => {
    const { clock, A, B } = makePair(150, 100);
    A.runner.start();
    B.runner.start();
    clock.runUntil(5000);
    const sent = [
      stray(254, ['10.88.0.200']),
      stray(254, ['192.0.2.10']), // our list: accepted (plain VRRP), A yields
      { ...stray(100, ['192.0.2.10']), ttl: 64 },
      { ...stray(100, ['192.0.2.10'], 52) },
      { ...stray(100, ['192.0.2.10']), source: '192.0.2.1' }, // A's own address
      { interface: 'lan0', family: 4 as const, payload: new Uint8Array([1, 2, 3]), source: '192.0.2.9', destination: '224.0.0.18', ttl: 255 },
    ];
    for (const p of sent) A.runner.receive(p);
    clock.runUntil(20_000);
    await A.runner.stop();
    A.runner.receive(stray(254, ['10.88.0.200'])); // after stop: still counted
    const ledger = (box: Box) => {
      const rx = box.runner.interfaceReceive().lan0!;
      const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
      const inst = box.runner.views().reduce((n, v) => n + v.accepted + sum(v.drops), 0);
      return { received: rx.received, accounted: sum(rx.drops) + rx.retiredAccepted + inst, rx };
    };
    const a = ledger(A);
    expect(a.received).toBeGreaterThan(sent.length);
    expect(a.accounted).toBe(a.received);
    expect(a.rx.drops.stopping).toBe(1);
    expect(a.rx.drops.ttl + a.rx.drops.short).toBe(2);
    expect(a.rx.drops.vrid).toBe(1);
    const b = ledger(B);
    expect(b.accounted).toBe(b.received);
  });

  it('pair mode: an advert from anyone but the twin is dropped as not-twin and handed to the gate, never to the instance', () => {
    const { clock, A, B } = makePair(150, 100);
    const foreign: string[] = [];
    for (const box of [A, B]) {
      box.runner.setPairGate({ twinFilter: () => ({ twin: new Set([box === A ? '192.0.2.2' : '192.0.2.1']) }), foreign: (_p, adv) => foreign.push(`${box.name}<-${adv.source}`) });
    }
    A.runner.start();
    B.runner.start();
    clock.runUntil(5000);
    expect(state(A)).toBe('MASTER');
    const received = B.runner.views()[0]!.snapshot.counters.advertsReceived;
    for (let t = 5000; t < 35_000; t += 1000) {
      clock.runUntil(t);
      for (const box of [A, B]) box.runner.receive(stray(254, ['192.0.2.10'])); // our own list: the worst case
    }
    clock.runUntil(36_000);
    expect(state(A)).toBe('MASTER');
    expect(state(B)).toBe('BACKUP');
    expect(A.transitions.filter((t) => t.from === 'MASTER')).toHaveLength(0);
    expect(A.runner.views()[0]!.drops['not-twin']).toBe(30);
    expect(B.runner.views()[0]!.drops['not-twin']).toBe(30);
    // The backup heard only the twin: its state machine never saw the stray adverts.
    expect(B.runner.views()[0]!.snapshot.master?.address).toBe('192.0.2.1');
    expect(B.runner.views()[0]!.snapshot.counters.advertsReceived - received).toBeLessThanOrEqual(32);
    expect(foreign).toHaveLength(60);
  });

  it('pair mode: stray adverts never reset the backup\'s Master_Down timer — the twin goes silent and the backup takes over on time while a stray with our list and priority 254 keeps advertising', () => {
    const { clock, wire, A, B } = makePair(150, 100);
    for (const box of [A, B]) {
      box.runner.setPairGate({ twinFilter: () => ({ twin: new Set([box === A ? '192.0.2.2' : '192.0.2.1']) }), foreign: () => undefined });
    }
    A.runner.start();
    B.runner.start();
    clock.runUntil(5000);
    expect(state(B)).toBe('BACKUP');
    wire.up = false; // the twin's adverts stop reaching B
    const cut = clock.now();
    // A stray every 250 ms from the cut on: four times per advert interval, each one would
    // restart the timer if it counted as "the master is alive".
    for (let t = cut; t < cut + 6000; t += 250) {
      clock.runUntil(t);
      B.runner.receive(stray(254, ['192.0.2.10']));
    }
    const takeover = B.transitions.find((t) => t.to === 'MASTER');
    expect(takeover?.cause).toMatch(/^master down/);
    // Master_Down_Interval after the last advert of the twin (3609.375 ms for priority 100),
    // as in the plain case above: the stray adverts changed nothing.
    const at = B.runner.views()[0]!.snapshot.lastTransition!.at;
    expect(at - cut).toBeGreaterThanOrEqual(3609.375 - 1001);
    expect(at - cut).toBeLessThanOrEqual(3609.375);
    expect(B.runner.views()[0]!.drops['not-twin']).toBe(24);
  });
});

function stray(priority: number, addresses: string[], vrid = 51) {
  const source = '192.0.2.50';
  const destination = '224.0.0.18';
  const payload = encodeAdvert({ version: 2, family: 4, vrid, priority, advertIntervalCs: 100, addresses, authType: 0, source, destination });
  return { interface: 'lan0', family: 4 as const, payload, source, destination, ttl: 255 };
}
