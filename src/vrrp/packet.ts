// VRRP advertisement codec (the VRRP message only, no IP header), I/O-free.
//
// VRRPv2, RFC 3768 section 5.3:            VRRPv3, RFC 5798 section 5.2:
//  0: version(4)=2 | type(4)=1               0: version(4)=3 | type(4)=1
//  1: VRID  2: priority  3: count            1: VRID  2: priority  3: count
//  4: auth type  5: adver int (seconds)      4-5: rsvd(4) | max adver int(12, centiseconds)
//  6-7: checksum                             6-7: checksum (with pseudo-header, see checksum.ts)
//  8..: count IPv4 addresses                 8..: count IPv4 or IPv6 addresses
//  then 8 bytes authentication data          (no authentication data)
//
// decodeAdvert() never throws: any input gives an advert or a DecodeDropReason.

import { addressLength, formatIp, parseIp, parseIpv4 } from '../lib/ip.js';
import { checksumVerifies, pseudoHeaderSum, vrrpChecksum } from './checksum.js';
import type { DecodeDropReason } from './drop-reasons.js';
import { VRRP_GROUP_V4, type Advert, type ChecksumDialect, type Family, type VrrpVersion } from './types.js';

export const VRRP_HEADER_LENGTH = 8;
export const VRRP_AUTH_LENGTH = 8;
export const VRRP_TYPE_ADVERTISEMENT = 1;
/** RFC 3768 5.2.3 / RFC 5798 5.1.1.3, 5.1.2.3: sent with, and only accepted at, TTL/hop limit 255. */
export const VRRP_TTL = 255;
/** RFC 5798 5.2.7: Max Adver Int is a 12-bit count of centiseconds. */
export const V3_MAX_ADVERT_CS = 0x0fff;
/** RFC 3768 5.3.7: Adver Int is an 8-bit count of seconds. */
export const V2_MAX_ADVERT_S = 0xff;

export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;

const GROUP_V4_BYTES = parseIpv4(VRRP_GROUP_V4)!;

/** Where a received message came from, as the transport saw it (from the IP header / cmsg). */
export interface DecodeContext {
  family: Family;
  source: string | Uint8Array;
  destination: string | Uint8Array;
  /** IPv4 TTL; undefined when the transport cannot read it (then it is not checked). */
  ttl?: number | undefined;
  /** IPv6 hop limit; same meaning as ttl (either field may carry it). */
  hopLimit?: number | undefined;
  /** Received as unicast: keepalived skips the TTL check then (packets may be routed). */
  unicast?: boolean;
}

/** How the TTL/hop-limit rule was applied to an accepted advert. */
export type TtlCheck = 'checked' | 'skipped-unicast' | 'unavailable';

export type DecodeResult =
  | { ok: true; advert: Advert; ttlCheck: TtlCheck }
  | { ok: false; reason: DecodeDropReason; detail: string };

