// VRRPv2 IPsec AH authentication (auth type 2) as keepalived 2.2.7 does it (vrrp.c
// vrrp_update_pkt, vrrp_in_chk_ipsecah; vrrp_ipsecah.h), I/O-free.
//
// On the wire (RFC 2402 section 2, RFC 2338 section 5.3.6.2):
//   IPv4 header, protocol 51, TOS 0xc0, DF clear, TTL 255, an ID that counts adverts
//   AH: next header 112 | payload len 4 | reserved 0 | SPI = the sender's IPv4 address
//       | sequence number | 12-byte ICV (HMAC-MD5 truncated to 96 bits, RFC 2403)
//   VRRPv2 message, auth type 2, its 8 authentication bytes zero.
// The ICV covers the IP header with the mutable fields zeroed (TOS, fragment offset/flags,
// header checksum, and the TTL only for unicast, as keepalived does), the AH header with a
// zero ICV, and the VRRP message. The key is the auth_pass truncated/zero-padded to 8 bytes.
//
// Sequence numbers (keepalived's seq_counter_t): ONE counter per instance serves both ways.
// A received advert is accepted only with a sequence number above the counter, which then
// takes that number; each advert sent increments it (one number per advert, shared by every
// unicast peer). A master that hears a lower-priority advert takes its number + 1, so two
// routers whose counters diverged (one restarted) converge instead of refusing each other.

import { formatIpv4, parseIpv4 } from '../lib/ip.js';
import { finishChecksum, sum16 } from './checksum.js';
import type { DecodeDropReason } from './drop-reasons.js';
import { VRRP_PROTOCOL } from './types.js';
import { decodeAdvert, parseIpv4Packet, type DecodeResult } from './packet.js';

export const AH_PROTOCOL = 51;
/** next header, payload len, reserved (4) + SPI (4) + sequence (4) + ICV (12). */
export const AH_HEADER_LENGTH = 24;
/** RFC 2402 2.2: AH length in 32-bit words minus 2 (keepalived IPSEC_AH_PLEN). */
export const AH_PAYLOAD_LEN = 4;
export const AH_ICV_LENGTH = 12;
export const AH_KEY_LENGTH = 8;
const IPV4_HEADER_LENGTH = 20;
/** keepalived vrrp_build_ip4: "set tos to internet network control". */
export const VRRP_IP_TOS = 0xc0;
/** keepalived: past 0xFFFFFFFD the counter is "cycled" and stops increasing. */
const SEQUENCE_LIMIT = 0xfffffffd;

/**
 * HMAC-MD5 (RFC 2104) of `data` under `key`, the full 16-byte digest. The shell passes it in
 * (src/ha/vrrp/ah-crypto.ts, node:crypto): this core does no crypto of its own.
 */
export type HmacMd5 = (key: Uint8Array, data: Uint8Array) => Uint8Array;

/** The AH key keepalived derives from auth_pass: its bytes, truncated to 8, zero-padded. */
export function ahKeyFromPassword(password: string): Uint8Array {
  const out = new Uint8Array(AH_KEY_LENGTH);
  out.set(new TextEncoder().encode(password).subarray(0, AH_KEY_LENGTH));
  return out;
}

/** What a received AH datagram carried, kept on the advert for the instance's checks. */
export interface AhEnvelope {
  /** Security Parameter Index: keepalived puts the sender's IPv4 address there. */
  spi: number;
  sequence: number;
  /** The whole IPv4 datagram as received (the ICV covers it). */
  datagram: Uint8Array;
}

export interface AhDatagram {
  source: Uint8Array;
  destination: Uint8Array;
  ttl: number;
  /** The VRRP message after the AH header. */
  vrrp: Uint8Array;
  envelope: AhEnvelope;
}

export type AhParse = { ok: true; datagram: AhDatagram } | { ok: false; reason: DecodeDropReason; detail: string };

/**
 * Splits an IPv4 datagram of protocol 51 (header included, as a raw socket delivers it) into
 * its AH fields and the VRRP message. Structure only: the ICV needs the instance's key
 * (ahIcvVerifies). Never throws.
 */
