import { formatIpv4, formatIpv6Groups, parseIpv4, parseIpv6 } from '../lib/ip';

// Address arithmetic the validator needs: family, canonical form (so 2001:db8::1 and
// 2001:0db8:0:0::1 count as the same VIP), and "addr/prefix" splitting. Parsing is the shared
// src/lib/ip.ts, which accepts exactly what node:net's isIPv4/isIPv6 accept.

export type Family = 'ipv4' | 'ipv6';

export interface ParsedAddress {
  family: Family;
  /** Canonical text: dotted quad, or RFC 5952 IPv6. */
  address: string;
  /** Prefix length when one was written. */
  prefix?: number;
}

export function addressFamily(text: string): Family | undefined {
  if (text.includes('%')) return undefined; // zone ids have no place in a VIP or a peer
  if (parseIpv4(text)) return 'ipv4';
  if (parseIpv6(text)) return 'ipv6';
  return undefined;
}

/** "192.0.2.1", "192.0.2.1/24", "2001:db8::1/64"; prefix optional unless `requirePrefix`. */
export function parseAddress(text: string, requirePrefix = false): ParsedAddress | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const family = addressFamily(addr);
  if (!family) return undefined;
  if (slash < 0) return requirePrefix ? undefined : { family, address: canonicalAddress(addr, family) };
  const prefixText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > maxPrefix(family)) return undefined;
  return { family, address: canonicalAddress(addr, family), prefix };
}

export function maxPrefix(family: Family): number {
  return family === 'ipv4' ? 32 : 128;
}

/** `addr` must be an address of `family` (addressFamily said so). */
function canonicalAddress(addr: string, family: Family): string {
  if (family === 'ipv4') return formatIpv4(parseIpv4(addr)!);
  return formatIpv6Groups(parseIpv6(addr)!);
}
