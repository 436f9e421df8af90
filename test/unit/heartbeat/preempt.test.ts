// Preempt in one exchange (issue 21), each part on a fake clock: the hold-down rule, the frame
// flag, the twin's arbiter turning the request into a claim only when it is the outranked
// MASTER of a pair, and two VRRP machines and two arbiters wired together: the whole exchange.
import { describe, expect, it } from 'vitest';
import { HeartbeatArbiter, type ArbiterOutput } from '../../../src/heartbeat/arbiter';
import { decodePeerFrame, encodePeerFrame, type HeartbeatFrame, type InstanceReport } from '../../../src/heartbeat/frame';
import { DEFAULT_PREEMPT_HOLD_DOWN_MS, preemptDueAt, wantsMaster } from '../../../src/heartbeat/preempt';
import { VrrpInstance } from '../../../src/vrrp/instance';
import type { Action } from '../../../src/vrrp/events';
import { Harness } from './arbiter-harness';
import { hb, inst, MAC as KEY } from './fixtures';

describe('hold-down', () => {
  it('due hold-down ms after the BACKUP became ready; never without readiness', () => {
    expect(DEFAULT_PREEMPT_HOLD_DOWN_MS).toBe(500);
    expect(preemptDueAt(null, 500)).toBeNull();
    expect(preemptDueAt(1000, 500)).toBe(1500);
    expect(wantsMaster(1000, 500, 1499)).toBe(false);
    expect(wantsMaster(1000, 500, 1500)).toBe(true);
    expect(wantsMaster(1000, 0, 1000)).toBe(true);
    expect(wantsMaster(null, 0, 1e9)).toBe(false);
  });
});

describe('frame flag', () => {
  it('wantsMaster travels as flag bit 2 and decodes; absent when not set (older twins never set it)', () => {
    const header = { nodeId: 'gw-b', bootId: '0123456789abcdef', seq: 7 };
    const withFlag: HeartbeatFrame = { ...header, kind: 'heartbeat', ...hb({ instances: [inst({ state: 'BACKUP', wantsMaster: true })] }) };
    const decoded = decodePeerFrame(encodePeerFrame(withFlag, KEY), KEY);
    expect(decoded).toEqual({ ok: true, frame: withFlag });
    const without: HeartbeatFrame = { ...header, kind: 'heartbeat', ...hb({ instances: [inst({ state: 'BACKUP' })] }) };
    const d2 = decodePeerFrame(encodePeerFrame(without, KEY), KEY);
    expect(d2.ok && d2.frame.kind === 'heartbeat' && d2.frame.instances[0]!.wantsMaster).toBeUndefined();
  });
});

describe("the twin's arbiter: a preempt request is a claim only for the outranked MASTER of a pair", () => {
  const request = (h: Harness, priority: number) => h.heartbeat({ state: 'BACKUP', effectivePriority: priority, wantsMaster: true });
  const claims = (h: Harness) => h.vrrp('peer-claim').map((c) => (c.out.type === 'vrrp' && c.out.event.type === 'peer-claim' ? c.out.event.priority : null));

  it('MASTER at 100, the twin asks at 150: one claim at 150 (the VRRP machine steps down)', () => {
    const h = new Harness();
    h.local('MASTER', 100);
    request(h, 150);
    expect(claims(h)).toEqual([150]);
  });

  it('no claim: equal or lower priority, this node BACKUP, the flag absent, a mixed group, a foreign router heard', () => {
    const h = new Harness();
    h.local('MASTER', 150);
    request(h, 150);
    request(h, 100);
    h.local('BACKUP', 100);
    request(h, 150);
    h.local('MASTER', 100);
    h.heartbeat({ state: 'BACKUP', effectivePriority: 150 });
    expect(claims(h)).toEqual([]);
    const mixed = new Harness({ instances: [{ vrid: 51, family: 4, advertIntervalCs: 100, mixedGroup: true }] });
    mixed.local('MASTER', 100);
    request(mixed, 150);
    expect(claims(mixed)).toEqual([]);
    const conflict = new Harness();
    conflict.local('MASTER', 100);
    conflict.heartbeat({ state: 'BACKUP' });
    conflict.feed({ type: 'foreign-advert', vrid: 51, family: 4, source: '192.168.10.50', priority: 200, addresses: ['10.0.0.1'] });
    request(conflict, 150);
    expect(claims(conflict)).toEqual([]);
  });
});

