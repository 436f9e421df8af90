// Wire framing of the serial heartbeat: 0x00 | COBS(body | CRC-32 LE) | 0x00.
//
// The leading delimiter makes every frame independent of whatever noise preceded it: the
// receiver treats the bytes before it as one (rejected) candidate and starts clean. Empty
// candidates (two delimiters in a row) are idle fill and not counted. The decoder never throws
// and never buffers more than `maxEncodedLength` bytes: on overflow it drops the candidate and
// resynchronises on the next delimiter.

import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs';
import { crc32 } from './crc32';

export const FRAME_DELIMITER = 0x00;
/** Largest frame body (message incl. HMAC) the protocol produces; see frame.ts. */
export const MAX_FRAME_BODY = 1024;
const CRC_LENGTH = 4;

/** Why a candidate between two delimiters was not a frame. */
export type FramingReject =
  /** fewer bytes than a CRC plus one: stray bytes between frames */
  | 'noise'
  /** more bytes than the largest legal frame before a delimiter */
  | 'too-long'
  /** a COBS block runs past the delimiter: the frame's tail was lost */
  | 'truncated'
  /** CRC-32 mismatch: bits flipped or bytes inserted/lost */
  | 'bad-crc';

export type Deframed =
  | { ok: true; body: Buffer }
  | { ok: false; reason: FramingReject; bytes: number };

export function encodeFrame(body: Uint8Array): Buffer {
  if (body.length > MAX_FRAME_BODY) {
    throw new RangeError(`frame body of ${body.length} bytes exceeds ${MAX_FRAME_BODY}`);
  }
  const withCrc = Buffer.allocUnsafe(body.length + CRC_LENGTH);
  withCrc.set(body, 0);
  withCrc.writeUInt32LE(crc32(body), body.length);
  const enc = cobsEncode(withCrc);
  const out = Buffer.allocUnsafe(enc.length + 2);
  out[0] = FRAME_DELIMITER;
  out.set(enc, 1);
  out[out.length - 1] = FRAME_DELIMITER;
  return out;
}

export function maxEncodedLength(maxBody = MAX_FRAME_BODY): number {
  return cobsMaxEncodedLength(maxBody + CRC_LENGTH);
}

export class FrameDecoder {
  private readonly buf: Buffer;
  private len = 0;
  /** Set after an overflow: everything up to the next delimiter is dropped. */
  private discarding = false;

  constructor(private readonly maxEncoded = maxEncodedLength()) {
    this.buf = Buffer.allocUnsafe(maxEncoded);
  }

  push(chunk: Uint8Array): Deframed[] {
    const out: Deframed[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === FRAME_DELIMITER) {
        if (this.discarding) this.discarding = false;
        else if (this.len > 0) out.push(this.finish());
        this.len = 0;
        continue;
      }
      if (this.discarding) continue;
      if (this.len === this.maxEncoded) {
        out.push({ ok: false, reason: 'too-long', bytes: this.len + 1 });
        this.discarding = true;
        this.len = 0;
        continue;
      }
      this.buf[this.len++] = b;
    }
    return out;
  }

  /** Bytes held while waiting for a delimiter (for status only). */
  get pending(): number {
    return this.len;
  }

  private finish(): Deframed {
    const bytes = this.len;
    // Too short to hold a code byte, one body byte and the CRC, whatever its structure.
    if (bytes < CRC_LENGTH + 2) return { ok: false, reason: 'noise', bytes };
    const raw = cobsDecode(this.buf.subarray(0, this.len));
    if (raw === null) return { ok: false, reason: 'truncated', bytes };
    if (raw.length < CRC_LENGTH + 1) return { ok: false, reason: 'noise', bytes };
    const bodyLen = raw.length - CRC_LENGTH;
    if (crc32(raw, 0, bodyLen) !== raw.readUInt32LE(bodyLen)) {
      return { ok: false, reason: 'bad-crc', bytes };
    }
    return { ok: true, body: Buffer.from(raw.subarray(0, bodyLen)) };
  }
}
