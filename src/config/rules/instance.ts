import { parseAddress } from '../../lib/ip';
import { showValue } from '../../lib/config-issues';
import type { InstanceConfig } from '../schema/instance';
import { familyName, pointer, type IssueCollector } from '../../lib/issue-collector';
import { V3_MAX_ADVERT_CS } from '../../vrrp/packet';
import { DEFAULT_MCAST_GROUP, instanceFamily, instanceVips } from '../vips';

/** Rules that concern one instance alone. */
export function checkInstance(name: string, inst: InstanceConfig, out: IssueCollector): void {
  const at = (...rest: (string | number)[]) => pointer('instances', name, ...rest);
  const family = instanceFamily(inst);
  const fam = familyName(family);
  const vips = instanceVips(inst);

  // One family per instance: an advert lists addresses of the family it is sent over
  // (RFC 5798 5.2.9); keepalived refuses mixed lists too.
  const advertised = vips.filter((v) => !v.excluded);
  for (const v of advertised) {
    if (v.family !== family) {
      out.error(at() + v.pointer, `${familyName(v.family)} VIP in an ${fam} instance (its first VIP is ${advertised[0]?.address})`, v.address,
        'all VIPs of one instance of one family: put the other family in its own instance (or in excluded_vips)');
    }
  }
  for (const v of vips) {
    if (v.prefix > (v.family === 'ipv4' ? 32 : 128)) {
      out.error(`${at()}${v.pointer}/prefix`, `prefix /${v.prefix} is too long for ${familyName(v.family)}`, v.prefix, v.family === 'ipv4' ? '0..32' : '0..128');
    }
  }
  const seen = new Map<string, string>();
  for (const v of vips) {
    const first = seen.get(v.address);
    if (first !== undefined) out.error(at() + v.pointer, `${v.address} is listed twice in this instance (also at ${first})`, v.address, 'each address once');
    else seen.set(v.address, v.pointer);
  }
  const firstVip = advertised[0];
  if (family === 'ipv6' && firstVip && !firstVip.address.startsWith('fe8')) {
    out.warn(at('vips', 0), 'RFC 5798 5.2.9: the first IPv6 address of an advert should be the link-local VIP (fe80::/10); some peers drop it otherwise', firstVip.address,
      'put a link-local VIP such as fe80::1/64 first');
  }
  if (advertised.length === 0) out.warn(at('vips'), 'no VIPs: the instance elects a master but moves no address');

  if (inst.version === 2 && family === 'ipv6') {
    out.error(at('version'), 'VRRPv2 carries IPv4 only (RFC 3768), but this instance is IPv6', inst.version, '3 (VRRPv3, RFC 5798) for IPv6');
  }

  checkAdvertInterval(inst, at('advert_int'), out);

  if (inst.authentication && inst.version === 3) {
    out.error(at('authentication'), 'VRRPv3 has no authentication (RFC 5798 removed it); keepalived ignores it with version 3', undefined,
      'remove authentication, or use version 2');
  }
  if (inst.authentication && (inst.authentication.password === undefined) === (inst.authentication.password_file === undefined)) {
    out.error(`${at('authentication')}/password`, inst.authentication.password === undefined ? 'PASS authentication needs password or password_file' : 'give password or password_file, not both', undefined,
      'password_file: "/etc/twinvip/vrrp.password" (first line, at most 8 characters)');
  }

  // keepalived: "Initial state master is incompatible with AH authentication - clearing". A new
  // MASTER must first hear an advert to learn the AH sequence number, or its peers drop its
  // adverts as replays. We refuse it, as we refuse nopreempt with MASTER.
  if (inst.authentication?.type === 'AH' && inst.version === 2 && inst.state === 'MASTER' && !inst.address_owner) {
    out.error(at('state'), 'authentication AH requires state BACKUP (keepalived clears MASTER with AH: a new master must learn the peers\' sequence number first)', 'MASTER',
      'state: "BACKUP" (the higher priority still wins after Master_Down_Interval)');
  }

  // Priority 255 is the address owner's (RFC 5798 5.2.4): it answers for the address at once and
  // always preempts. The schema cannot see the interface's addresses, so the owner declares itself
  // (address_owner) and the daemon checks at start-up that the VIP is a primary address.
  if (inst.priority === 255 && !inst.address_owner) {
    out.error(at('priority'), 'must be <= 254 (got 255): 255 is reserved for the address owner', 255,
      '1..254, or 255 with address_owner: true when the VIP is a primary address of the interface');
  }
  if (inst.address_owner) {
    if (inst.priority !== 255) {
      out.error(at('address_owner'), `an address owner has priority 255 (got priority ${inst.priority})`, true, 'priority: 255, or address_owner: false');
    }
    if (inst.unicast_src_ip !== undefined) {
      const src = parseAddress(inst.unicast_src_ip)?.address;
      if (!advertised.some((v) => v.address === src)) {
        out.error(at('address_owner'), `an address owner's primary address (unicast_src_ip ${inst.unicast_src_ip}) must be one of its VIPs`, true,
          'list the primary address in vips, or address_owner: false');
      }
    }
    if (!inst.preempt) out.warn(at('preempt'), 'ignored: the address owner always preempts (RFC 5798 6.4.3)', false);
  }

  // keepalived: "nopreempt" only makes sense with an initial BACKUP state and it warns and ignores
  // it otherwise. We refuse it, because the two settings ask for opposite starts.
  if (!inst.preempt && inst.state === 'MASTER' && !inst.address_owner) {
    out.error(at('preempt'), 'preempt: false (keepalived nopreempt) requires state BACKUP, but state is MASTER', false,
      'state: "BACKUP" with preempt: false, or preempt: true');
  }
  if (inst.preempt_delay > 0 && !inst.preempt) {
    out.warn(at('preempt_delay'), 'has no effect with preempt: false', inst.preempt_delay);
  }

  checkUnicast(inst, family, at, out);

  if (inst.mcast_group !== undefined) {
    const g = parseAddress(inst.mcast_group);
    if (g && g.family !== family) out.error(at('mcast_group'), `${familyName(g.family)} group for an ${fam} instance`, inst.mcast_group, DEFAULT_MCAST_GROUP[family]);
    else if (g && !isMulticast(g.address, g.family)) out.error(at('mcast_group'), 'is not a multicast address', inst.mcast_group, family === 'ipv4' ? `an address in 224.0.0.0/4, e.g. ${DEFAULT_MCAST_GROUP.ipv4}` : `an address in ff00::/8, e.g. ${DEFAULT_MCAST_GROUP.ipv6}`);
    if (inst.unicast_peers.length > 0) out.warn(at('mcast_group'), 'ignored: the instance uses unicast_peers', inst.mcast_group);
  }

  if (inst.v3_checksum !== 'rfc5798' && (inst.version === 2 || family === 'ipv6')) {
    out.warn(at('v3_checksum'), 'only affects VRRPv3 over IPv4', inst.v3_checksum);
  }
}

