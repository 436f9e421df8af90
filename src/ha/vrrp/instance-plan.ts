// From one configured instance to everything the VRRP shell needs to run it: the core's
// parameters, what received adverts must match, and the template of the adverts it sends.
// Pure: the interface's primary address comes in from the caller (it is only known at run time).

// From the modules themselves, not the config index: the HA thread must not load the validator.
import type { InstanceConfig, NormalizedVip, TwinvipConfig } from '../../config';
import { DEFAULT_MCAST_GROUP, instanceFamily, instanceVips } from '../../config/vips';
import { trackRefs } from '../../config/track';
import { ahKeyFromPassword } from '../../vrrp/ah';
import { AUTH_AH, AUTH_NONE, AUTH_PASS, authDataFromPassword } from '../../vrrp/packet';
import type { AdvertExpectation } from '../../vrrp/validate';
import type { InstanceParams, TrackedObject } from '../../vrrp/events';
import type { Family } from '../../vrrp/types';

/** Names of tracked objects, one namespace per kind so a check and an interface never clash. */
export const trackName = {
  iface: (name: string) => `iface:${name}`,
  check: (name: string) => `check:${name}`,
  nginx: 'nginx',
  /** The VRRP socket an instance uses ("lan0/4", "lan0/ah"): down while it is broken (fail loudly). */
  socket: (key: string) => `socket:${key}`,
} as const;

export interface InstancePlan {
  name: string;
  interface: string;
  family: Family;
  params: InstanceParams;
  expectation: AdvertExpectation;
  /** Advertised VIPs, canonical text, in configured order (the advert's address list). */
  advertised: string[];
  /** Every VIP moved with the instance, advertised and excluded. */
  vips: NormalizedVip[];
  /** Where adverts go: the multicast group, or each unicast peer. */
  destinations: string[];
  unicast: boolean;
  multicastGroup: string;
  authType: number;
  /** PASS: the 8 bytes every advert carries. */
  authData: Uint8Array | undefined;
  /** AH: the HMAC-MD5 key (the adverts' own authentication bytes stay zero). */
  ahKey?: Uint8Array;
  checksumDialect: 'rfc5798' | 'v2-compatible';
  /** Gap between the packets of one gratuitous ARP / NA burst (vrrp_garp_interval); 0 = back to back. */
  garpIntervalMs: number;
  /** Tracked objects by the name the core knows them under. */
  tracked: TrackedObject[];
  /** A third router legitimately shares the VRID: no pair-mode twin filter (heartbeat). */
  mixedGroup: boolean;
  /** instances.<name>.preempt_hold_down in ms: preempt in one exchange over serial (src/heartbeat/preempt.ts). */
  preemptHoldDownMs: number;
}

export function familyNumber(inst: InstanceConfig): Family {
  return instanceFamily(inst) === 'ipv6' ? 6 : 4;
}

export function planInstance(
  config: TwinvipConfig,
  name: string,
  inst: InstanceConfig,
  primaryAddress: string,
  ownAddresses: readonly string[],
): InstancePlan {
  const family = familyNumber(inst);
  const vips = instanceVips(inst);
  const advertised = vips.filter((v) => !v.excluded).map((v) => v.address);
  const advertIntervalCs = Math.round(inst.advert_int * 100);
  const tracked = trackedObjects(config, inst);
  const syncGroup = Object.entries(config.sync_groups ?? {}).find(([, g]) => g.instances.includes(name))?.[0];
  const source = inst.unicast_src_ip ?? primaryAddress;
  const params: InstanceParams = {
    name,
    vrid: inst.vrid,
    version: inst.version,
    family,
    priority: inst.priority,
    advertIntervalCs,
    preempt: inst.preempt,
    preemptDelayMs: Math.round(inst.preempt_delay * 1000),
    primaryAddress: source,
    vips: advertised,
    initialState: inst.state,
    addressOwner: inst.address_owner,
    garp: {
      masterDelayMs: Math.round(inst.garp.master_delay * 1000),
      masterRepeat: inst.garp.master_repeat,
      masterRefreshMs: Math.round(inst.garp.master_refresh * 1000),
      masterRefreshRepeat: inst.garp.master_refresh_repeat,
      lowerPrioRepeat: inst.garp.lower_prio_repeat,
      lowerPrioDelayMs: Math.round(inst.garp.lower_prio_delay * 1000),
    },
    tracked,
    ...(syncGroup === undefined ? {} : { syncGroup }),
  };
  const auth = inst.version === 2 ? inst.authentication : undefined;
  const authType = auth === undefined ? AUTH_NONE : auth.type === 'AH' ? AUTH_AH : AUTH_PASS;
  const password = auth?.password;
  // password_file is read by the caller (withVrrpPasswords): this module stays free of I/O.
  if (authType !== AUTH_NONE && password === undefined) throw new Error(`${name}: authentication.password_file was not read`);
  const authData = authType === AUTH_PASS ? authDataFromPassword(password!) : undefined;
  const ahKey = authType === AUTH_AH ? ahKeyFromPassword(password!) : undefined;
  const multicastGroup = inst.mcast_group ?? DEFAULT_MCAST_GROUP[family === 6 ? 'ipv6' : 'ipv4'];
  const unicast = inst.unicast_peers.length > 0;
  const expectation: AdvertExpectation = {
    vrid: inst.vrid,
    version: inst.version,
    authType,
    ...(authData === undefined ? {} : { authData }),
    ...(ahKey === undefined ? {} : { authData: ahKey }),
    advertIntervalCs,
    addresses: advertised,
    ownAddresses: [...new Set([source, ...ownAddresses])],
    ...(unicast ? { unicastPeers: inst.unicast_peers } : {}),
    addressListPolicy: inst.address_list_mismatch,
  };
  return {
    name,
    interface: inst.interface,
    family,
    params,
    expectation,
    advertised,
    vips,
    destinations: unicast ? [...inst.unicast_peers] : [multicastGroup],
    unicast,
    multicastGroup,
    authType,
    authData,
    ...(ahKey === undefined ? {} : { ahKey }),
    checksumDialect: inst.v3_checksum,
    garpIntervalMs: Math.round(inst.garp.interval * 1000),
    tracked,
    mixedGroup: inst.mixed_group,
    preemptHoldDownMs: Math.round(inst.preempt_hold_down * 1000),
  };
}

/**
 * keepalived semantics: a track_script entry's own weight overrides the vrrp_script's weight;
 * no weight at all (or 0) means a failure puts the instance in FAULT.
 */
function trackedObjects(config: TwinvipConfig, inst: InstanceConfig): TrackedObject[] {
  const out: TrackedObject[] = [];
  const add = (name: string, weight: number | undefined) => out.push(weight ? { name, weight } : { name });
  for (const t of trackRefs(inst.track_interfaces)) add(trackName.iface(t.name), t.weight);
  for (const t of trackRefs(inst.track_checks)) add(trackName.check(t.name), t.weight ?? config.checks?.[t.name]?.weight);
  const tn = inst.track_nginx;
  if (tn === true) add(trackName.nginx, undefined);
  else if (tn && typeof tn === 'object') add(trackName.nginx, tn.weight);
  return out;
}
