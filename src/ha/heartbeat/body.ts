// What this node tells its twin over the serial link, built from the VRRP runner's views. Pure:
// the extension passes the views, the arbiter's Ethernet verdict, the health and the clock in.

import type { Family, Health, HeartbeatBody, InstanceReport, VrrpStateName } from '../../heartbeat';
import type { InstanceView } from '../vrrp/runner';
import { trackName } from '../vrrp/instance-plan';

export interface LocalInstance {
  name: string;
  vrid: number;
  family: Family;
  state: VrrpStateName;
  priority: number;
  advertIntervalCs: number;
  address: string;
}

export function localInstances(views: readonly InstanceView[]): LocalInstance[] {
  return views.map(({ plan, snapshot: s }) => ({
    name: plan.name,
    vrid: s.vrid,
    family: s.family,
    state: s.state,
    priority: s.effectivePriority,
    advertIntervalCs: plan.params.advertIntervalCs,
    address: plan.params.primaryAddress,
  }));
}

export interface BodyInputs {
  instances: readonly LocalInstance[];
  /** Instances this node is giving up (release sent, or stopping): the twin takes over at once. */
  releasing: ReadonlySet<string>;
  hearsPeerAdverts: (vrid: number, family: Family) => boolean;
  health: Health;
  configHash: string;
  /** Monotonic (performance.now()), never wall clock: the peer judges freshness by its progress. */
  uptimeMs: number;
}

export function heartbeatBody(i: BodyInputs): HeartbeatBody {
  const instances: InstanceReport[] = i.instances.map((l) => ({
    vrid: l.vrid,
    family: l.family,
    state: l.state,
    effectivePriority: l.priority,
    advertIntervalCs: l.advertIntervalCs,
    address: l.address,
    releasing: i.releasing.has(l.name),
    hearsPeerAdverts: i.hearsPeerAdverts(l.vrid, l.family),
  }));
  return { uptimeMs: Math.max(0, Math.round(i.uptimeMs)), configHash: i.configHash.slice(0, 64), health: { ...i.health }, instances };
}

/**
 * The health summary the twins compare (DESIGN.md decision table, row 3). A tracked object named
 * `check:uplink`, `check:gateway` (checks called "uplink"/"gateway" in the config) or `nginx`
 * gives its state as the instances see it; what no instance tracks counts as reachable, so a
 * box without such checks never releases on the gateway rule. `overrides` lets a feature that
 * measures it directly (the Nginx supervisor, a future check runner) say so.
 */
export function healthFromViews(views: readonly InstanceView[], overrides: Partial<Health> = {}): Health {
  const state = (name: string): boolean | undefined => {
    let seen: boolean | undefined;
    for (const v of views) {
      const t = v.snapshot.tracked.find((x) => x.name === name);
      if (t) seen = (seen ?? true) && t.up;
    }
    return seen;
  };
  return {
    uplink: overrides.uplink ?? state(trackName.check('uplink')) ?? true,
    gateway: overrides.gateway ?? state(trackName.check('gateway')) ?? true,
    nginx: overrides.nginx ?? state(trackName.nginx) ?? state(trackName.check('nginx')) ?? true,
  };
}

export const instanceKey = (vrid: number, family: Family): string => `${family}/${vrid}`;
