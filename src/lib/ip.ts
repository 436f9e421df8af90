// IP addresses: the one module behind src/vrrp, src/net, src/heartbeat, src/config and
// src/nginx (text <-> bytes, canonical text, family, "addr/prefix", order). No node:net (the VRRP and heartbeat cores stay I/O-free and portable).
// Output text is canonical: IPv4 dotted quad, IPv6 per RFC 5952 (lower case, no leading
// zeros, the longest run of two or more zero groups shortened to "::", the first run on a
// tie, and IPv4-mapped addresses as ::ffff:a.b.c.d per RFC 5952 section 5).

/** An address family as the protocols number it (VRRP, the heartbeat frame, sockets). */
export type Family = 4 | 6;

/** The same family as the configuration words it ("ipv4" in a VIP's family, DEFAULT_MCAST_GROUP). */
export type FamilyName = 'ipv4' | 'ipv6';

export function familyName(f: Family): FamilyName {
  return f === 4 ? 'ipv4' : 'ipv6';
}

export function familyNumber(f: FamilyName): Family {
  return f === 'ipv4' ? 4 : 6;
}

/** Parses a dotted quad ("192.0.2.1"). Leading zeros are refused (octal ambiguity). */
export function parseIpv4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  return parseIpv4Into(text, out, 0) ? out : undefined;
}

function parseIpv4Into(text: string, out: Uint8Array, at: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e; // virtual trailing '.'
    if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return false; // leading zero
      value = value * 10 + (c - 0x30);
      if (value > 255) return false;
      digits++;
    } else if (c === 0x2e) {
      if (digits === 0 || part > 3) return false;
      out[at + part] = value;
      part++;
      value = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return part === 4;
}

/**
 * Parses IPv6 text (RFC 4291 section 2.2 forms, including "::" and a trailing dotted quad).
 * A zone suffix ("%lan0"), as a receive path may give for link-local sources, is ignored.
 */
export function parseIpv6(text: string): Uint8Array | undefined {
  const zone = text.indexOf('%');
  const s = zone >= 0 ? text.slice(0, zone) : text;
  if (s.length < 2 || s.length > 45) return undefined;
  const out = new Uint8Array(16);
  const groups: number[] = [];
  let gap = -1; // index in groups where "::" stands
  let i = 0;
  if (s.startsWith('::')) {
    gap = 0;
    i = 2;
  } else if (s.charCodeAt(0) === 0x3a) {
    return undefined;
  }
  while (i < s.length) {
    // An embedded IPv4 address may only be the last piece.
    const rest = s.slice(i);
    if (rest.includes('.') && !rest.includes(':')) {
      const v4 = new Uint8Array(4);
      if (!parseIpv4Into(rest, v4, 0)) return undefined;
      groups.push(((v4[0]! << 8) | v4[1]!) >>> 0, ((v4[2]! << 8) | v4[3]!) >>> 0);
      i = s.length;
      break;
    }
    let value = 0;
    let digits = 0;
    while (i < s.length) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      value = (value << 4) | h;
      digits++;
      i++;
      if (digits > 4) return undefined;
    }
    if (digits === 0) return undefined;
    groups.push(value);
    if (i === s.length) break;
    if (s.charCodeAt(i) !== 0x3a) return undefined;
    i++;
    if (i < s.length && s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return undefined; // a second "::"
      gap = groups.length;
      i++;
    } else if (i === s.length) {
      return undefined; // trailing single ':'
    }
  }
  if (gap >= 0) {
    if (groups.length > 7) return undefined;
  } else if (groups.length !== 8) {
    return undefined;
  }
  const tail = gap >= 0 ? groups.length - gap : 0;
  for (let g = 0; g < groups.length; g++) {
    const slot = gap >= 0 && g >= gap ? 8 - tail + (g - gap) : g;
    out[slot * 2] = groups[g]! >> 8;
    out[slot * 2 + 1] = groups[g]! & 0xff;
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

export function parseIp(text: string, family: Family): Uint8Array | undefined {
  return family === 4 ? parseIpv4(text) : parseIpv6(text);
}

/** Canonical text of 4 bytes at `offset`. */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952 canonical text of 16 bytes at `offset`. */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  // RFC 5952 section 5: IPv4-mapped addresses keep the dotted quad.
  if (bytes.subarray(offset, offset + 10).every((b) => b === 0) && bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff) {
    return `::ffff:${formatIpv4(bytes, offset + 12)}`;
  }
  return formatIpv6Groups(bytes, offset);
}

