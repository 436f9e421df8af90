// A UDP datagram as a whole Ethernet frame addressed to a known MAC, built without I/O: the split-
// brain diagnosis's LAN probe sends its questions this way (through the AF_PACKET socket the
// announcer uses) so that they leave even when the kernel's neighbour entry for the twin has
// failed. A one-way fault makes exactly that happen: the box whose direction still works never
// gets the twin's ARP reply, and the kernel drops its datagrams to the twin's IP before they reach
// the wire. The twin's MAC is known over serial (its evidence), so the frame needs no ARP at all,
// and no neighbour entry is written (nothing to undo on stop or after a crash).
import { parseIpv4, parseIpv6 } from '../lib/ip';
import { parseMac } from './arp';

export const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_UDP = 17;

export interface UdpFrameOptions {
  srcMac: string;
  dstMac: string;
  /** Source and destination addresses, both IPv4 or both IPv6. */
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
  /** IPv4 identification (default 0; DF is set, so it is not used for reassembly). */
  id?: number;
  ttl?: number;
}

/** Ethernet II | IPv4 (DF, no options) or IPv6 | UDP with its checksum (mandatory for IPv6). */
export function buildUdpFrame(o: UdpFrameOptions): Uint8Array {
  const dst = parseMac(o.dstMac);
  const src = parseMac(o.srcMac);
  if (!dst) throw new TypeError(`bad MAC address ${JSON.stringify(o.dstMac)}`);
  if (!src) throw new TypeError(`bad MAC address ${JSON.stringify(o.srcMac)}`);
  for (const p of [o.srcPort, o.dstPort]) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`bad UDP port ${p}`);
  const v6 = o.dstIp.includes(':');
  const sa = v6 ? parseIpv6(o.srcIp) : parseIpv4(o.srcIp);
  const da = v6 ? parseIpv6(o.dstIp) : parseIpv4(o.dstIp);
  if (!sa) throw new TypeError(`bad IPv${v6 ? 6 : 4} source address ${JSON.stringify(o.srcIp)}`);
  if (!da) throw new TypeError(`bad IPv${v6 ? 6 : 4} destination address ${JSON.stringify(o.dstIp)}`);
  const udpLen = 8 + o.payload.length;
  const ipHeader = v6 ? 40 : 20;
  if (udpLen + (v6 ? 0 : ipHeader) > 0xffff) throw new RangeError('payload too large for one datagram');
  const f = new Uint8Array(14 + ipHeader + udpLen);
  const v = new DataView(f.buffer);
  f.set(dst, 0);
  f.set(src, 6);
  v.setUint16(12, v6 ? ETH_P_IPV6 : ETH_P_IP);
  const ip = 14;
  if (v6) {
    f[ip] = 0x60;
    v.setUint16(ip + 4, udpLen);
    f[ip + 6] = IPPROTO_UDP;
    f[ip + 7] = o.ttl ?? 64;
    f.set(sa, ip + 8);
    f.set(da, ip + 24);
  } else {
    f[ip] = 0x45;
    v.setUint16(ip + 2, ipHeader + udpLen);
    v.setUint16(ip + 4, (o.id ?? 0) & 0xffff);
    v.setUint16(ip + 6, 0x4000); // DF
    f[ip + 8] = o.ttl ?? 64;
    f[ip + 9] = IPPROTO_UDP;
    f.set(sa, ip + 12);
    f.set(da, ip + 16);
    v.setUint16(ip + 10, onesComplement(sum(0, f.subarray(ip, ip + 20))));
  }
  const udp = ip + ipHeader;
  v.setUint16(udp, o.srcPort);
  v.setUint16(udp + 2, o.dstPort);
  v.setUint16(udp + 4, udpLen);
  f.set(o.payload, udp + 8);
  // Pseudo-header (RFC 768; RFC 8200 8.1 for IPv6) and the datagram with its checksum field zero.
  let s = sum(sum(0, sa), da);
  s += IPPROTO_UDP + (udpLen >>> 16) + (udpLen & 0xffff);
  s = sum(s, f.subarray(udp));
  const c = onesComplement(s);
  // A computed 0 is sent as 0xffff (0 means "no checksum" in IPv4 and is invalid in IPv6).
  v.setUint16(udp + 6, c === 0 ? 0xffff : c);
  return f;
}

function sum(start: number, b: Uint8Array): number {
  let s = start;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
  return s;
}

function onesComplement(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
