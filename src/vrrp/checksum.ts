// The Internet checksum (RFC 1071) as VRRP uses it.
//  - VRRPv2 (RFC 3768 section 5.3.8): over the VRRP message only.
//  - VRRPv3 (RFC 5798 section 5.2.8): over the message and a pseudo-header: IPv6 per RFC 2460
//    section 8.1; IPv4 (src, dst, zero, protocol 112, VRRP length), which keepalived sends.
//  - VRRPv3 over IPv4 without the pseudo-header: RFC 9568's reading, Cisco/Juniper, and
//    keepalived >= 2.2.8 with `v3_checksum_as_v2` ('v2-compatible' here).

import { VRRP_PROTOCOL, type Family } from './types.js';

/** One's complement sum of bytes[start, end) added to `acc`, not yet folded. */
export function sum16(bytes: Uint8Array, start: number, end: number, acc = 0): number {
  let i = start;
  // Fold every 64 Ki words at most, so the plain number never loses precision.
  while (end - i >= 2) {
    acc += (bytes[i]! << 8) | bytes[i + 1]!;
    i += 2;
    if ((i & 0x1ffff) === 0) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  }
  if (i < end) acc += bytes[i]! << 8; // odd length: pad with a zero byte
  return acc;
}

/** Folds a sum to 16 bits and complements it: the value that goes into the packet. */
export function finishChecksum(acc: number): number {
  let a = acc;
  while (a > 0xffff) a = (a & 0xffff) + Math.floor(a / 0x10000);
  return ~a & 0xffff;
}

/** Sum of the pseudo-header for a VRRP message of `length` bytes. */
export function pseudoHeaderSum(family: Family, source: Uint8Array, destination: Uint8Array, length: number): number {
  let acc = sum16(source, 0, source.length);
  acc = sum16(destination, 0, destination.length, acc);
  if (family === 4) {
    // zero byte + protocol, then the 16-bit length.
    return acc + VRRP_PROTOCOL + (length & 0xffff);
  }
  // RFC 2460 8.1: 32-bit upper-layer length, 3 zero bytes, next header.
  return acc + Math.floor(length / 0x10000) + (length & 0xffff) + VRRP_PROTOCOL;
}

/**
 * Checksum of `message` (with its checksum field, bytes 6-7, counted as zero), optionally
 * with a pseudo-header sum from pseudoHeaderSum().
 */
export function vrrpChecksum(message: Uint8Array, pseudo = 0): number {
  const acc = sum16(message, 0, 6, pseudo);
  return finishChecksum(sum16(message, 8, message.length, acc));
}

/** True when the checksum field verifies, i.e. the whole sum including it folds to 0xffff. */
export function checksumVerifies(message: Uint8Array, pseudo = 0): boolean {
  return finishChecksum(sum16(message, 0, message.length, pseudo)) === 0;
}
