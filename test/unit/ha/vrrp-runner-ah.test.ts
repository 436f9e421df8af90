// IPsec AH through the VRRP runner: two runners on an in-memory wire that carries the sealed
// IPv4 datagrams (what the AH socket sends and receives), with a fake clock. Covers the
// keepalived sequence-number behaviour across a restart, key mismatch and replays.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../helpers/fake-clock';
import { parseConfigText } from '../../../src/config';
import { planInstance, type InstancePlan } from '../../../src/ha/vrrp/instance-plan';
import { VrrpRunner, type VrrpIo } from '../../../src/ha/vrrp/runner';
import { EventBus, type DaemonEvents } from '../../../src/daemon/events';
import { Logger, memorySink } from '../../../src/log';
import { AH_PROTOCOL, parseAhDatagram } from '../../../src/vrrp/ah';


const ADDR = { A: '192.0.2.1', B: '192.0.2.2' } as const;

function plan(name: 'A' | 'B', priority: number, password: string, extra: Record<string, unknown> = {}): InstancePlan {
  const r = parseConfigText(JSON.stringify({
    instances: { VI_1: { interface: 'lan0', vrid: 51, priority, vips: ['192.0.2.10/24'], authentication: { type: 'AH', password }, ...extra } },
  }));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return planInstance(r.config, 'VI_1', r.config.instances.VI_1!, ADDR[name], [ADDR[name]]);
}

interface Box {
  runner: VrrpRunner;
  sent: Uint8Array[];
  transitions: DaemonEvents['transition'][];
  alarms: DaemonEvents['alarm'][];
}

function lab() {
  const clock = new FakeClock();
  const boxes = new Map<string, Box>();
  const wire = { up: true };
  const make = (name: 'A' | 'B', p: InstancePlan): Box => {
    const bus = new EventBus();
    const logger = new Logger({ sink: memorySink(), level: 'debug', format: 'text', now: () => clock.now() });
    const box: Box = { runner: undefined as unknown as VrrpRunner, sent: [], transitions: [], alarms: [] };
    const io: VrrpIo = {
      send: (_p, destination, bytes) => {
        box.sent.push(Uint8Array.from(bytes));
        if (!wire.up) return;
        const copy = Uint8Array.from(bytes);
        clock.schedule(clock.now() + 1, () => {
          for (const [other, b] of boxes) {
            if (other === name) continue;
            b.runner.receive({ interface: 'lan0', family: 4, payload: copy, source: ADDR[name], destination, ttl: 255, protocol: AH_PROTOCOL });
          }
        });
      },
      setVips: async () => {},
      announce: () => {},
    };
    bus.on('transition', (e) => box.transitions.push(e));
    bus.on('alarm', (e) => box.alarms.push(e));
    box.runner = new VrrpRunner({ plans: [p], groups: {}, io, clock, log: logger.for('vrrp'), bus });
    boxes.set(name, box);
    return box;
  };
  return { clock, wire, make, boxes };
}

const state = (b: Box) => b.runner.views()[0]!.snapshot.state;
const drops = (b: Box) => b.runner.views()[0]!.drops;
const seqOf = (d: Uint8Array) => {
  const p = parseAhDatagram(d);
  if (!p.ok) throw new Error(p.detail);
  return p.datagram.envelope.sequence;
};

