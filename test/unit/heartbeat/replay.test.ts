// The serial heartbeat against a recorder on the cable (issue #19): frames recorded from a real
// exchange and played back later, in any order, across a restart of either box, are never
// accepted, never retire the live peer, and never keep the twins from hearing each other.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePeerFrame, bootNumberOf } from '../../../src/heartbeat/frame';
import { FrameDecoder } from '../../../src/heartbeat/framing';
import { ReplayGuard } from '../../../src/heartbeat/replay';
import type { Received } from '../../../src/heartbeat/frame-receiver';
import { MAC } from './fixtures';
import { sync, Twin, WINDOW_MS } from './twin';

interface Recorded {
  wire: Buffer;
  from: 'a' | 'b';
  bootId: string;
  seq: number;
  at: number;
  kind: string;
  /** The life the receiving box was in when the frame was made. */
  toLife: number;
}

function header(wire: Buffer): { bootId: string; seq: number; kind: string } {
  const [d] = new FrameDecoder().push(wire);
  if (!d?.ok) throw new Error('not a frame');
  const m = decodePeerFrame(d.body, MAC);
  if (!m.ok) throw new Error(m.reason);
  return { bootId: m.frame.bootId, seq: m.frame.seq, kind: m.frame.kind };
}

/** A pair on a cable with a recorder: every frame either box sends is kept. */
class Cable {
  readonly tape: Recorded[] = [];
  a: Twin;
  b: Twin;
  lives = { a: 1, b: 1 };
  now = 0;

  constructor() {
    this.a = new Twin('gw-a', { bootNumber: 1 });
    this.b = new Twin('gw-b', { bootNumber: 1 });
  }

  twin(who: 'a' | 'b'): Twin {
    return who === 'a' ? this.a : this.b;
  }

  record(from: 'a' | 'b', wire: Buffer): Buffer {
    this.tape.push({ wire, from, at: this.now, toLife: this.lives[from === 'a' ? 'b' : 'a'], ...header(wire) });
    return wire;
  }

  /** One period: each box sends a heartbeat; delivered unless withheld (recorded either way). */
  step(deliver = true): { a: Received[]; b: Received[] } {
    this.now += 100;
    const fromA = this.record('a', this.a.heartbeat(this.now));
    const b = deliver ? this.b.hear(fromA, this.now) : [];
    const fromB = this.record('b', this.b.heartbeat(this.now));
    const a = deliver ? this.a.hear(fromB, this.now) : [];
    return { a, b };
  }

  restart(who: 'a' | 'b', bootNumber = ++this.lives[who]): void {
    const t = new Twin(`gw-${who}`, { bootNumber });
    if (who === 'a') this.a = t;
    else this.b = t;
  }

  /** Plays recorded frames into a box; returns what it accepted. */
  replay(to: 'a' | 'b', frames: Recorded[]): Received[] {
    return frames.flatMap((r) => this.twin(to).hear(r.wire, this.now)).filter((r) => r.ok);
  }
}

/** The orders a recorder can play its tape in. */
function orders(frames: Recorded[]): Recorded[][] {
  const rev = [...frames].reverse();
  let x = 7;
  const shuffled = [...frames].sort(() => ((x = (x * 1103515245 + 12345) & 0x7fffffff) % 3) - 1);
  const newestFirstPerKind = ['release', 'heartbeat', 'request'].flatMap((k) => rev.filter((f) => f.kind === k));
  return [frames, rev, shuffled, frames.flatMap((f) => [f, f]), newestFirstPerKind];
}

