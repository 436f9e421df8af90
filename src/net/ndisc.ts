// Unsolicited Neighbour Advertisement (IPv6 VIP announcement, RFC 4861 4.4 and 7.2.6), built
// as a whole Ethernet frame without I/O, the way keepalived's vrrp_ndisc.c does.
import { parseIpv6 } from '../lib/ip';
import { parseMac } from './arp';

export const ETH_P_IPV6 = 0x86dd;
export const NA_FRAME_LENGTH = 14 + 40 + 24 + 8;
const ALL_NODES = parseIpv6('ff02::1')!;

export interface UnsolicitedNaOptions {
  mac: string;
  /** The VIP being announced. */
  target: string;
  /** IPv6 source; default the target itself (keepalived sends from the VIP). */
  source?: string;
  /** R flag: set when this node forwards IPv6 (keepalived reads the interface's forwarding). */
  router?: boolean;
}

/**
 * Ethernet to 33:33:00:00:00:01, IPv6 to ff02::1 with hop limit 255 (receivers drop ND with
 * any other, RFC 4861 7.1.2), ICMPv6 type 136 with Override set and Solicited clear (7.2.6),
 * a target link-layer address option, and the ICMPv6 checksum over the pseudo-header.
 */
export function buildUnsolicitedNa(opts: UnsolicitedNaOptions): Uint8Array {
  const hw = parseMac(opts.mac);
  const target = parseIpv6(opts.target);
  const source = opts.source === undefined ? target : parseIpv6(opts.source);
  if (!hw) throw new TypeError(`bad MAC address ${JSON.stringify(opts.mac)}`);
  if (!target) throw new TypeError(`bad IPv6 address ${JSON.stringify(opts.target)}`);
  if (!source) throw new TypeError(`bad IPv6 address ${JSON.stringify(opts.source)}`);
  const f = new Uint8Array(NA_FRAME_LENGTH);
  const v = new DataView(f.buffer);
  f.set([0x33, 0x33, 0, 0, 0, 1], 0);
  f.set(hw, 6);
  v.setUint16(12, ETH_P_IPV6);
  const ip = 14;
  f[ip] = 0x60;
  v.setUint16(ip + 4, 32); // payload length: NA 24 + option 8
  f[ip + 6] = 58; // ICMPv6
  f[ip + 7] = 255;
  f.set(source, ip + 8);
  f.set(ALL_NODES, ip + 24);
  const icmp = ip + 40;
  f[icmp] = 136;
  f[icmp + 4] = (opts.router ? 0x80 : 0) | 0x20;
  f.set(target, icmp + 8);
  f[icmp + 24] = 2; // target link-layer address
  f[icmp + 25] = 1; // length in units of 8 octets
  f.set(hw, icmp + 26);
  v.setUint16(icmp + 2, icmpv6Checksum(source, ALL_NODES, f.subarray(icmp)));
  return f;
}

/** RFC 4443 2.3: one's complement sum over the RFC 8200 8.1 pseudo-header and the message. */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, message: Uint8Array): number {
  let sum = 0;
  const add = (b: Uint8Array) => {
    for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
  };
  add(src);
  add(dst);
  sum += (message.length >>> 16) + (message.length & 0xffff);
  sum += 58;
  add(message);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
