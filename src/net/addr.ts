// Address text <-> bytes for the network shell, on top of the one parser in src/lib/ip.ts.
// Text forms match what the kernel and iproute2 print (inet_ntop: dotted quad, RFC 5952 for
// IPv6), so addresses compare as strings once canonical. Absent results are null here.
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../lib/ip';
import type { Family } from '../vrrp/types';

export function parseIPv4(text: string): Uint8Array | null {
  return parseIpv4(text) ?? null;
}

/** A zone suffix ("fe80::1%eth0") is dropped. */
export function parseIPv6(text: string): Uint8Array | null {
  return parseIpv6(text) ?? null;
}

export function formatIPv4(b: Uint8Array): string {
  return formatIpv4(b);
}

export function formatIPv6(b: Uint8Array): string {
  return formatIpv6(b);
}

export function familyOf(text: string): Family | null {
  if (parseIPv4(text)) return 4;
  if (parseIPv6(text)) return 6;
  return null;
}

/** Canonical text of an address (scope suffix dropped), or null if it is not one. */
export function canonicalAddress(text: string): string | null {
  const v4 = parseIPv4(text);
  if (v4) return formatIPv4(v4);
  const v6 = parseIPv6(text);
  return v6 ? formatIPv6(v6) : null;
}

export function parseMac(text: string): Uint8Array | null {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return null;
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(b: Uint8Array): string {
  return Array.from(b.subarray(0, 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Parses "ADDR/LEN" (or a bare address: a host prefix). */
export function parseCidr(text: string): { address: string; prefixLength: number; family: Family } | null {
  const [addr, len, extra] = text.split('/');
  if (addr === undefined || extra !== undefined) return null;
  const address = canonicalAddress(addr);
  if (!address || addr.includes('%')) return null;
  const family: Family = address.includes(':') ? 6 : 4;
  const max = family === 4 ? 32 : 128;
  if (len === undefined) return { address, prefixLength: max, family };
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) return null;
  return { address, prefixLength: Number(len), family };
}

export const VRRP_GROUP_V4 = '224.0.0.18';
export const VRRP_GROUP_V6 = 'ff02::12';
export const VRRP_PROTOCOL = 112;