export function parseAhDatagram(bytes: Uint8Array): AhParse {
  const fail = (reason: DecodeDropReason, detail: string): AhParse => ({ ok: false, reason, detail });
  if (!(bytes instanceof Uint8Array)) return fail('short', 'not a byte array');
  const ip = parseIpv4Packet(bytes);
  if (!ip.ok) return ip;
  const { packet } = ip;
  if (packet.protocol !== AH_PROTOCOL) return fail('ah', `IP protocol ${packet.protocol}, expected ${AH_PROTOCOL} (AH)`);
  const ah = packet.payload;
  if (ah.length < AH_HEADER_LENGTH) return fail('short', `${ah.length} bytes after the IP header, the AH header alone is ${AH_HEADER_LENGTH}`);
  // keepalived drops AH protecting anything but VRRP without a word (not ours).
  if (ah[0] !== VRRP_PROTOCOL) return fail('ah', `AH next header ${ah[0]}, expected ${VRRP_PROTOCOL} (VRRP)`);
  if (ah[1] !== AH_PAYLOAD_LEN) return fail('ah', `AH payload length ${ah[1]}, expected ${AH_PAYLOAD_LEN} (HMAC-MD5-96)`);
  const view = new DataView(ah.buffer, ah.byteOffset, ah.byteLength);
  return {
    ok: true,
    datagram: {
      source: packet.source,
      destination: packet.destination,
      ttl: packet.ttl,
      vrrp: ah.subarray(AH_HEADER_LENGTH),
      envelope: { spi: view.getUint32(4), sequence: view.getUint32(8), datagram: bytes.subarray(0, ah.byteOffset - bytes.byteOffset + ah.length) },
    },
  };
}

/**
 * A received AH datagram to an advert carrying its AH envelope (checked against the instance's
 * key by validateAdvert). `unicast`: the datagram was sent to a unicast address (TTL rule).
 */
export function decodeAhAdvert(bytes: Uint8Array, unicast: (destination: string) => boolean): DecodeResult {
  const parsed = parseAhDatagram(bytes);
  if (!parsed.ok) return parsed;
  const d = parsed.datagram;
  const destination = formatIpv4(d.destination);
  const decoded = decodeAdvert(d.vrrp, { family: 4, source: d.source, destination, ttl: d.ttl, unicast: unicast(destination) });
  if (!decoded.ok) return decoded;
  if (decoded.advert.version !== 2) return { ok: false, reason: 'version', detail: 'VRRPv3 inside IPsec AH (AH exists for VRRPv2 only)' };
  decoded.advert.ah = d.envelope;
  return decoded;
}

/** The 96-bit ICV of a datagram (its own ICV field is ignored), keepalived's mutable-field rules. */
export function ahIcv(datagram: Uint8Array, key: Uint8Array, unicast: boolean, hmacMd5: HmacMd5): Uint8Array {
  const ihl = (datagram[0]! & 0x0f) * 4;
  // A copy: the caller's bytes are often a Node Buffer, whose slice() is a view.
  const copy = Uint8Array.from(datagram);
  copy[1] = 0; // TOS
  copy[6] = 0; // flags + fragment offset
  copy[7] = 0;
  copy[10] = 0; // header checksum
  copy[11] = 0;
  // keepalived zeroes the TTL only in unicast mode (a routed unicast advert may lose hops).
  if (unicast) copy[8] = 0;
  copy.fill(0, ihl + 12, ihl + AH_HEADER_LENGTH);
  const digest = hmacMd5(key, copy);
  return new Uint8Array(digest.buffer, digest.byteOffset, AH_ICV_LENGTH);
}

/** Whether the datagram's ICV is the one `key` gives. Constant time. */
export function ahIcvVerifies(envelope: AhEnvelope, key: Uint8Array, unicast: boolean, hmacMd5: HmacMd5): boolean {
  const d = envelope.datagram;
  const ihl = (d[0]! & 0x0f) * 4;
  if (d.length < ihl + AH_HEADER_LENGTH) return false;
  const expected = ahIcv(d, key, unicast, hmacMd5);
  const got = d.subarray(ihl + 12, ihl + AH_HEADER_LENGTH);
  // Constant time: every byte is compared whatever the first difference.
  let diff = 0;
  for (let i = 0; i < AH_ICV_LENGTH; i++) diff |= got[i]! ^ expected[i]!;
  return diff === 0;
}

