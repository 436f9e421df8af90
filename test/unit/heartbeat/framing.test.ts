import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cobsDecode, cobsEncode } from '../../../src/heartbeat/cobs';
import { crc32 } from '../../../src/heartbeat/crc32';
import { encodeFrame, FrameDecoder, MAX_FRAME_BODY, maxEncodedLength } from '../../../src/heartbeat/framing';

describe('crc32', () => {
  it('matches the IEEE check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});

describe('COBS', () => {
  it('round-trips arbitrary bytes and never emits 0x00', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), (bytes) => {
        const enc = cobsEncode(bytes);
        expect(enc.includes(0)).toBe(false);
        expect(Buffer.from(cobsDecode(enc)!)).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('encodes the textbook examples', () => {
    expect([...cobsEncode(Buffer.from([0x00]))]).toEqual([0x01, 0x01]);
    expect([...cobsEncode(Buffer.from([0x11, 0x22, 0x00, 0x33]))]).toEqual([0x03, 0x11, 0x22, 0x02, 0x33]);
  });

  it('reports a block that overruns the frame', () => {
    expect(cobsDecode(Buffer.from([0x05, 0x11, 0x22]))).toBeNull();
  });
});

describe('FrameDecoder', () => {
  it('yields a frame split over many chunks', () => {
    const wire = encodeFrame(Buffer.from('hello heartbeat'));
    const d = new FrameDecoder();
    const got = [];
    for (const b of wire) got.push(...d.push(Buffer.from([b])));
    expect(got).toEqual([{ ok: true, body: Buffer.from('hello heartbeat') }]);
  });

  it('rejects a flipped bit as bad-crc and resynchronises on the next frame', () => {
    const a = encodeFrame(Buffer.from('first frame'));
    a[4]! ^= 0x10;
    const b = encodeFrame(Buffer.from('second frame'));
    const got = new FrameDecoder().push(Buffer.concat([a, b]));
    expect(got).toEqual([
      { ok: false, reason: 'bad-crc', bytes: a.length - 2 },
      { ok: true, body: Buffer.from('second frame') },
    ]);
  });

  it('classifies stray bytes as noise and a cut frame as truncated or bad-crc', () => {
    const d = new FrameDecoder();
    expect(d.push(Buffer.from([0, 7, 9, 0]))).toEqual([{ ok: false, reason: 'noise', bytes: 2 }]);
    const wire = encodeFrame(Buffer.alloc(40, 0x55));
    // Tail lost: the first COBS block (41 data bytes + CRC) claims more than arrives.
    const cut = Buffer.concat([wire.subarray(0, 20), Buffer.from([0])]);
    expect(new FrameDecoder().push(cut)).toEqual([{ ok: false, reason: 'truncated', bytes: 19 }]);
  });

  it('drops an over-long run, reports it once, and recovers', () => {
    const d = new FrameDecoder();
    const junk = Buffer.alloc(maxEncodedLength() + 500, 0x41);
    const good = encodeFrame(Buffer.from('after the flood'));
    const got = d.push(Buffer.concat([junk, good]));
    expect(got.filter((g) => !g.ok)).toEqual([{ ok: false, reason: 'too-long', bytes: maxEncodedLength() + 1 }]);
    expect(got.filter((g) => g.ok)).toEqual([{ ok: true, body: Buffer.from('after the flood') }]);
    expect(d.pending).toBe(0);
  });

  it('accepts the largest legal body and refuses to encode a larger one', () => {
    const body = Buffer.alloc(MAX_FRAME_BODY, 0);
    expect(new FrameDecoder().push(encodeFrame(body))).toEqual([{ ok: true, body }]);
    expect(() => encodeFrame(Buffer.alloc(MAX_FRAME_BODY + 1))).toThrow(RangeError);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 8 }), (chunks) => {
        const d = new FrameDecoder();
        for (const c of chunks) d.push(c);
      }),
    );
  });
});
