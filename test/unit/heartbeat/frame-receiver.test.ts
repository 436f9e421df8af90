import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OTHER_MAC } from './fixtures';
import { sync, Twin } from './twin';

/** a and b in sync at the returned time. */
function pair(aOpts: ConstructorParameters<typeof Twin>[1] = {}) {
  const a = new Twin('gw-a', aOpts);
  const b = new Twin('gw-b');
  return { a, b, now: sync(a, b, 0) };
}

describe('FrameReceiver', () => {
  it('accepts a stream of heartbeats in order once the peer echoes us', () => {
    const a = new Twin('gw-a');
    const b = new Twin('gw-b');
    // a has not heard b: its first frame echoes nothing, and proves nothing.
    expect(b.hear(a.heartbeat(0), 0)).toEqual([{ ok: false, reason: 'unsynced' }]);
    // b answers a (its frame echoes a's boot and seq); a's frames now echo b.
    expect(a.hear(b.heartbeat(0), 0)[0]!.ok).toBe(true);
    const got = b.hear(Buffer.concat([100, 200, 300].map((t) => a.heartbeat(t))), 300);
    expect(got.map((g) => g.ok && g.frame.seq)).toEqual([2, 3, 4]);
    expect(b.receiver.counters.accepted.heartbeat).toBe(3);
    expect(b.receiver.counters.rejected.unsynced).toBe(1);
  });

  it('counts a wrong key as bad-hmac and accepts nothing', () => {
    const { b, now } = pair();
    const forger = new Twin('gw-a', { mac: OTHER_MAC });
    const got = b.hear(Buffer.concat([1, 2].map(() => forger.heartbeat(now))), now);
    expect(got).toEqual([{ ok: false, reason: 'bad-hmac' }, { ok: false, reason: 'bad-hmac' }]);
    expect(b.receiver.counters.rejected['bad-hmac']).toBe(2);
  });

  it('rejects a replayed and a reordered frame, and counts them', () => {
    const { a, b, now } = pair();
    const f1 = a.heartbeat(now);
    const f2 = a.heartbeat(now);
    expect(b.hear(f2, now)[0]!.ok).toBe(true);
    expect(b.hear(f1, now)).toEqual([{ ok: false, reason: 'replayed' }]);
    expect(b.hear(f2, now)).toEqual([{ ok: false, reason: 'replayed' }]);
    expect(b.receiver.counters.rejected.replayed).toBe(2);
  });

  it('accepts a peer reboot (new bootId, seq from 1) once it echoes us, records it, and refuses the old boot afterwards', () => {
    const { a, b, now } = pair({ bootNumber: 1 });
    const old = a.heartbeat(now);
    const a2 = new Twin('gw-a', { bootNumber: 2 });
    // a2 has not heard b yet; b answers it, then a2's frames count.
    expect(b.hear(a2.heartbeat(now), now)).toEqual([{ ok: false, reason: 'unsynced' }]);
    let t = now;
    let got: ReturnType<Twin['hear']> = [];
    for (let i = 0; i < 3 && !got.some((g) => g.ok); i++, t += 100) {
      a2.hear(b.heartbeat(t), t);
      got = b.hear(a2.heartbeat(t), t);
    }
    expect(got[0]).toMatchObject({ ok: true, newBoot: true, frame: { bootId: a2.bootId } });
    expect(b.receiver.counters.peerReboots).toBe(1);
    expect(b.hear(old, t)).toEqual([{ ok: false, reason: 'replayed' }]);
  });

  it('rejects heartbeats held back in a buffer as stale, and accepts current ones again after', () => {
    const { a, b, now } = pair();
    // The peer's uptime runs 50 s ahead of our clock (as in sync); delivery is prompt.
    const frame = (uptimeMs: number, t: number) => a.sender.encode({ kind: 'heartbeat', ...hbAt(uptimeMs) }, t);
    for (let t = now; t <= now + 1000; t += 100) {
      a.hear(b.heartbeat(t), t);
      expect(b.hear(frame(50_000 + t, t), t)[0]!.ok).toBe(true);
    }
    // A backlog written at peer uptime +1100..+1500 is delivered in one burst 1.9 s later.
    const at = now + 1500;
    a.hear(b.heartbeat(at), at);
    const backlog = Buffer.concat([1100, 1200, 1300, 1400, 1500].map((t) => frame(50_000 + now + t, at)));
    expect(b.hear(backlog, now + 3400).map((r) => r.ok || r.reason)).toEqual(['stale', 'stale', 'stale', 'stale', 'stale']);
    // Then the line is prompt again; up to the tolerance of delay is accepted.
    const t2 = now + 3400;
    a.hear(b.heartbeat(t2), t2);
    expect(b.hear(frame(50_000 + t2, t2), t2)[0]!.ok).toBe(true);
    a.hear(b.heartbeat(t2 + 100), t2 + 100);
    expect(b.hear(frame(50_000 + t2 + 100, t2 + 100), t2 + 100 + 450)[0]!.ok).toBe(true);
  });

  it('never ages frames because of clock drift between the boxes (peer clock 200 ppm slow, one day)', () => {
    const { a, b } = pair();
    let stale = 0;
    for (let t = 1000; t <= 86_400_000; t += 10_000) {
      a.hear(b.heartbeat(t), t);
      const r = b.hear(a.sender.encode({ kind: 'heartbeat', ...hbAt(50_000 + Math.round(t * 0.9998)) }, t), t);
      if (!r[0]!.ok) stale++;
    }
    expect(stale).toBe(0);
  });

  it('rejects its own transmission looped back, and any frame carrying its own node id', () => {
    const { a, b, now } = pair();
    expect(b.hear(b.heartbeat(now), now)).toEqual([{ ok: false, reason: 'own-frame' }]);
    // A box configured with b's node id (same key): refused, and b keeps hearing a.
    const impostor = new Twin('gw-b', { bootNumber: 99 });
    impostor.hear(b.heartbeat(now), now);
    expect(b.hear(impostor.heartbeat(now), now)).toEqual([{ ok: false, reason: 'own-frame' }]);
    a.hear(b.heartbeat(now), now);
    expect(b.hear(a.heartbeat(now), now)[0]!.ok).toBe(true);
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
          const { a, b, now: start } = pair();
          const sent: string[] = [];
          const accepted: string[] = [];
          steps.forEach((s, i) => {
            // One heartbeat per 100 ms period each way; the tag identifies a's frame.
            const now = start + i * 100;
            a.hear(b.heartbeat(now), now);
            const wire = a.heartbeat(now, { configHash: s.tag });
            sent.push(s.tag);
            // Garbage lands between frames, in arbitrary chunking.
            const stream = Buffer.concat([Buffer.from(s.garbage), wire]);
            const cut = Math.min(s.split, stream.length);
            for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
              for (const r of b.hear(part, now)) {
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
          const { a, b, now } = pair();
          const wire = a.sender.encode({ kind: 'heartbeat', ...hbAt(uptimeMs) }, now);
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
          const got = b.hear(mangled, now);
          // A corrupted frame is rejected and counted; it never passes as a heartbeat.
          expect(got.filter((g) => g.ok)).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });
});

function hbAt(uptimeMs: number) {
  return { uptimeMs, configHash: 'c', health: { uplink: true, gateway: true, nginx: true }, instances: [], addresses: [] };
}
