// Why a received advert was dropped. Each reason is a counter the daemon reports (status,
// console, MQTT). Names follow the statistics of the VRRP MIBs (RFC 2787 vrrpRouterStatsTable,
// RFC 6527 vrrpv3StatisticsTable) and keepalived's per-instance stats where they exist.
//
// Every packet read from a VRRP socket ends in exactly one place: accepted by an instance, or
// dropped under exactly one of these reasons (README "Receive counters" gives the sum that must
// hold). An accepted advert that carried something worth a warning is still accepted: warnings
// (ADVERT_WARNINGS) are a separate count, never a drop.

/** Reasons found by decodeAdvert(): the packet itself is malformed or not VRRP-conformant. */
export const DECODE_DROP_REASONS = [
  /** Shorter than the 8-byte fixed header (RFC 3768/5798 7.1 "complete packet"). */
  'short',
  /** IPv4 TTL / IPv6 hop limit is not 255 (RFC 3768 7.1, RFC 5798 7.1). MIB: IpTtlErrors. */
  'ttl',
  /** Version is neither 2 nor 3, or 2 over IPv6 (VRRPv2 is IPv4 only). MIB: VersionErrors. */
  'version',
  /** Type is not 1 (ADVERTISEMENT). MIB: InvalidTypePktsRcvd. */
  'type',
  /** Length differs from 8 + count * address size (+ 8 auth bytes in v2). MIB: PacketLengthErrors. */
  'length',
  /** Checksum does not verify in any accepted dialect. MIB: ChecksumErrors. */
  'checksum',
  /** v2 auth type outside 0 (none), 1 (simple password), 2 (AH). MIB: InvalidAuthType. */
  'auth-type',
  /** Advert interval of 0: Master_Down_Interval would collapse to the skew time. */
  'interval',
  /** The context's source/destination are not addresses of the context's family. */
  'family',
  /** An AH datagram (IP protocol 51) that is malformed or does not protect VRRP (RFC 2402 2). */
  'ah',
] as const;
export type DecodeDropReason = (typeof DECODE_DROP_REASONS)[number];

/** Reasons found by the shell before decoding (src/net/vrrp-socket.ts, the VRRP runner). */
export const SHELL_DROP_REASONS = [
  /** The IPv4 header the raw socket delivered is unusable (too short, bad IHL or version). */
  'ip-header',
  /** Read while the VRRP runner was stopping (its instances have shut down). */
  'stopping',
] as const;
export type ShellDropReason = (typeof SHELL_DROP_REASONS)[number];

/** Reasons found by validateAdvert(): the advert is well formed but not acceptable to an instance. */
export const VALIDATE_DROP_REASONS = [
  /** Another virtual router's advert. Not an error: keepalived ignores other VRIDs. MIB: VrIdErrors. */
  'vrid',
  /** Sent from one of this node's own addresses (a looped-back multicast). */
  'own-address',
  /**
   * Pair mode (serial heartbeat, no mixed group): an advert for our VRID from a router that is
   * not the twin. It never reaches the state machine; the heartbeat feature raises vrid-conflict.
   */
  'not-twin',
  /** VRRP version differs from the instance's. */
  'version-mismatch',
  /** v2 auth type differs from the instance's. MIB: AuthTypeMismatch. */
  'auth-type-mismatch',
  /** v2 simple password differs, or the AH ICV/SPI does not verify (wrong key). MIB: AuthFailures. */
  'auth',
  /**
   * AH sequence number not above the last one accepted or sent: a replayed advert, or a peer
   * whose counter restarted (keepalived counts it as an auth failure; kept apart to tell which).
   */
  'auth-replay',
  /** v2 advert interval differs from ours (RFC 3768 7.1 MUST discard). MIB: AdvertisementIntervalErrors. */
  'interval-mismatch',
  /** Unicast advert from an address that is not a configured peer (keepalived vrrp_check_unicast_src). */
  'unicast-source',
  /**
   * The advert's address list differs from ours (count or addresses), under the default
   * address_list_mismatch "drop": keepalived 2.2.7's rule. MIB: AddressListErrors.
   */
  'address-list',
] as const;
export type ValidateDropReason = (typeof VALIDATE_DROP_REASONS)[number];

export const DROP_REASONS = [...SHELL_DROP_REASONS, ...DECODE_DROP_REASONS, ...VALIDATE_DROP_REASONS] as const;
export type DropReason = ShellDropReason | DecodeDropReason | ValidateDropReason;

/** Drop reasons that are normal traffic, not faults (count them, never alarm or log loudly). */
export const NOT_AN_ERROR: ReadonlySet<DropReason> = new Set<DropReason>(['vrid', 'own-address', 'stopping']);

/**
 * Accepted-with-warning conditions, counted apart from the drops. 'address-list': the VIP list
 * differs from ours and the instance is configured address_list_mismatch "accept" (the lenient
 * option); the advert is accepted and acted upon.
 */
export const ADVERT_WARNINGS = ['address-list'] as const;
export type AdvertWarning = (typeof ADVERT_WARNINGS)[number];

export type DropCounters = Record<DropReason, number>;
export type WarningCounters = Record<AdvertWarning, number>;

/** A zeroed counter per drop reason, for the daemon's statistics. */
export function emptyDropCounters(): DropCounters {
  const counters = {} as DropCounters;
  for (const r of DROP_REASONS) counters[r] = 0;
  return counters;
}

/** A zeroed counter per warning. */
export function emptyWarningCounters(): WarningCounters {
  const counters = {} as WarningCounters;
  for (const w of ADVERT_WARNINGS) counters[w] = 0;
  return counters;
}