/**
 * RFC 5952 section 4 text of 16 bytes at `offset`, every group in hex, IPv4-mapped addresses
 * included (::ffff:c000:201). The heartbeat frame and the config validator print this form.
 */
export function formatIpv6Groups(bytes: Uint8Array, offset = 0): string {
  const g = (k: number): number => (bytes[offset + 2 * k]! << 8) | bytes[offset + 2 * k + 1]!;
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 4.2.2: a single 0 group is not shortened
  for (let k = 0; k < 8; ) {
    if (g(k) !== 0) {
      k++;
      continue;
    }
    let end = k;
    while (end < 8 && g(end) === 0) end++;
    if (end - k > bestLen) {
      bestStart = k;
      bestLen = end - k;
    }
    k = end;
  }
  let out = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) {
      out += '::';
      k += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':';
    out += g(k).toString(16);
  }
  return out;
}

export function formatIp(bytes: Uint8Array, family: Family, offset = 0): string {
  return family === 4 ? formatIpv4(bytes, offset) : formatIpv6(bytes, offset);
}

/** Canonical form of address text, or undefined when it is not an address of `family`. */
export function canonicalIp(text: string, family: Family): string | undefined {
  const bytes = parseIp(text, family);
  return bytes === undefined ? undefined : formatIp(bytes, family);
}

/** The family of address text, a zone suffix ("fe80::1%lan0") allowed; undefined if it is none. */
export function familyOf(text: string): Family | undefined {
  if (parseIpv4(text)) return 4;
  if (parseIpv6(text)) return 6;
  return undefined;
}

/**
 * Canonical text of an address of either family as the kernel and iproute2 print it (inet_ntop:
 * IPv4-mapped as ::ffff:a.b.c.d), a zone suffix dropped; undefined if it is not one. Two
 * addresses are the same once both are canonical.
 */
export function canonicalAddress(text: string): string | undefined {
  const family = familyOf(text);
  return family === undefined ? undefined : canonicalIp(text, family);
}

export function addressLength(family: Family): 4 | 16 {
  return family === 4 ? 4 : 16;
}

// Address order for the equal-priority tie-break (RFC 3768 §6.4.3: "the primary IP Address of
// the sender is greater than the local primary IP Address"), compared as unsigned integers.
/** -1, 0 or 1; addresses of different families (or unparsable) compare by family, then text. */
export function compareAddresses(a: string, b: string): number {
  const x = addressBytes(a);
  const y = addressBytes(b);
  if (x && y && x.length === y.length) {
    for (let i = 0; i < x.length; i++) {
      if (x[i]! !== y[i]!) return x[i]! < y[i]! ? -1 : 1;
    }
    return 0;
  }
  if (x && y) return x.length < y.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function addressBytes(text: string): Uint8Array | undefined {
  // A zone index (fe80::1%eth0) does not order.
  return parseIpv4(text) ?? parseIpv6(text.split('%')[0] ?? '');
}

// ---------------------------------------------------------------------------------------------
// Addresses as the configuration writes them: family, canonical form (so 2001:db8::1 and
// 2001:0db8:0:0::1 count as the same VIP), and "addr/prefix" splitting. Accepts exactly what
// node:net's isIPv4/isIPv6 accept, without a zone.

export interface ParsedAddress {
  family: FamilyName;
  /** Canonical text: dotted quad, or RFC 5952 IPv6 (section 4 form). */
  address: string;
  /** Prefix length when one was written. */
  prefix?: number;
}

export function addressFamily(text: string): FamilyName | undefined {
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
  const address = family === 'ipv4' ? formatIpv4(parseIpv4(addr)!) : formatIpv6Groups(parseIpv6(addr)!);
  if (slash < 0) return requirePrefix ? undefined : { family, address };
  const prefixText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > maxPrefix(family)) return undefined;
  return { family, address, prefix };
}

export function maxPrefix(family: FamilyName): number {
  return family === 'ipv4' ? 32 : 128;
}

/**
 * "ADDR/LEN", or a bare address as a host prefix (/32, /128), for the shell's `ip addr`: the
 * address in the kernel's text (canonicalAddress), the family as a number.
 */
export function parseCidr(text: string): { address: string; prefixLength: number; family: Family } | undefined {
  const p = parseAddress(text);
  if (!p) return undefined;
  const family = familyNumber(p.family);
  return { address: canonicalIp(p.address, family)!, prefixLength: p.prefix ?? maxPrefix(p.family), family };
}