export interface AhSealParams {
  /** The VRRPv2 message (auth type 2, zero authentication bytes, checksum done). */
  vrrp: Uint8Array;
  source: string;
  destination: string;
  /** IPv4 identification, 1..65535 (the kernel replaces 0 with its own, which the ICV would not cover). */
  ipId: number;
  sequence: number;
  key: Uint8Array;
  /** The HMAC-MD5 the shell passes in (src/ha/vrrp/ah-crypto.ts). */
  hmacMd5: HmacMd5;
  unicast: boolean;
  ttl?: number;
}

/**
 * The whole IPv4 datagram of an AH-authenticated advert, header checksum included (the kernel
 * recomputes it for IP_HDRINCL sockets anyway). Throws RangeError on parameters the caller
 * should never pass (the config is validated first).
 */
export function sealAhAdvert(p: AhSealParams): Uint8Array {
  const src = parseIpv4(p.source);
  const dst = parseIpv4(p.destination);
  if (!src || !dst) throw new RangeError(`sealAhAdvert: ${p.source} -> ${p.destination} is not IPv4`);
  if (!Number.isInteger(p.ipId) || p.ipId < 1 || p.ipId > 0xffff) throw new RangeError(`sealAhAdvert: IP id ${p.ipId} is not 1..65535`);
  if (!Number.isInteger(p.sequence) || p.sequence < 0 || p.sequence > 0xffffffff) throw new RangeError(`sealAhAdvert: sequence ${p.sequence}`);
  const total = IPV4_HEADER_LENGTH + AH_HEADER_LENGTH + p.vrrp.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out[0] = 0x45;
  out[1] = VRRP_IP_TOS;
  view.setUint16(2, total);
  view.setUint16(4, p.ipId);
  // bytes 6-7: no DF, no fragment offset (keepalived frag_off = 0)
  out[8] = p.ttl ?? 255;
  out[9] = AH_PROTOCOL;
  out.set(src, 12);
  out.set(dst, 16);
  out[20] = VRRP_PROTOCOL;
  out[21] = AH_PAYLOAD_LEN;
  out.set(src, 24); // SPI = source address, network order
  view.setUint32(28, p.sequence);
  out.set(p.vrrp, IPV4_HEADER_LENGTH + AH_HEADER_LENGTH);
  out.set(ahIcv(out, p.key, p.unicast, p.hmacMd5), 32);
  view.setUint16(10, finishChecksum(sum16(out, 0, IPV4_HEADER_LENGTH)));
  return out;
}

/** The SPI as the dotted address it should be (keepalived: the sender's address). */
export function spiAddress(spi: number): string {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, spi);
  return formatIpv4(b);
}

/**
 * keepalived's per-instance AH counter (seq_counter_t): the replay window of what is received
 * and the source of the numbers sent, one and the same. Also numbers the IPv4 ID of adverts.
 */
export class AhSequence {
  private counter = 0;
  private cycled = false;
  private ipId = 0;

  /** The last number accepted or sent. */
  get current(): number {
    return this.counter;
  }

  /** Numbers for the next advert (the same for every unicast peer of that advert). */
  next(): { sequence: number; ipId: number } {
    if (this.counter > SEQUENCE_LIMIT) this.cycled = true;
    else this.counter++;
    this.ipId = (this.ipId % 0xffff) + 1;
    return { sequence: this.counter, ipId: this.ipId };
  }

  /** Anti-replay (keepalived vrrp_in_chk_ipsecah): true and the counter moves up, or false. */
  accept(sequence: number): boolean {
    if (sequence <= this.counter) return false;
    this.counter = sequence;
    this.cycled = false;
    return true;
  }

  /** A master heard a lower-priority advert (keepalived "IPSEC-AH : Syncing seq_num"). */
  syncFromLower(sequence: number): void {
    this.counter = Math.min(sequence + 1, 0xffffffff);
    this.cycled = false;
  }

  /** Becoming MASTER resets a cycled counter (keepalived vrrp_state_goto_master). */
  becomeMaster(): void {
    if (!this.cycled) return;
    this.cycled = false;
    this.counter = 0;
  }
}
