// Shared VRRP vocabulary between the codec (packet.ts), the state machine (instance.ts)
// and the shell (src/net). Plain data only.

import type { AhEnvelope } from './ah.js';

export type { Family } from '../lib/ip.js';
import type { Family } from '../lib/ip.js';
export type VrrpVersion = 2 | 3;

/** The states of RFC 3768/5798 section 6.4, as every part of twinvip names them. */
export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';

/** IP protocol number of VRRP (RFC 3768 5.1.1.4, RFC 5798 5.1.1.4); AH's next header too. */
export const VRRP_PROTOCOL = 112;
/** The adverts' multicast groups (RFC 3768 5.2.2, RFC 5798 5.1.1.2 / 5.1.2.2), unless configured. */
export const VRRP_GROUP_V4 = '224.0.0.18';
export const VRRP_GROUP_V6 = 'ff02::12';

/** A decoded, checksum-verified advertisement, as the state machine sees it. */
export interface Advert {
  version: VrrpVersion;
  family: Family;
  vrid: number;
  priority: number;
  /** Advertisement interval in centiseconds (v2 whole seconds are carried as seconds * 100). */
  advertIntervalCs: number;
  /** Virtual addresses in canonical text form (IPv4 dotted quad, IPv6 RFC 5952). */
  addresses: string[];
  /** v2 authentication type (0 none, 1 simple text password, 2 AH); always 0 for v3. */
  authType: number;
  /** The sender's address, from the IP header. */
  source: string;
  /** v2 only: the 8 authentication bytes (the zero-padded password for simple text auth). */
  authData?: Uint8Array;
  /** v3 only: the checksum form that verified (see ChecksumDialect). */
  checksumDialect?: ChecksumDialect;
  /** v2 only: present when the advert came inside IPsec AH (IP protocol 51). */
  ah?: AhEnvelope;
}

/**
 * Which checksum a VRRPv3 advert carried (RFC 5798 section 5.2.8):
 * - 'rfc5798': with the IPv4/IPv6 pseudo-header (keepalived's default; the only form for IPv6);
 * - 'v2-compatible': IPv4 without the pseudo-header (RFC 9568, Cisco/Juniper, keepalived >= 2.2.8
 *   `v3_checksum_as_v2`);
 * - 'old-unicast': IPv4 unicast whose pseudo-header carries the multicast group 224.0.0.18
 *   instead of the real destination (keepalived before 1.3.6; `old_unicast_checksum`).
 */
export type ChecksumDialect = 'rfc5798' | 'v2-compatible' | 'old-unicast';
