import type { TwinvipConfig } from '../schema/root';
import { instanceFamily, instanceVips } from '../vips';
import { familyName, pointer, type IssueCollector } from '../../lib/issue-collector';

/** Rules between instances: what two instances of one box may not share. */
export function checkAcrossInstances(config: TwinvipConfig, out: IssueCollector): void {
  // RFC 5798 5.2.3: the VRID identifies the virtual router on its LAN; keepalived keys it by
  // interface and family (an IPv4 and an IPv6 VRID 51 coexist: different virtual MACs).
  const vridOwner = new Map<string, string>();
  // One address moved by two instances would flap between them.
  const vipOwner = new Map<string, string>();
  for (const [name, inst] of Object.entries(config.instances)) {
    const family = instanceFamily(inst);
    const key = `${inst.interface}\u0000${family}\u0000${inst.vrid}`;
    const other = vridOwner.get(key);
    if (other !== undefined) {
      out.error(pointer('instances', name, 'vrid'), `VRID ${inst.vrid} on ${inst.interface} (${familyName(family)}) is already used by instance ${other}`,
        inst.vrid, `a VRID not used by another ${familyName(family)} instance on ${inst.interface}`);
    } else {
      vridOwner.set(key, name);
    }
    const mine = new Set<string>();
    for (const v of instanceVips(inst)) {
      if (mine.has(v.address)) continue; // a repeat inside one instance is reported by checkInstance
      mine.add(v.address);
      const owner = vipOwner.get(v.address);
      if (owner !== undefined) {
        out.error(pointer('instances', name) + v.pointer, `${v.address} is also a VIP of instance ${owner}`, v.address,
          'each address in one instance only');
      } else {
        vipOwner.set(v.address, name);
      }
    }
  }
}
