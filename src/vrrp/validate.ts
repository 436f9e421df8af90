// Instance-level checks of a decoded advert (RFC 3768 7.1, RFC 5798 7.1), as keepalived's
// vrrp_in_chk() applies them, with twinvip's deliberate differences marked:
//  - a v2 interval mismatch is dropped like keepalived does, but flagged for an alarm;
//  - an address-list mismatch (count or addresses) is dropped by default, as keepalived 2.2.7
//    does (vrrp_check_packet: "received an unexpected ip number count", "ip address associated
//    with VRID not present in MASTER advert"), also from a priority-255 sender, which RFC 3768
//    7.1 would let through: one stray advert with someone else's VIPs must not move ours.
//    addressListPolicy 'accept' is the lenient option: accepted, counted as a warning;
//  - pair mode: with the twin's addresses known over the serial heartbeat, an advert for our VRID
//    from any other source is dropped ('not-twin') before anything else is judged.

import { canonicalIp } from '../lib/ip.js';
import { ahIcvVerifies, spiAddress, type AhSequence, type HmacMd5 } from './ah.js';
import type { AdvertWarning, ValidateDropReason } from './drop-reasons.js';
import { AUTH_AH, AUTH_PASS, VRRP_AUTH_LENGTH } from './packet.js';
import type { Advert, Family, VrrpVersion } from './types.js';

/** What an instance expects of the adverts it accepts. */
export interface AdvertExpectation {
  vrid: number;
  version: VrrpVersion;
  /** v2 auth type (0 none, 1 simple password, 2 IPsec AH); ignored for v3. */
  authType: number;
  /**
   * v2 PASS: the password bytes (authDataFromPassword()), compared zero-padded to 8 bytes.
   * v2 AH: the HMAC-MD5 key, the same 8 bytes (ahKeyFromPassword()).
   */
  authData?: Uint8Array;
  /** v2 AH: the HMAC-MD5 the shell passes in (src/ha/vrrp/ah-crypto.ts); without it AH adverts are refused. */
  hmacMd5?: HmacMd5;
  /** Our configured interval. v2 adverts must carry the same (v3 backups learn the master's). */
  advertIntervalCs: number;
  /** Our virtual addresses, any text form. */
  addresses: readonly string[];
  /** This node's addresses on the interface: adverts from them are our own, looped back. */
  ownAddresses: readonly string[];
  /** When non-empty, only these sources are accepted (keepalived vrrp_check_unicast_src). */
  unicastPeers?: readonly string[];
  /**
   * What an address-list mismatch does. 'drop' (default): keepalived 2.2.7's rule, the advert
   * is dropped and counted ('address-list'). 'accept': accepted and counted as a warning, the
   * behaviour of twinvip before this became the default; only for a group that needs it.
   */
  addressListPolicy?: 'drop' | 'accept';
}

/** Pair mode: the twin's addresses (canonical text), learned over the serial heartbeat. */
export interface TwinFilter {
  twin: ReadonlySet<string>;
}

export interface AdvertWarningDetail {
  warning: AdvertWarning;
  detail: string;
}

export type ValidationOutcome =
  | { accept: true; warnings: AdvertWarningDetail[] }
  | {
      accept: false;
      reason: ValidateDropReason;
      detail: string;
      /**
       * A misconfiguration between the two routers that makes both MASTER (each drops the
       * other's adverts): the daemon must raise an alarm, not only count.
       */
      alarm: boolean;
      warnings: AdvertWarningDetail[];
    };

function reject(reason: ValidateDropReason, detail: string, alarm: boolean): ValidationOutcome {
  return { accept: false, reason, detail, alarm, warnings: [] };
}

// The expectation's lists are fixed per instance plan; canonicalising them once keeps a flood of
// adverts from allocating sets per packet.
const canonicalCache = new WeakMap<readonly string[], Map<Family, Set<string>>>();

function canonicalSet(list: readonly string[], family: Family): Set<string> {
  let byFamily = canonicalCache.get(list);
  if (!byFamily) canonicalCache.set(list, (byFamily = new Map()));
  let out = byFamily.get(family);
  if (!out) {
    out = new Set<string>();
    for (const a of list) {
      const c = canonicalIp(a, family);
      if (c !== undefined) out.add(c);
    }
    byFamily.set(family, out);
  }
  return out;
}

/**
 * `pair`: pair mode (see TwinFilter). `ahSequence`: the instance's AH counter (auth type 2
 * only). An AH advert that authenticates moves it up, or is dropped as a replay, as keepalived's
 * vrrp_in_chk_ipsecah does, before the checks that follow authentication.
 */
