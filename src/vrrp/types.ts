// Shared VRRP vocabulary between the codec (packet.ts), the state machine (instance.ts)
// and the shell (src/net). Plain data only.

export type Family = 4 | 6;
export type VrrpVersion = 2 | 3;

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
}