describe('serial heartbeat replay (recorded frames played back)', () => {
  it('the reported attack: a frame of a boot the receiver never saw is refused and does not retire the live peer', () => {
    const c = new Cable();
    // The recorder keeps a's frames from a life b never hears (b not started, or the cable cut).
    c.step(false);
    c.step(false);
    const unseen = c.tape.filter((r) => r.from === 'a');
    c.restart('a');
    c.restart('b');
    c.now = sync(c.a, c.b, c.now + 100);
    for (let i = 0; i < 5; i++) c.step();
    // Under the old guard, one such frame was 'new-boot' and every genuine frame after it 'replayed'.
    for (const order of orders(unseen)) expect(c.replay('b', order)).toEqual([]);
    const after = c.step();
    expect(after.b).toMatchObject([{ ok: true, newBoot: false, frame: { bootId: c.a.bootId } }]);
    expect(c.b.receiver.counters.peerReboots).toBe(0);
  });

  it('recorded heartbeats and releases of the live peer, played in every order, are refused; the peer stays heard', () => {
    const c = new Cable();
    c.now = sync(c.a, c.b, 0);
    for (let i = 0; i < 10; i++) {
      c.step();
      if (i === 4) c.b.hear(c.record('a', c.a.send({ kind: 'release', vrid: 51, family: 4 }, c.now)), c.now);
      if (i === 6) c.b.hear(c.record('a', c.a.send({ kind: 'request', reqId: 1, what: 'status' }, c.now)), c.now);
    }
    const fromA = c.tape.filter((r) => r.from === 'a');
    expect(fromA.map((r) => r.kind)).toContain('release');
    // At once (within the window) and later (past it).
    for (const wait of [0, WINDOW_MS + 100]) {
      // A line silent longer than the window needs one exchange before frames prove anything.
      if (wait > 0) c.now = sync(c.a, c.b, c.now + wait);
      for (const order of orders(fromA)) {
        expect(c.replay('b', order)).toEqual([]);
        expect(c.step().b).toMatchObject([{ ok: true }]);
      }
    }
    expect(c.b.receiver.counters.accepted.release).toBe(1);
    expect(c.b.receiver.counters.peerReboots).toBe(0);
  });

  it('after the receiver restarts, nothing recorded before is accepted, in any order; the genuine peer is heard again', () => {
    const c = new Cable();
    c.now = sync(c.a, c.b, 0);
    for (let i = 0; i < 10; i++) c.step();
    c.b.hear(c.record('a', c.a.send({ kind: 'release', vrid: 51, family: 4 }, c.now)), c.now);
    const tape = c.tape.filter((r) => r.from === 'a');
    c.restart('b');
    // Played before b has heard anyone, and again once it hears a.
    for (const order of orders(tape)) expect(c.replay('b', order)).toEqual([]);
    c.now = sync(c.a, c.b, c.now + 100);
    for (const order of orders(tape)) {
      expect(c.replay('b', order)).toEqual([]);
      expect(c.step().b).toMatchObject([{ ok: true, frame: { bootId: c.a.bootId } }]);
    }
  });

  it('after the sender restarts, its old life (seen or withheld by the recorder) never comes back, in any order', () => {
    const c = new Cable();
    c.now = sync(c.a, c.b, 0);
    for (let i = 0; i < 5; i++) c.step();
    // The recorder withholds a's last frames before it dies: b never saw these.
    c.step(false);
    c.record('a', c.a.send({ kind: 'release', vrid: 51, family: 4 }, c.now));
    const oldLife = c.tape.filter((r) => r.from === 'a');
    c.restart('a');
    c.now = sync(c.a, c.b, c.now + 100);
    expect(c.b.guard.livePeer?.bootId).toBe(c.a.bootId);
    expect(c.b.receiver.counters.peerReboots).toBe(1);
    for (const wait of [0, WINDOW_MS + 100]) {
      if (wait > 0) c.now = sync(c.a, c.b, c.now + wait);
      for (const order of orders(oldLife)) {
        expect(c.replay('b', order)).toEqual([]);
        expect(c.step().b).toMatchObject([{ ok: true, newBoot: false, frame: { bootId: c.a.bootId } }]);
      }
    }
    expect(c.b.receiver.counters.peerReboots).toBe(1);
    expect(c.b.receiver.counters.accepted.release).toBe(0);
  });

  it('frames carrying the receiver\'s own node id are refused (reflected, or recorded from its earlier lives)', () => {
    const c = new Cable();
    c.now = sync(c.a, c.b, 0);
    for (let i = 0; i < 5; i++) c.step();
    const ownFrames = c.tape.filter((r) => r.from === 'b');
    c.restart('b');
    c.now = sync(c.a, c.b, c.now + 100);
    for (const order of orders(ownFrames)) expect(c.replay('b', order)).toEqual([]);
    expect(c.b.receiver.counters.rejected['own-frame']).toBeGreaterThan(0);
    expect(c.step().b).toMatchObject([{ ok: true }]);
  });

  it('a recorder flooding old frames into both boxes while both restart cannot keep them from syncing', () => {
    const c = new Cable();
    c.now = sync(c.a, c.b, 0);
    for (let i = 0; i < 10; i++) c.step();
    const tape = [...c.tape];
    c.restart('a');
    c.restart('b');
    let heard = { a: 0, b: 0 };
    for (let i = 0; i < 10; i++) {
      // Three recorded frames of each box before every genuine one, in both directions.
      for (let k = 0; k < 3; k++) {
        expect(c.replay('b', [tape[(i * 3 + k) % tape.length]!])).toEqual([]);
        expect(c.replay('a', [tape[(i * 7 + k) % tape.length]!])).toEqual([]);
      }
      const r = c.step();
      if (r.a.some((x) => x.ok)) heard.a++;
      if (r.b.some((x) => x.ok)) heard.b++;
    }
    // Synced within two periods, then every period.
    expect(heard.a).toBeGreaterThanOrEqual(8);
    expect(heard.b).toBeGreaterThanOrEqual(8);
    heard = { a: 0, b: 0 };
  });

  it('a peer that lost its boot number (restarts below its recorded lives) is still heard while a recorder floods', () => {
    const c = new Cable();
    c.restart('a', 57);
    c.now = sync(c.a, c.b, 0);
    for (let i = 0; i < 10; i++) c.step();
    const tape = c.tape.filter((r) => r.from === 'a');
    c.restart('a', 1);
    let heardB = 0;
    let heardA = 0;
    for (let i = 0; i < 30; i++) {
      expect(c.replay('b', [tape[i % tape.length]!])).toEqual([]);
      const r = c.step();
      if (i >= 20 && r.b.some((x) => x.ok)) heardB++;
      if (i >= 20 && r.a.some((x) => x.ok)) heardA++;
    }
    expect(heardB).toBe(10);
    expect(heardA).toBe(10);
  });

  it('a sender that has used up 32 bits of seq goes on under its next boot number, and the peer follows', () => {
    const guard = new ReplayGuard({ nodeId: 'gw-a', bootId: '00000005aabbccdd', windowMs: WINDOW_MS });
    (guard as unknown as { seq: number }).seq = 0xffffffff;
    const h = guard.next(0);
    expect(h).toMatchObject({ seq: 1, bootId: '00000006aabbccdd' });
    expect(bootNumberOf(h.bootId)).toBe(6);
  });

  it('property: whatever a recorder withholds, replays or reorders, across restarts of either box, no frame is accepted twice, late, or from an older life, and the twins keep hearing each other', () => {
    const op = fc.oneof(
      fc.constant({ op: 'step' as const }),
      fc.constant({ op: 'withhold' as const }),
      fc.record({ op: fc.constant('inject' as const), idx: fc.nat(), to: fc.constantFrom('a' as const, 'b' as const) }),
      fc.record({ op: fc.constant('restart' as const), who: fc.constantFrom('a' as const, 'b' as const) }),
      fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 100, max: 3000 }) }),
      fc.constant({ op: 'release' as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.array(fc.nat(), { minLength: 48, maxLength: 48 }), (ops, noise) => {
        const c = new Cable();
        const accepted = { a: new Set<string>(), b: new Set<string>() };
        /** Per receiver: the sender's newest life accepted, and the receiver's life each frame was made in. */
        const newest = { a: 0, b: 0 };
        const check = (to: 'a' | 'b', got: Received[]): void => {
          for (const g of got) {
            if (!g.ok) continue;
            const key = `${g.frame.bootId}:${g.frame.seq}`;
            const rec = c.tape.find((r) => `${r.bootId}:${r.seq}` === key)!;
            expect(rec, 'accepted a frame nobody sent').toBeDefined();
            expect(rec.from).not.toBe(to);
            expect(accepted[to].has(key), `accepted ${key} twice`).toBe(false);
            accepted[to].add(key);
            expect(c.now - rec.at, 'accepted after the window').toBeLessThanOrEqual(WINDOW_MS);
            const life = bootNumberOf(rec.bootId);
            expect(life, 'accepted an older life of the peer').toBeGreaterThanOrEqual(newest[to]);
            newest[to] = life;
            expect(rec.toLife, 'accepted a frame made during an earlier life of the receiver').toBe(c.lives[to]);
          }
        };
        const step = (deliver: boolean) => {
          const r = c.step(deliver);
          check('a', r.a);
          check('b', r.b);
          return r;
        };
        for (const o of ops) {
          if (o.op === 'step') step(true);
          else if (o.op === 'withhold') step(false);
          else if (o.op === 'wait') c.now += o.ms;
          else if (o.op === 'restart') c.restart(o.who);
          else if (o.op === 'release') {
            c.now += 10;
            check('b', c.b.hear(c.record('a', c.a.send({ kind: 'release', vrid: 51, family: 4 }, c.now)), c.now));
          } else if (c.tape.length > 0) {
            const r = c.tape[o.idx % c.tape.length]!;
            check(o.to, c.twin(o.to).hear(r.wire, c.now));
          }
        }
        // Then the recorder keeps playing its tape in both directions, two frames before every
        // genuine one: the twins sync and hear each other.
        let heard = { a: 0, b: 0 };
        for (let i = 0; i < 24; i++) {
          for (let k = 0; k < 2; k++) {
            if (c.tape.length === 0) break;
            const r = c.tape[noise[i * 2 + k]! % c.tape.length]!;
            const to = r.from === 'a' ? 'b' : 'a';
            check(to, c.twin(to).hear(r.wire, c.now));
          }
          const r = step(true);
          if (i >= 12) {
            if (r.a.some((x) => x.ok)) heard.a++;
            if (r.b.some((x) => x.ok)) heard.b++;
          }
        }
        expect(heard.a).toBeGreaterThanOrEqual(6);
        expect(heard.b).toBeGreaterThanOrEqual(6);
        heard = { a: 0, b: 0 };
      }),
      { numRuns: 100 },
    );
  });
});
