// rtnetlink address requests, encoded and decoded here (pure: unit-tested without a kernel) and
// sent by the addon's rtnlTalk: adding or removing a VIP is one netlink round trip of a few
// microseconds in this process, instead of an `ip addr` child process (fork+exec of a copy of a
// 90 MB process: 2 ms on an idle box, tens to hundreds of ms on a loaded one) on the handover path.
// The messages are those iproute2 sends for `ip addr add|del ADDR/LEN dev IF [label L]` (plus
// IFA_F_NODAD for IPv6, as `nodad`), so the kernel's answers are the same.
import { formatIp, parseIp } from '../lib/ip';
import type { Family } from '../vrrp/types';
import { align4, attrs, dumpRequest, errnoName, NLM_F_REQUEST, NLMSG_ERROR, walkDump } from './netlink-message';

export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
const NLM_F_ACK = 0x4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_F_NODAD = 0x02;
const AF_INET = 2;
const AF_INET6 = 10;

export interface AddrRequest {
  op: 'add' | 'del';
  family: Family;
  address: string;
  prefixLength: number;
  ifindex: number;
  label?: string;
}

function attr(type: number, value: Uint8Array): Buffer {
  const b = Buffer.alloc(align4(4 + value.length));
  b.writeUInt16LE(4 + value.length, 0);
  b.writeUInt16LE(type, 2);
  b.set(value, 4);
  return b;
}

/** The whole netlink message (header, ifaddrmsg, attributes) for `req`, with sequence number `seq`. */
export function encodeAddrRequest(req: AddrRequest, seq: number): Buffer {
  const addr = parseIp(req.address, req.family);
  if (!addr) throw new Error(`${req.address} is not an IPv${req.family} address`);
  const ifa = Buffer.alloc(8);
  ifa.writeUInt8(req.family === 4 ? AF_INET : AF_INET6, 0);
  ifa.writeUInt8(req.prefixLength, 1);
  // No duplicate address detection: the VIP must answer at once (see vip.ts).
  ifa.writeUInt8(req.op === 'add' && req.family === 6 ? IFA_F_NODAD : 0, 2);
  ifa.writeUInt8(0, 3); // RT_SCOPE_UNIVERSE, as `ip addr add` without `scope`
  ifa.writeUInt32LE(req.ifindex, 4);
  const attrs = [attr(IFA_LOCAL, addr), attr(IFA_ADDRESS, addr)];
  if (req.label !== undefined && req.family === 4) attrs.push(attr(IFA_LABEL, Buffer.from(`${req.label}\0`)));
  const body = Buffer.concat([ifa, ...attrs]);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(req.op === 'add' ? RTM_NEWADDR : RTM_DELADDR, 4);
  h.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK | (req.op === 'add' ? NLM_F_CREATE | NLM_F_EXCL : 0), 6);
  h.writeUInt32LE(seq >>> 0, 8);
  h.writeUInt32LE(0, 12);
  return Buffer.concat([h, body]);
}

/** The errno of the kernel's answer to one request with NLM_F_ACK: 0 = done. */
export function decodeAck(reply: Uint8Array, seq: number): { errno: number; code: string } {
  const b = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  for (let at = 0; at + 16 <= b.length; ) {
    const len = b.readUInt32LE(at);
    if (len < 16 || at + len > b.length) break;
    if (b.readUInt16LE(at + 4) === NLMSG_ERROR && b.readUInt32LE(at + 8) === seq >>> 0 && len >= 20) {
      const e = -b.readInt32LE(at + 16) || 0;
      return { errno: e, code: e === 0 ? 'OK' : errnoName(e) };
    }
    at += align4(len);
  }
  return { errno: -1, code: 'no answer from the kernel' };
}

const RTM_GETADDR = 22;

/** RTM_GETADDR dump of every address of the namespace (`ip addr show`), sequence number `seq`. */
export function encodeAddrDump(seq: number): Buffer {
  return dumpRequest(RTM_GETADDR, 8, seq);
}

export interface DumpedAddress {
  ifindex: number;
  family: Family;
  /** Canonical text (formatIp). */
  address: string;
  prefixLength: number;
}

/**
 * The addresses of an RTM_GETADDR dump reply; for IPv4 the local address (IFA_LOCAL; IFA_ADDRESS
 * is the peer's on a point-to-point link), for IPv6 IFA_ADDRESS. An NLMSG_ERROR in the reply is
 * returned as its errno.
 */
export function decodeAddrDump(reply: Uint8Array): { ok: true; addresses: DumpedAddress[] } | { ok: false; errno: number; code: string } {
  const out: DumpedAddress[] = [];
  const err = walkDump(reply, (b, type, at, len) => {
    if (type !== RTM_NEWADDR || len < 24) return;
    const af = b.readUInt8(at + 16);
    const family: Family | undefined = af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
    if (!family) return;
    const prefixLength = b.readUInt8(at + 17);
    const ifindex = b.readUInt32LE(at + 20);
    let local: Uint8Array | undefined;
    let address: Uint8Array | undefined;
    attrs(b, at + 24, at + len, (t, value) => {
      if (t === IFA_LOCAL) local = value;
      if (t === IFA_ADDRESS) address = value;
    });
    const bytes = family === 4 ? (local ?? address) : address;
    if (bytes && bytes.length === (family === 4 ? 4 : 16)) out.push({ ifindex, family, address: formatIp(bytes, family), prefixLength });
  });
  return err ?? { ok: true, addresses: out };
}
