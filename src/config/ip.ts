import { isIPv4, isIPv6 } from 'node:net';

// Address arithmetic the validator needs: family, canonical form (so 2001:db8::1 and
// 2001:0db8:0:0::1 count as the same VIP), and "addr/prefix" splitting.

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
  if (isIPv4(text)) return 'ipv4';
  if (isIPv6(text)) return 'ipv6';
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

export function canonicalAddress(addr: string, family: Family): string {
  if (family === 'ipv4') return addr.split('.').map((o) => String(Number(o))).join('.');
  return formatIPv6(parseIPv6Groups(addr));
}

function parseIPv6Groups(addr: string): number[] {
  let text = addr.toLowerCase();
  // An embedded dotted quad (::ffff:192.0.2.1) becomes two hex groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((g) => parseInt(g, 16));
}

function formatIPv6(groups: number[]): string {
  // RFC 5952 4.2: compress the longest run (>= 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