function checkAdvertInterval(inst: InstanceConfig, path: string, out: IssueCollector): void {
  const v = inst.advert_int;
  if (inst.version === 2) {
    // RFC 3768 5.3.7: an 8-bit count of whole seconds.
    if (!Number.isInteger(v) || v < 1 || v > 255) {
      out.error(path, `must be whole seconds 1..255 with version 2 (got ${showValue(v)})`, v, 'an integer 1..255, or version 3 for sub-second intervals');
    }
    return;
  }
  // RFC 5798 5.2.7: 12 bits of centiseconds.
  const cs = v * 100;
  if (Math.abs(cs - Math.round(cs)) > 1e-6 || Math.round(cs) < 1 || Math.round(cs) > V3_MAX_ADVERT_CS) {
    out.error(path, `must be 0.01..40.95 seconds in steps of 0.01 with version 3 (got ${showValue(v)})`, v, '0.01..40.95, a multiple of 0.01');
  }
}

function checkUnicast(inst: InstanceConfig, family: 'ipv4' | 'ipv6', at: (...r: (string | number)[]) => string, out: IssueCollector): void {
  const fam = familyName(family);
  const src = inst.unicast_src_ip === undefined ? undefined : parseAddress(inst.unicast_src_ip);
  if (src && src.family !== family) {
    out.error(at('unicast_src_ip'), `${familyName(src.family)} address in an ${fam} instance`, inst.unicast_src_ip, `an ${fam} address of ${inst.interface}`);
  }
  const peers = new Map<string, number>();
  inst.unicast_peers.forEach((peer, i) => {
    const p = parseAddress(peer);
    if (!p) return;
    if (p.family !== family) out.error(at('unicast_peers', i), `${familyName(p.family)} peer in an ${fam} instance`, peer, `an ${fam} address`);
    if (src && p.address === src.address) out.error(at('unicast_peers', i), 'is this node\'s own unicast_src_ip', peer, "the twin's address");
    const j = peers.get(p.address);
    if (j !== undefined) out.error(at('unicast_peers', i), `same address as unicast_peers/${j}`, peer, 'each peer once');
    else peers.set(p.address, i);
  });
}

function isMulticast(address: string, family: 'ipv4' | 'ipv6'): boolean {
  if (family === 'ipv6') return address.startsWith('ff');
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}
