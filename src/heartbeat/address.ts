// IP address text <-> bytes for the heartbeat's per-instance primary address, on top of the
// one parser in src/lib/ip.ts (no node:net: the core stays I/O-free). Output text is RFC 5952
// section 4 for IPv6, IPv4-mapped addresses in hex groups as this frame has always printed them.
import { formatIpv4, formatIpv6Groups, parseIpv4, parseIpv6 } from '../lib/ip';

export function ipv4ToBytes(text: string): Uint8Array | null {
  return parseIpv4(text) ?? null;
}

/** A zone suffix is refused: a frame carries no interface. */
export function ipv6ToBytes(text: string): Uint8Array | null {
  if (text.includes('%')) return null;
  return parseIpv6(text) ?? null;
}

export function bytesToIp(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIpv4(bytes) : formatIpv6Groups(bytes);
}