export function validateAdvert(advert: Advert, expect: AdvertExpectation, pair?: TwinFilter, ahSequence?: AhSequence): ValidationOutcome {
  // IP_MULTICAST_LOOP is off, but a second instance on the box or a bridge may still
  // reflect our own adverts; they are never a peer's.
  if (canonicalSet(expect.ownAddresses, advert.family).has(advert.source)) {
    return reject('own-address', `advert from our own address ${advert.source}`, false);
  }
  // keepalived looks the instance up by VRID and ignores the rest (log_unknown_vrids).
  if (advert.vrid !== expect.vrid) {
    return reject('vrid', `VRID ${advert.vrid} is not ours (${expect.vrid})`, false);
  }
  // Pair mode first: whatever else a foreign router's advert gets wrong, what matters is that
  // it is not the twin's (the heartbeat feature raises vrid-conflict with the details).
  if (pair !== undefined && !pair.twin.has(advert.source)) {
    return reject('not-twin', `advert for VRID ${advert.vrid} from ${advert.source}, which is not the twin`, false);
  }
  if (advert.version !== expect.version) {
    return reject('version-mismatch', `VRRPv${advert.version} advert, instance runs VRRPv${expect.version}`, true);
  }
  if (advert.version === 2) {
    // keepalived: "Received AH header but auth type not AH" / "No AH header but auth type is AH".
    if ((advert.ah !== undefined) !== (expect.authType === AUTH_AH)) {
      return reject('auth-type-mismatch', advert.ah ? 'advert inside IPsec AH, instance expects no AH' : 'advert without IPsec AH, instance expects auth type AH', true);
    }
    if (advert.authType !== expect.authType) {
      return reject('auth-type-mismatch', `auth type ${advert.authType}, instance expects ${expect.authType}`, true);
    }
    if (advert.authType === AUTH_PASS && !sameAuthData(advert.authData, expect.authData)) {
      return reject('auth', 'simple password does not match', true);
    }
    if (advert.ah !== undefined) {
      const unicast = (expect.unicastPeers?.length ?? 0) > 0;
      if (expect.hmacMd5 === undefined) {
        return reject('auth', 'IPsec AH advert, but the instance was given no HMAC-MD5 to verify it with', true);
      }
      if (!ahIcvVerifies(advert.ah, expect.authData ?? new Uint8Array(VRRP_AUTH_LENGTH), unicast, expect.hmacMd5)) {
        return reject('auth', 'IPsec AH HMAC-MD5-96 does not verify: another key, or a field changed on the way', true);
      }
      if (spiAddress(advert.ah.spi) !== advert.source) {
        return reject('auth', `IPsec AH SPI ${spiAddress(advert.ah.spi)} is not the sender's address ${advert.source}`, true);
      }
      if (ahSequence && !ahSequence.accept(advert.ah.sequence)) {
        return reject('auth-replay', `IPsec AH sequence number ${advert.ah.sequence} is not above ${ahSequence.current}`, false);
      }
    }
    // RFC 3768 7.1: MUST discard on a mismatch. keepalived discards silently and both routers
    // end up MASTER; we discard too, and flag it for an alarm.
    if (advert.advertIntervalCs !== expect.advertIntervalCs) {
      return reject(
        'interval-mismatch',
        `advert interval ${advert.advertIntervalCs / 100} s, ours is ${expect.advertIntervalCs / 100} s`,
        true,
      );
    }
  }
  if (expect.unicastPeers !== undefined && expect.unicastPeers.length > 0) {
    if (!canonicalSet(expect.unicastPeers, advert.family).has(advert.source)) {
      return reject('unicast-source', `unicast advert from ${advert.source}, not a configured peer`, false);
    }
  }

  const warnings: AdvertWarningDetail[] = [];
  const mismatch = addressListMismatch(advert, expect);
  if (mismatch !== undefined) {
    if ((expect.addressListPolicy ?? 'drop') === 'drop') return reject('address-list', mismatch, true);
    warnings.push({ warning: 'address-list', detail: mismatch });
  }
  return { accept: true, warnings };
}

/** `address list [a, b] differs from ours [c]: missing c; unexpected a, b`, or undefined if equal. */
export function addressListMismatch(advert: Advert, expect: Pick<AdvertExpectation, 'addresses'>): string | undefined {
  const ours = canonicalSet(expect.addresses, advert.family);
  const theirs = new Set(advert.addresses);
  const missing = [...ours].filter((a) => !theirs.has(a));
  const extra = [...theirs].filter((a) => !ours.has(a));
  if (missing.length === 0 && extra.length === 0 && advert.addresses.length === ours.size) return undefined;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
  if (extra.length > 0) parts.push(`unexpected ${extra.join(', ')}`);
  if (parts.length === 0) parts.push(`${advert.addresses.length} addresses listed, we have ${ours.size}`);
  return `address list [${advert.addresses.join(', ')}] differs from ours [${[...ours].join(', ')}]: ${parts.join('; ')}`;
}

function sameAuthData(received: Uint8Array | undefined, expected: Uint8Array | undefined): boolean {
  for (let i = 0; i < VRRP_AUTH_LENGTH; i++) {
    if ((received?.[i] ?? 0) !== (expected?.[i] ?? 0)) return false;
  }
  // A configured password longer than 8 bytes is compared on its first 8, as keepalived does.
  return true;
}
