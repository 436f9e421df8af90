// The netlink framing shared by the rtnetlink encoders and decoders (rtnl-addr.ts, rtnl-link.ts):
// message walking, attributes, dump requests and errno names. Pure: no socket here; the addon's
// rtnlTalk sends what these build and returns the kernel's reply bytes.
import { constants } from 'node:os';

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;

export const align4 = (n: number) => (n + 3) & ~3;

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));
export const errnoName = (e: number) => ERRNO_NAMES.get(e) ?? `errno ${e}`;

export type DumpError = { ok: false; errno: number; code: string };

/** A dump request of `type` with a zeroed body of `bodyLength` bytes: family AF_UNSPEC, every interface. */
export function dumpRequest(type: number, bodyLength: number, seq: number): Buffer {
  const m = Buffer.alloc(16 + bodyLength);
  m.writeUInt32LE(m.length, 0);
  m.writeUInt16LE(type, 4);
  m.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
  m.writeUInt32LE(seq >>> 0, 8);
  return m;
}

/** Walks the messages of a dump reply: each RTM message's (type, start, length); an error ends it. */
export function walkDump(reply: Uint8Array, each: (b: Buffer, type: number, at: number, len: number) => void): DumpError | undefined {
  const b = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  for (let at = 0; at + 16 <= b.length; ) {
    const len = b.readUInt32LE(at);
    if (len < 16 || at + len > b.length) break;
    const type = b.readUInt16LE(at + 4);
    if (type === NLMSG_DONE) break;
    if (type === NLMSG_ERROR && len >= 20) {
      const e = -b.readInt32LE(at + 16) || 0;
      if (e !== 0) return { ok: false, errno: e, code: errnoName(e) };
    } else {
      each(b, type, at, len);
    }
    at += align4(len);
  }
  return undefined;
}

/** The attributes (type without the nested/byte-order bits, value) between `from` and `end`. */
export function attrs(b: Buffer, from: number, end: number, each: (type: number, value: Buffer) => void): void {
  for (let p = from; p + 4 <= end; ) {
    const alen = b.readUInt16LE(p);
    if (alen < 4 || p + alen > end) break;
    each(b.readUInt16LE(p + 2) & 0x3fff, b.subarray(p + 4, p + alen));
    p += align4(alen);
  }
}