function drop(reason: DecodeDropReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

function addressBytes(value: unknown, family: Family): Uint8Array | undefined {
  if (typeof value === 'string') return parseIp(value, family);
  return value instanceof Uint8Array && value.length === addressLength(family) ? value : undefined;
}

/** Decodes and verifies one VRRP message. Never throws. */
export function decodeAdvert(bytes: Uint8Array, ctx: DecodeContext): DecodeResult {
  if (!(bytes instanceof Uint8Array)) return drop('short', 'not a byte array');
  const family = ctx.family;
  if (family !== 4 && family !== 6) return drop('family', `unknown address family ${String(family)}`);
  const src = addressBytes(ctx.source, family);
  const dst = addressBytes(ctx.destination, family);
  if (src === undefined || dst === undefined) {
    return drop('family', `source/destination are not IPv${family} addresses`);
  }
  if (bytes.length < VRRP_HEADER_LENGTH) {
    return drop('short', `${bytes.length} bytes, the VRRP header alone is ${VRRP_HEADER_LENGTH}`);
  }

  // RFC 3768 7.1 / RFC 5798 7.1: MUST verify TTL/hop limit 255. keepalived skips it for
  // unicast peers (vrrp_in_chk: only when unicast_peer is empty), and so do we.
  const ttl = ctx.ttl ?? ctx.hopLimit;
  let ttlCheck: TtlCheck;
  if (ctx.unicast === true) ttlCheck = 'skipped-unicast';
  else if (ttl === undefined) ttlCheck = 'unavailable';
  else if (ttl !== VRRP_TTL) return drop('ttl', `${family === 4 ? 'TTL' : 'hop limit'} ${ttl}, must be ${VRRP_TTL}`);
  else ttlCheck = 'checked';

  const b0 = bytes[0]!;
  const version = b0 >> 4;
  if (version !== 2 && version !== 3) return drop('version', `version ${version}, expected 2 or 3`);
  if (version === 2 && family === 6) return drop('version', 'VRRPv2 over IPv6 (RFC 3768 is IPv4 only)');
  const type = b0 & 0x0f;
  if (type !== VRRP_TYPE_ADVERTISEMENT) return drop('type', `type ${type}, expected ${VRRP_TYPE_ADVERTISEMENT}`);

  const count = bytes[3]!;
  const alen = addressLength(family);
  const expected = VRRP_HEADER_LENGTH + count * alen + (version === 2 ? VRRP_AUTH_LENGTH : 0);
  if (bytes.length !== expected) {
    return drop('length', `${bytes.length} bytes, ${count} IPv${family} address(es) make ${expected}`);
  }

  let dialect: ChecksumDialect | undefined;
  if (version === 2) {
    if (!checksumVerifies(bytes)) return drop('checksum', 'VRRPv2 checksum does not verify');
  } else {
    dialect = v3Dialect(bytes, family, src, dst);
    if (dialect === undefined) {
      return drop('checksum', `VRRPv3 checksum does not verify${family === 4 ? ' with or without the pseudo-header' : ''}`);
    }
  }

  let authType = 0;
  let advertIntervalCs: number;
  if (version === 2) {
    authType = bytes[4]!;
    if (authType > AUTH_AH) return drop('auth-type', `auth type ${authType}, expected 0, 1 or 2`);
    advertIntervalCs = bytes[5]! * 100;
  } else {
    advertIntervalCs = ((bytes[4]! & 0x0f) << 8) | bytes[5]!; // rsvd nibble ignored (5.2.6)
  }
  if (advertIntervalCs === 0) return drop('interval', 'advert interval 0');

  const addresses = new Array<string>(count);
  for (let k = 0; k < count; k++) addresses[k] = formatIp(bytes, family, VRRP_HEADER_LENGTH + k * alen);

  const advert: Advert = {
    version: version as VrrpVersion,
    family,
    vrid: bytes[1]!,
    priority: bytes[2]!,
    advertIntervalCs,
    addresses,
    authType,
    source: formatIp(src, family),
  };
  if (version === 2) {
    const at = VRRP_HEADER_LENGTH + count * alen;
    advert.authData = bytes.slice(at, at + VRRP_AUTH_LENGTH);
  } else {
    advert.checksumDialect = dialect;
  }
  return { ok: true, advert, ttlCheck };
}

function v3Dialect(bytes: Uint8Array, family: Family, src: Uint8Array, dst: Uint8Array): ChecksumDialect | undefined {
  if (checksumVerifies(bytes, pseudoHeaderSum(family, src, dst, bytes.length))) return 'rfc5798';
  if (family === 6) return undefined;
  if (checksumVerifies(bytes)) return 'v2-compatible';
  // keepalived (vrrp_in_chk, unicast_chksum_compat) also accepts a unicast advert summed with
  // the multicast group as destination, as keepalived < 1.3.6 sent it.
  if (!sameBytes(dst, GROUP_V4_BYTES) && checksumVerifies(bytes, pseudoHeaderSum(4, src, GROUP_V4_BYTES, bytes.length))) {
    return 'old-unicast';
  }
  return undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface EncodeParams {
  version: VrrpVersion;
  family: Family;
  vrid: number;
  priority: number;
  /** v2: a whole number of seconds * 100 (1..255 s); v3: 1..4095 centiseconds. */
  advertIntervalCs: number;
  addresses: readonly string[];
  /** v2 only (default 0). */
  authType?: number;
  /** v2 only: up to 8 bytes, zero-padded on the wire; see authDataFromPassword(). */
  authData?: Uint8Array;
  /** v3: needed for the pseudo-header. */
  source?: string;
  /** v3: needed for the pseudo-header (the group, or the unicast peer). */
  destination?: string;
  /** v3 IPv4 only (default 'rfc5798', keepalived's default). */
  checksumDialect?: ChecksumDialect;
}

/**
 * The 8 authentication bytes keepalived sends for `auth_pass`: the password's bytes,
 * truncated to 8 (keepalived logs "Truncating auth_pass to 8 characters") and zero-padded.
 */
export function authDataFromPassword(password: string): Uint8Array {
  const out = new Uint8Array(VRRP_AUTH_LENGTH);
  out.set(new TextEncoder().encode(password).subarray(0, VRRP_AUTH_LENGTH));
  return out;
}

/** Every problem with `p` as a sentence; empty when encodeAdvert(p) will succeed. */
export function checkEncodeParams(p: EncodeParams): string[] {
  const errors: string[] = [];
  const isByte = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 255;
  if (p.version !== 2 && p.version !== 3) errors.push(`version ${String(p.version)} is not 2 or 3`);
  if (p.family !== 4 && p.family !== 6) errors.push(`family ${String(p.family)} is not 4 or 6`);
  if (p.version === 2 && p.family === 6) errors.push('VRRPv2 is IPv4 only');
  if (!Number.isInteger(p.vrid) || p.vrid < 1 || p.vrid > 255) errors.push(`vrid ${p.vrid} is not 1..255`);
  if (!isByte(p.priority)) errors.push(`priority ${p.priority} is not 0..255`);
  if (p.addresses.length > 255) errors.push(`${p.addresses.length} addresses, at most 255 fit the count field`);
  for (const a of p.addresses) {
    if (parseIp(a, p.family) === undefined) errors.push(`address ${JSON.stringify(a)} is not IPv${p.family}`);
  }
  if (p.version === 2) {
    const s = p.advertIntervalCs / 100;
    if (!Number.isInteger(s) || s < 1 || s > V2_MAX_ADVERT_S) {
      errors.push(`VRRPv2 advert interval ${p.advertIntervalCs} cs is not a whole number of seconds 1..255`);
    }
    if (p.authType !== undefined && (!isByte(p.authType) || p.authType > AUTH_AH)) errors.push(`auth type ${p.authType} is not 0, 1 or 2`);
    if (p.authData !== undefined && p.authData.length > VRRP_AUTH_LENGTH) errors.push(`auth data of ${p.authData.length} bytes, at most 8`);
  } else {
    if (!Number.isInteger(p.advertIntervalCs) || p.advertIntervalCs < 1 || p.advertIntervalCs > V3_MAX_ADVERT_CS) {
      errors.push(`VRRPv3 advert interval ${p.advertIntervalCs} cs is not 1..4095`);
    }
    if ((p.authType ?? 0) !== 0 || p.authData !== undefined) errors.push('VRRPv3 has no authentication');
    const dialect = p.checksumDialect ?? 'rfc5798';
    if (p.family === 6 && dialect !== 'rfc5798') errors.push(`checksum dialect ${dialect} exists only for IPv4`);
    if (dialect !== 'v2-compatible') {
      if (p.source === undefined || parseIp(p.source, p.family) === undefined) errors.push('VRRPv3 needs the source address for its checksum');
      if (dialect === 'rfc5798' && (p.destination === undefined || parseIp(p.destination, p.family) === undefined)) {
        errors.push('VRRPv3 needs the destination address for its checksum');
      }
    }
  }
  return errors;
}

/**
 * Encodes one VRRP message. Invalid parameters are a bug of the caller (the config is
 * validated before it reaches here), so they throw a RangeError naming every problem.
 */
export function encodeAdvert(p: EncodeParams): Uint8Array {
  const errors = checkEncodeParams(p);
  if (errors.length > 0) throw new RangeError(`encodeAdvert: ${errors.join('; ')}`);
  const alen = addressLength(p.family);
  const count = p.addresses.length;
  const out = new Uint8Array(VRRP_HEADER_LENGTH + count * alen + (p.version === 2 ? VRRP_AUTH_LENGTH : 0));
  out[0] = (p.version << 4) | VRRP_TYPE_ADVERTISEMENT;
  out[1] = p.vrid;
  out[2] = p.priority;
  out[3] = count;
  if (p.version === 2) {
    out[4] = p.authType ?? AUTH_NONE;
    out[5] = p.advertIntervalCs / 100;
  } else {
    out[4] = (p.advertIntervalCs >> 8) & 0x0f;
    out[5] = p.advertIntervalCs & 0xff;
  }
  for (let k = 0; k < count; k++) out.set(parseIp(p.addresses[k]!, p.family)!, VRRP_HEADER_LENGTH + k * alen);
  if (p.version === 2 && p.authData !== undefined) out.set(p.authData, VRRP_HEADER_LENGTH + count * alen);

  let pseudo = 0;
  if (p.version === 3) {
    const dialect = p.checksumDialect ?? 'rfc5798';
    if (dialect === 'rfc5798') {
      pseudo = pseudoHeaderSum(p.family, parseIp(p.source!, p.family)!, parseIp(p.destination!, p.family)!, out.length);
    } else if (dialect === 'old-unicast') {
      pseudo = pseudoHeaderSum(4, parseIp(p.source!, 4)!, GROUP_V4_BYTES, out.length);
    }
  }
  const sum = vrrpChecksum(out, pseudo);
  out[6] = sum >> 8;
  out[7] = sum & 0xff;
  return out;
}

/** What parseIpv4Packet() found in an IPv4 header. */
export interface Ipv4Packet {
  source: Uint8Array;
  destination: Uint8Array;
  ttl: number;
  protocol: number;
  /** The IP payload (for protocol 112, the VRRP message), a view into the input. */
  payload: Uint8Array;
}

/**
 * Splits an IPv4 datagram (as an IPv4 raw socket delivers it, header included) into the
 * fields decodeAdvert() needs. Trailing bytes beyond the header's total length (link-layer
 * padding) are cut off. Never throws.
 */
export function parseIpv4Packet(bytes: Uint8Array): { ok: true; packet: Ipv4Packet } | { ok: false; reason: DecodeDropReason; detail: string } {
  if (bytes.length < 20) return { ok: false, reason: 'short', detail: `${bytes.length} bytes, an IPv4 header is 20` };
  if (bytes[0]! >> 4 !== 4) return { ok: false, reason: 'family', detail: `IP version ${bytes[0]! >> 4}, expected 4` };
  const ihl = (bytes[0]! & 0x0f) * 4;
  const total = (bytes[2]! << 8) | bytes[3]!;
  if (ihl < 20 || total < ihl) return { ok: false, reason: 'short', detail: `IPv4 header length ${ihl}, total length ${total}` };
  if (total > bytes.length) return { ok: false, reason: 'length', detail: `IPv4 total length ${total} > ${bytes.length} bytes received` };
  return {
    ok: true,
    packet: {
      source: bytes.subarray(12, 16),
      destination: bytes.subarray(16, 20),
      ttl: bytes[8]!,
      protocol: bytes[9]!,
      payload: bytes.subarray(ihl, total),
    },
  };
}

export { VRRP_GROUP_V4, VRRP_GROUP_V6, VRRP_PROTOCOL } from './types.js';