describe('VrrpRunner with auth type AH', () => {
  it('sends AH datagrams numbered 1, 2, 3 with IP ID = sequence; a same-key backup follows the master', () => {
    const { clock, make } = lab();
    const A = make('A', plan('A', 150, 'k3y'));
    const B = make('B', plan('B', 100, 'k3y'));
    A.runner.start();
    B.runner.start();
    clock.runUntil(8000);
    expect(state(A)).toBe('MASTER');
    expect(state(B)).toBe('BACKUP');
    expect(A.sent.map(seqOf).slice(0, 3)).toEqual([1, 2, 3]);
    expect(A.sent.map((d) => (d[4]! << 8) | d[5]!).slice(0, 3)).toEqual([1, 2, 3]);
    expect(B.runner.views()[0]!.snapshot.counters.advertsReceived).toBe(A.sent.length);
    expect(drops(B).auth + drops(B)['auth-replay'] + drops(B)['auth-type-mismatch']).toBe(0);
  });

  it('another key: every advert is an auth drop, both become MASTER, one critical alarm', () => {
    const { clock, make } = lab();
    const A = make('A', plan('A', 150, 'k3y'));
    const B = make('B', plan('B', 100, 'other'));
    A.runner.start();
    B.runner.start();
    clock.runUntil(8000);
    expect(state(A)).toBe('MASTER');
    expect(state(B)).toBe('MASTER');
    expect(drops(B).auth).toBe(A.sent.length);
    expect(B.alarms.filter((a) => a.id === 'advert-auth')).toHaveLength(1);
    expect(B.alarms[0]!.severity).toBe('critical');
  });

  it('a replayed advert is dropped and counted, and does not keep a backup from taking over', () => {
    const { clock, make, wire, boxes } = lab();
    const A = make('A', plan('A', 150, 'k3y'));
    const B = make('B', plan('B', 100, 'k3y'));
    A.runner.start();
    B.runner.start();
    clock.runUntil(5000);
    expect(state(B)).toBe('BACKUP');
    const recorded = A.sent.slice();
    wire.up = false; // A goes silent; an attacker replays its recorded adverts every 500 ms
    const replay = (at: number) => {
      for (const d of recorded) boxes.get('B')!.runner.receive({ interface: 'lan0', family: 4, payload: d, source: ADDR.A, destination: '224.0.0.18', ttl: 255, protocol: AH_PROTOCOL });
      if (at < 12000) clock.schedule(at + 500, () => replay(at + 500));
    };
    clock.schedule(5100, () => replay(5100));
    clock.runUntil(12000);
    expect(drops(B)['auth-replay']).toBeGreaterThanOrEqual(recorded.length * 10);
    expect(state(B)).toBe('MASTER');
  });

  it('a restarted master (counter back at 0) is refused by the backup until the counters converge, as with keepalived', () => {
    const { clock, make, boxes, wire } = lab();
    const A = make('A', plan('A', 150, 'k3y'));
    const B = make('B', plan('B', 100, 'k3y'));
    A.runner.start();
    B.runner.start();
    clock.runUntil(20_000);
    // Just after one of A's adverts, so A2 (priority 150, Master_Down 3.41 s) times out before
    // B (priority 100, 3.61 s after that advert) and speaks first, with numbers from 1.
    const before = A.sent.length + 1;
    while (A.sent.length < before) clock.runUntil(clock.now() + 10);
    expect(before).toBeGreaterThan(10);
    // A crashes (no priority 0 reaches B) and restarts at once with a fresh counter; B keeps
    // its counter at A's last number.
    wire.up = false;
    void A.runner.stop();
    wire.up = true;
    const A2 = make('A', plan('A', 150, 'k3y'));
    A2.runner.start();
    boxes.set('A', A2);
    clock.runUntil(40_000);
    // B dropped A2's low numbers, took over, then A2 heard B's lower priority, synced its
    // counter above B's and preempted: one MASTER again, B accepting A2's adverts.
    expect(drops(B)['auth-replay']).toBeGreaterThan(0);
    expect(state(A2)).toBe('MASTER');
    expect(state(B)).toBe('BACKUP');
    expect(seqOf(A2.sent.at(-1)!)).toBeGreaterThan(before);
    const lastDrops = drops(B)['auth-replay'];
    clock.runUntil(45_000);
    expect(drops(B)['auth-replay']).toBe(lastDrops);
  });

  it('state MASTER with AH is refused by the config check (keepalived clears it)', () => {
    expect(() => plan('A', 150, 'k3y', { state: 'MASTER' })).toThrow(/authentication AH requires state BACKUP/);
  });
});
