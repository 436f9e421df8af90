// The run-time side of IPsec AH for the VRRP runner: one keepalived-style sequence counter per
// AH instance (kept across a reload, as keepalived keeps ipsecah_counter), sealing each advert
// into an AH datagram per destination, and the counter rules that depend on the instance's
// state (a MASTER hearing a lower priority syncs; becoming MASTER resets a cycled counter).

import { compareAddresses } from '../../lib/ip';
import { AhSequence, sealAhAdvert } from '../../vrrp/ah';
import type { InstanceSnapshot } from '../../vrrp/events';
import type { Advert } from '../../vrrp/types';
import { hmacMd5 } from './ah-crypto';
import type { InstancePlan } from './instance-plan';

export class AhSessions {
  private readonly counters = new Map<string, AhSequence>();

  /** Counters for the AH instances of `plans`; others' are dropped, existing ones kept. */
  sync(plans: Iterable<InstancePlan>): void {
    const wanted = new Set<string>();
    for (const p of plans) {
      if (p.ahKey === undefined) continue;
      wanted.add(p.name);
      if (!this.counters.has(p.name)) this.counters.set(p.name, new AhSequence());
    }
    for (const name of this.counters.keys()) if (!wanted.has(name)) this.counters.delete(name);
  }

  /** The replay window validateAdvert() moves; undefined for instances without AH. */
  sequence(name: string): AhSequence | undefined {
    return this.counters.get(name);
  }

  /** One advert's VRRP message as one AH datagram per destination (one sequence number for all). */
  seal(plan: InstancePlan, vrrp: Uint8Array): { destination: string; bytes: Uint8Array }[] {
    const counter = this.counters.get(plan.name);
    if (counter === undefined || plan.ahKey === undefined) return [];
    const { sequence, ipId } = counter.next();
    return plan.destinations.map((destination) => ({
      destination,
      bytes: sealAhAdvert({ vrrp, source: plan.params.primaryAddress, destination, ipId, sequence, key: plan.ahKey!, hmacMd5, unicast: plan.unicast }),
    }));
  }

  /** After an accepted AH advert: a MASTER that hears a lower priority takes its number + 1. */
  heard(plan: InstancePlan, advert: Advert, us: InstanceSnapshot): void {
    const counter = this.counters.get(plan.name);
    if (counter === undefined || advert.ah === undefined || us.state !== 'MASTER') return;
    const lower = advert.priority < us.effectivePriority
      || (advert.priority === us.effectivePriority && compareAddresses(advert.source, plan.params.primaryAddress) < 0);
    if (lower) counter.syncFromLower(advert.ah.sequence);
  }

  becameMaster(name: string): void {
    this.counters.get(name)?.becomeMaster();
  }
}