describe('the whole exchange: two VRRP machines and two arbiters', () => {
  // A (150) returns while B (100) is MASTER. Each side's shell is reduced to what matters:
  // B's heartbeat carries its state; A's carries wantsMaster once its hold-down has passed; B's
  // step-down (cause 'peer claim') is followed by its release frame (its VIPs are gone).
  it('A ready -> hold-down -> request -> B steps down -> release -> A MASTER at once; nopreempt never asks; a flap restarts the hold-down', () => {
    const mkInst = (name: string, priority: number, address: string, preempt = true) =>
      new VrrpInstance({ name, vrid: 51, version: 2, family: 4, priority, advertIntervalCs: 100, preempt, primaryAddress: address, vips: ['10.0.0.100'], tracked: [{ name: 'lan' }] });
    const run = (preempt: boolean, flapAt?: number) => {
      const a = mkInst('A', 150, '10.0.0.1', preempt);
      const b = mkInst('B', 100, '10.0.0.2');
      const arbA = new HeartbeatArbiter({ instances: [{ vrid: 51, family: 4, advertIntervalCs: 100 }] }, 0);
      const arbB = new HeartbeatArbiter({ instances: [{ vrid: 51, family: 4, advertIntervalCs: 100 }] }, 0);
      const log: string[] = [];
      let seq = 0;
      const note = (who: string, acts: Action[], t: number) => {
        for (const x of acts) if (x.type === 'transition') log.push(`${t} ${who} ${x.from}->${x.to} (${x.cause})`);
        return acts;
      };
      // B is MASTER, A in FAULT (its link down) until 1000.
      a.handle({ type: 'track', name: 'lan', up: false }, 0);
      a.handle({ type: 'startup' }, 0);
      b.handle({ type: 'startup' }, 0);
      note('B', b.handle({ type: 'peer-dead' }, 10), 10);
      note('A', a.handle({ type: 'track', name: 'lan', up: true }, 1000), 1000);
      const report = (x: VrrpInstance, t: number): InstanceReport => {
        const s = x.snapshot();
        return {
          vrid: 51, family: 4, state: s.state, effectivePriority: s.effectivePriority, advertIntervalCs: 100, address: x === a ? '10.0.0.1' : '10.0.0.2',
          ...(s.state === 'BACKUP' && wantsMaster(s.preemptReadySince, 500, t) ? { wantsMaster: true } : {}),
        };
      };
      const frame = (node: string, r: InstanceReport): HeartbeatFrame => ({ kind: 'heartbeat', nodeId: node, bootId: '0123456789abcdef', seq: ++seq, ...hb({ instances: [r], addresses: [r.address] }) });
      const deliver = (x: VrrpInstance, who: string, outs: ArbiterOutput[], t: number) => {
        const acts: Action[] = [];
        for (const o of outs) if (o.type === 'vrrp') acts.push(...note(who, x.handle(o.event, t), t));
        return acts;
      };
      for (let t = 1000; t <= 5000; t += 100) {
        if (flapAt !== undefined && t === flapAt) {
          note('A', a.handle({ type: 'track', name: 'lan', up: false }, t), t);
          note('A', a.handle({ type: 'track', name: 'lan', up: true }, t), t);
        }
        for (const [x, who] of [[a, 'A'], [b, 'B']] as const) {
          const at = x.nextDeadline();
          if (at !== undefined && at <= t) note(who, x.handle({ type: 'timer' }, t), t);
        }
        for (const [x, arb] of [[a, arbA], [b, arbB]] as const) arb.handle({ type: 'local-state', vrid: 51, family: 4, state: x.snapshot().state, priority: x.snapshot().effectivePriority }, t);
        // B's heartbeat reaches A; A's reaches B.
        deliver(a, 'A', arbA.handle({ type: 'serial-frame', frame: frame('b', report(b, t)) }, t), t);
        const stepped = deliver(b, 'B', arbB.handle({ type: 'serial-frame', frame: frame('a', report(a, t)) }, t), t);
        if (stepped.some((x) => x.type === 'transition' && x.from === 'MASTER' && x.cause === 'peer claim')) {
          // B's shell: VIPs removed, then the release frame.
          deliver(a, 'A', arbA.handle({ type: 'serial-frame', frame: { kind: 'release', nodeId: 'b', bootId: '0123456789abcdef', seq: ++seq, vrid: 51, family: 4 } }, t + 5), t + 5);
        }
        if (a.currentState === 'MASTER') break;
      }
      return { log, a: a.currentState, b: b.currentState };
    };

    const fast = run(true);
    // A leaves FAULT at 1000, is ready from the first claim it discards (1000), asks at 1500.
    expect(fast.log).toEqual([
      '10 B BACKUP->MASTER (peer dead on both channels)',
      '1000 A FAULT->BACKUP (fault cleared)',
      '1500 B MASTER->BACKUP (peer claim)',
      '1505 A BACKUP->MASTER (twin released)',
    ]);
    // nopreempt: A never asks; the RFC path does not preempt either.
    const never = run(false);
    expect(never.a).toBe('BACKUP');
    expect(never.b).toBe('MASTER');
    // A flap at 1300 (down and up again) starts the hold-down over: the request leaves 500 ms
    // after A is back, not at 1500.
    const flap = run(true, 1300);
    expect(flap.log.slice(-4)).toEqual(['1300 A BACKUP->FAULT (fault)', '1300 A FAULT->BACKUP (fault cleared)', '1800 B MASTER->BACKUP (peer claim)', '1805 A BACKUP->MASTER (twin released)']);
  });
});
