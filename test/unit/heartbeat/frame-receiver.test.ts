import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameReceiver } from '../../../src/heartbeat/frame-receiver';
import { FrameSender } from '../../../src/heartbeat/frame-sender';
import { hb, KEY, OTHER_KEY } from './fixtures';

function pair(senderKey = KEY) {
  const sender = new FrameSender({ key: senderKey, nodeId: 'gw-a' });
  const receiver = new FrameReceiver({ key: KEY, ownBootId: () => 'ffffffffffffffff' });
  return { sender, receiver };
}

describe('FrameReceiver', () => {
  it('accepts a stream of heartbeats in order', () => {
    const { sender, receiver } = pair();
    const got = receiver.push(Buffer.concat([1, 2, 3].map(() => sender.encode({ kind: 'heartbeat', ...hb() }))));
    expect(got.map((g) => g.ok && g.frame.seq)).toEqual([1, 2, 3]);
    expect(receiver.counters.accepted.heartbeat).toBe(3);
  });

  it('counts a wrong key as bad-hmac and accepts nothing', () => {
    const { sender, receiver } = pair(OTHER_KEY);
    const got = receiver.push(Buffer.concat([1, 2].map(() => sender.encode({ kind: 'heartbeat', ...hb() }))));
    expect(got).toEqual([{ ok: false, reason: 'bad-hmac' }, { ok: false, reason: 'bad-hmac' }]);
    expect(receiver.counters.rejected['bad-hmac']).toBe(2);
    expect(receiver.counters.accepted.heartbeat).toBe(0);
  });

  it('rejects a replayed and a reordered frame, and counts them', () => {
    const { sender, receiver } = pair();
    const f1 = sender.encode({ kind: 'heartbeat', ...hb() });
    const f2 = sender.encode({ kind: 'heartbeat', ...hb() });
    expect(receiver.push(f2)[0]!.ok).toBe(true);
    expect(receiver.push(f1)).toEqual([{ ok: false, reason: 'replayed' }]);
    expect(receiver.push(f2)).toEqual([{ ok: false, reason: 'replayed' }]);
    expect(receiver.counters.rejected.replayed).toBe(2);
  });

  it('accepts a peer reboot (new bootId, seq from 1), records it, and refuses the old boot afterwards', () => {
    const receiver = new FrameReceiver({ key: KEY, ownBootId: () => 'ffffffffffffffff' });
    const boot1 = new FrameSender({ key: KEY, nodeId: 'gw-a', bootId: '1111111111111111' });
    const old = boot1.encode({ kind: 'heartbeat', ...hb() });
    receiver.push(boot1.encode({ kind: 'heartbeat', ...hb() }));
    const boot2 = new FrameSender({ key: KEY, nodeId: 'gw-a', bootId: '2222222222222222' });
    const got = receiver.push(boot2.encode({ kind: 'heartbeat', ...hb() }));
    expect(got[0]).toMatchObject({ ok: true, newBoot: true, frame: { bootId: '2222222222222222', seq: 1 } });
    expect(receiver.counters.peerReboots).toBe(1);
    expect(receiver.push(old)).toEqual([{ ok: false, reason: 'replayed' }]);
  });

  it('rejects its own transmission looped back', () => {
    const sender = new FrameSender({ key: KEY, nodeId: 'gw-a' });
    const receiver = new FrameReceiver({ key: KEY, ownBootId: () => sender.bootId });
    expect(receiver.push(sender.encode({ kind: 'heartbeat', ...hb() }))).toEqual([{ ok: false, reason: 'own-frame' }]);
  });

  it('property: garbage interleaved with valid frames never yields a false frame, and every valid frame gets through', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            garbage: fc.uint8Array({ maxLength: 300 }),
            uptimeMs: fc.nat({ max: 2 ** 40 }),
            split: fc.nat({ max: 400 }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        (steps) => {
          const sender = new FrameSender({ key: KEY, nodeId: 'gw-a' });
          const receiver = new FrameReceiver({ key: KEY, ownBootId: () => 'ffffffffffffffff' });
          const sent: number[] = [];
          const accepted: number[] = [];
          for (const s of steps) {
            const wire = sender.encode({ kind: 'heartbeat', ...hb({ uptimeMs: s.uptimeMs }) });
            sent.push(s.uptimeMs);
            // Garbage lands between frames, in arbitrary chunking.
            const stream = Buffer.concat([Buffer.from(s.garbage), wire]);
            const cut = Math.min(s.split, stream.length);
            for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
              for (const r of receiver.push(part)) {
                if (r.ok) {
                  expect(r.frame.kind).toBe('heartbeat');
                  if (r.frame.kind === 'heartbeat') accepted.push(r.frame.uptimeMs);
                }
              }
            }
          }
          expect(accepted).toEqual(sent);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: frames corrupted by bit flips, insertions or deletions are never accepted', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 10_000 }),
        fc.array(fc.record({ op: fc.constantFrom('flip', 'insert', 'delete'), at: fc.nat(), bit: fc.nat({ max: 7 }), byte: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 4 }),
        (uptimeMs, edits) => {
          const sender = new FrameSender({ key: KEY, nodeId: 'gw-a' });
          const receiver = new FrameReceiver({ key: KEY, ownBootId: () => 'ffffffffffffffff' });
          const wire = sender.encode({ kind: 'heartbeat', ...hb({ uptimeMs }) });
          const bytes = [...wire];
          const original = Buffer.from(wire);
          for (const e of edits) {
            const at = 1 + (e.at % (bytes.length - 2));
            if (e.op === 'flip') bytes[at] = bytes[at]! ^ (1 << e.bit);
            else if (e.op === 'insert') bytes.splice(at, 0, e.byte);
            else bytes.splice(at, 1);
          }
          const mangled = Buffer.from(bytes);
          fc.pre(!mangled.equals(original));
          const got = receiver.push(mangled);
          // A corrupted frame is rejected and counted; it never passes as a heartbeat.
          expect(got.filter((g) => g.ok)).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
