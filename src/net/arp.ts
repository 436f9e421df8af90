// Gratuitous ARP frames (IPv4 VIP announcement), built without I/O.
import { parseIpv4 } from '../lib/ip';

export type GarpKind = 'request' | 'reply';

export const ETH_P_ARP = 0x0806;
export const GARP_FRAME_LENGTH = 42;

/**
 * A gratuitous ARP for `ip` owned by `mac`, broadcast.
 * 'request' is what keepalived sends (vrrp_arp.c): op 1, sender = target = the VIP, target
 * hardware address ff:ff:ff:ff:ff:ff. 'reply' is the RFC 2002 4.6 form: op 2, sender and target
 * hardware address both the new mapping. Linux updates an existing neighbour entry from both
 * (and creates one only with arp_accept). The frame is 42 bytes; the driver pads to 60.
 */
export function buildGratuitousArp(mac: string, ip: string, kind: GarpKind = 'request'): Uint8Array {
  const hw = parseMac(mac);
  const pa = parseIpv4(ip);
  if (!hw) throw new TypeError(`bad MAC address ${JSON.stringify(mac)}`);
  if (!pa) throw new TypeError(`bad IPv4 address ${JSON.stringify(ip)}`);
  const f = new Uint8Array(GARP_FRAME_LENGTH);
  const v = new DataView(f.buffer);
  f.fill(0xff, 0, 6);
  f.set(hw, 6);
  v.setUint16(12, ETH_P_ARP);
  v.setUint16(14, 1); // hardware type Ethernet
  v.setUint16(16, 0x0800); // protocol IPv4
  f[18] = 6;
  f[19] = 4;
  v.setUint16(20, kind === 'request' ? 1 : 2);
  f.set(hw, 22);
  f.set(pa, 28);
  if (kind === 'request') f.fill(0xff, 32, 38);
  else f.set(hw, 32);
  f.set(pa, 38);
  return f;
}

/** "52:54:00:ab:cd:0f" (or with "-") as 6 bytes; null if it is not one. */
export function parseMac(text: string): Uint8Array | null {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return null;
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export interface ArpPacket {
  op: 'request' | 'reply';
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** An Ethernet/IPv4 ARP request or reply from a whole Ethernet frame; null for anything else. */
export function parseArpFrame(frame: Uint8Array): ArpPacket | null {
  if (frame.length < 42) return null;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (v.getUint16(12) !== ETH_P_ARP || v.getUint16(14) !== 1 || v.getUint16(16) !== 0x0800 || frame[18] !== 6 || frame[19] !== 4) return null;
  const op = v.getUint16(20);
  if (op !== 1 && op !== 2) return null;
  return {
    op: op === 1 ? 'request' : 'reply',
    senderMac: hex(frame.subarray(22, 28)),
    senderIp: frame.subarray(28, 32).join('.'),
    targetMac: hex(frame.subarray(32, 38)),
    targetIp: frame.subarray(38, 42).join('.'),
  };
}
