// rtnetlink address requests, encoded and decoded here (pure: unit-tested without a kernel) and
// sent by the addon's rtnlTalk: adding or removing a VIP is one netlink round trip of a few
// microseconds in this process, instead of an `ip addr` child process (fork+exec of a copy of a
// 90 MB process: 2 ms on an idle box, tens to hundreds of ms on a loaded one) on the handover path.
// The messages are those iproute2 sends for `ip addr add|del ADDR/LEN dev IF [label L]` (plus
// IFA_F_NODAD for IPv6, as `nodad`), so the kernel's answers are the same. Reading the addresses
// back (RTM_GETADDR dump) is rtnl-link.ts's decoder, shared with the interface facts.
import { parseIp } from '../lib/ip';
import type { Family } from '../vrrp/types';
import { align4, errnoName, NLM_F_REQUEST, NLMSG_ERROR } from './netlink-message';

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
