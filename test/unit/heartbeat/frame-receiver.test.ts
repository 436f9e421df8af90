import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameReceiver } from '../../../src/heartbeat/frame-receiver';
import { FrameSender } from '../../../src/heartbeat/frame-sender';
import { hb, KEY, OTHER_KEY } from './fixtures';
import { randomBootId } from '../../../src/ha/heartbeat/frame-crypto';

function pair(senderKey = KEY) {
  const sender = new FrameSender({ mac: senderKey, newBootId: randomBootId, nodeId: 'gw-a' });
  const receiver = new FrameReceiver({ mac: KEY, ownBootId: () => 'ffffffffffffffff' });
  return { sender, receiver };
}

describe('FrameReceiver', () => {
  it('accepts a stream of heartbeats in order', () => {
    const { sender, receiver } = pair();
    const got = receiver.push(Buffer.concat([1, 2, 3].map(() => sender.encode({ kind: 'heartbeat', ...hb() }))), 0);
    expect(got.map((g) => g.ok && g.frame.seq)).toEqual([1, 2, 3]);
    expect(receiver.counters.accepted.heartbeat).toBe(3);
  });

  it('counts a wrong key as bad-hmac and accepts nothing', () => {
    const { sender, receiver } = pair(OTHER_KEY);
    const got = receiver.push(Buffer.concat([1, 2].map(() => sender.encode({ kind: 'heartbeat', ...hb() }))), 0);
    expect(got).toEqual([{ ok: false, reason: 'bad-hmac' }, { ok: false, reason: 'bad-hmac' }]);
    expect(receiver.counters.rejected['bad-hmac']).toBe(2);
    expect(receiver.counters.accepted.heartbeat).toBe(0);
  });

  it('rejects a replayed and a reordered frame, and counts them', () => {
    const { sender, receiver } = pair();
    const f1 = sender.encode({ kind: 'heartbeat', ...hb() });
    const f2 = sender.encode({ kind: 'heartbeat', ...hb() });
    expect(receiver.push(f2, 0)[0]!.ok).toBe(true);
    expect(receiver.push(f1, 0)).toEqual([{ ok: false, reason: 'replayed' }]);
    expect(receiver.push(f2, 0)).toEqual([{ ok: false, reason: 'replayed' }]);
    expect(receiver.counters.rejected.replayed).toBe(2);
  });

  it('accepts a peer reboot (new bootId, seq from 1), records it, and refuses the old boot afterwards', () => {
    const receiver = new FrameReceiver({ mac: KEY, ownBootId: () => 'ffffffffffffffff' });
    const boot1 = new FrameSender({ mac: KEY, newBootId: randomBootId, nodeId: 'gw-a', bootId: '1111111111111111' });
    const old = boot1.encode({ kind: 'heartbeat', ...hb() });
    receiver.push(boot1.encode({ kind: 'heartbeat', ...hb() }), 0);
    const boot2 = new FrameSender({ mac: KEY, newBootId: randomBootId, nodeId: 'gw-a', bootId: '2222222222222222' });
    const got = receiver.push(boot2.encode({ kind: 'heartbeat', ...hb() }), 0);
    expect(got[0]).toMatchObject({ ok: true, newBoot: true, frame: { bootId: '2222222222222222', seq: 1 } });
    expect(receiver.counters.peerReboots).toBe(1);
    expect(receiver.push(old, 0)).toEqual([{ ok: false, reason: 'replayed' }]);
  });

  it('rejects heartbeats held back in a buffer as stale, and accepts current ones again after', () => {
    const { sender, receiver } = pair();
    const frame = (uptimeMs: number) => sender.encode({ kind: 'heartbeat', ...hb({ uptimeMs }) });
    // Prompt delivery: our clock and the peer's uptime advance together.
    for (let t = 0; t <= 1000; t += 100) expect(receiver.push(frame(20_000 + t), t)[0]!.ok).toBe(true);
    // A backlog written at peer uptime 21100..21500 is delivered in one burst at our 3000 ms.
    const backlog = Buffer.concat([1100, 1200, 1300, 1400, 1500].map((t) => frame(20_000 + t)));
    expect(receiver.push(backlog, 3000).map((r) => r.ok || r.reason)).toEqual(['stale', 'stale', 'stale', 'stale', 'stale']);
    expect(receiver.counters.rejected.stale).toBe(5);
    // Then the line is prompt again; up to the tolerance of delay is accepted.
    expect(receiver.push(frame(23_000), 3000)[0]!.ok).toBe(true);
    expect(receiver.push(frame(23_100), 3100 + 450)[0]!.ok).toBe(true);
  });

  it('never ages frames because of clock drift between the boxes (peer clock 200 ppm slow, one day)', () => {
    const { sender, receiver } = pair();
    let stale = 0;
    for (let t = 0; t <= 86_400_000; t += 10_000) {
      const r = receiver.push(sender.encode({ kind: 'heartbeat', ...hb({ uptimeMs: Math.round(t * 0.9998) }) }), t);
      if (!r[0]!.ok) stale++;
    }
    expect(stale).toBe(0);
  });

  it('rejects its own transmission looped back', () => {
    const sender = new FrameSender({ mac: KEY, newBootId: randomBootId, nodeId: 'gw-a' });
    const receiver = new FrameReceiver({ mac: KEY, ownBootId: () => sender.bootId });
    expect(receiver.push(sender.encode({ kind: 'heartbeat', ...hb() }), 0)).toEqual([{ ok: false, reason: 'own-frame' }]);
  });

  it('property: garbage interleaved with valid frames never yields a false frame, and every valid frame gets through', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            garbage: fc.uint8Array({ maxLength: 300 }),
            tag: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 16 }),
            split: fc.nat({ max: 400 }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        (steps) => {
          const sender = new FrameSender({ mac: KEY, newBootId: randomBootId, nodeId: 'gw-a' });
          const receiver = new FrameReceiver({ mac: KEY, ownBootId: () => 'ffffffffffffffff' });
          const sent: string[] = [];
          const accepted: string[] = [];
          steps.forEach((s, i) => {
            // One heartbeat per 100 ms period; the tag identifies the frame.
            const now = i * 100;
            const wire = sender.encode({ kind: 'heartbeat', ...hb({ uptimeMs: 50_000 + now, configHash: s.tag }) });
            sent.push(s.tag);
            // Garbage lands between frames, in arbitrary chunking.
            const stream = Buffer.concat([Buffer.from(s.garbage), wire]);
            const cut = Math.min(s.split, stream.length);
            for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
              for (const r of receiver.push(part, now)) {
                if (r.ok) {
                  expect(r.frame.kind).toBe('heartbeat');
                  if (r.frame.kind === 'heartbeat') accepted.push(r.frame.configHash);
                }
              }
            }
          });
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
          const sender = new FrameSender({ mac: KEY, newBootId: randomBootId, nodeId: 'gw-a' });
          const receiver = new FrameReceiver({ mac: KEY, ownBootId: () => 'ffffffffffffffff' });
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
          const got = receiver.push(mangled, 0);
          // A corrupted frame is rejected and counted; it never passes as a heartbeat.
          expect(got.filter((g) => g.ok)).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
