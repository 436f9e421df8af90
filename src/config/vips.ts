import { maxPrefix, parseAddress, type FamilyName as Family } from '../lib/ip';
import { VRRP_GROUP_V4, VRRP_GROUP_V6 } from '../vrrp/types';
import type { InstanceConfig, VipSpec } from './schema/instance';

export interface NormalizedVip {
  /** Canonical text of the address (RFC 5952 for IPv6). */
  address: string;
  family: Family;
  /** Prefix length; keepalived's default /32 or /128 when none was written. */
  prefix: number;
  /** Interface carrying it: the VIP's own `dev`, else the instance's interface. */
  dev: string;
  label?: string;
  /** From excluded_vips: moved with the instance but not listed in adverts. */
  excluded: boolean;
  /** JSON pointer of the entry, relative to the instance (e.g. "/vips/0"). */
  pointer: string;
}

/** A VIP in its one canonical form, or undefined if it does not parse (the schema rejects those). */
export function normalizeVip(spec: VipSpec, instanceInterface: string, excluded = false, pointer = ''): NormalizedVip | undefined {
  const parsed = parseAddress(typeof spec === 'string' ? spec : spec.address);
  if (!parsed) return undefined;
  const objectPrefix = typeof spec === 'string' ? undefined : spec.prefix;
  const prefix = objectPrefix ?? parsed.prefix ?? maxPrefix(parsed.family);
  const vip: NormalizedVip = {
    address: parsed.address,
    family: parsed.family,
    prefix,
    dev: (typeof spec === 'string' ? undefined : spec.dev) ?? instanceInterface,
    excluded,
    pointer,
  };
  const label = typeof spec === 'string' ? undefined : spec.label;
  if (label !== undefined) vip.label = label;
  return vip;
}

/** The advertised VIPs then the excluded ones, normalized. */
export function instanceVips(instance: InstanceConfig): NormalizedVip[] {
  const out: NormalizedVip[] = [];
  instance.vips.forEach((v, i) => {
    const n = normalizeVip(v, instance.interface, false, `/vips/${i}`);
    if (n) out.push(n);
  });
  instance.excluded_vips.forEach((v, i) => {
    const n = normalizeVip(v, instance.interface, true, `/excluded_vips/${i}`);
    if (n) out.push(n);
  });
  return out;
}

/**
 * The instance's address family: that of its first advertised VIP, else of its unicast
 * addresses or multicast group, else IPv4.
 */
export function instanceFamily(instance: InstanceConfig): Family {
  const first = instanceVips(instance).find((v) => !v.excluded);
  if (first) return first.family;
  for (const a of [instance.unicast_src_ip, ...instance.unicast_peers, instance.mcast_group]) {
    const p = a === undefined ? undefined : parseAddress(a);
    if (p) return p.family;
  }
  return 'ipv4';
}

/** The group an instance without unicast peers uses when mcast_group is unset. */
export const DEFAULT_MCAST_GROUP: Record<Family, string> = { ipv4: VRRP_GROUP_V4, ipv6: VRRP_GROUP_V6 };
