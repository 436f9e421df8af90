// What this node tells its twin over the serial link, built from the VRRP runner's views. Pure:
// the extension passes the views, the arbiter's Ethernet verdict, the health and the clock in.

import { MAX_ADDRESSES, wantsMaster, type Family, type Health, type HeartbeatBody, type InstanceReport } from '../../heartbeat';
import type { VrrpState } from '../../vrrp/types';
import type { InstanceView } from '../vrrp/runner';
import { trackName } from '../vrrp/instance-plan';

export interface LocalInstance {
  name: string;
  vrid: number;
  family: Family;
  state: VrrpState;
  priority: number;
  advertIntervalCs: number;
  address: string;
  /** instances.<name>.mixed_group: a third router belongs to the group (no pair mode). */
  mixedGroup: boolean;
  /** Preempt in one exchange (src/heartbeat/preempt.ts): ready since, and the hold-down. */
  preemptReadySince: number | null;
  preemptHoldDownMs: number;
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
    mixedGroup: plan.mixedGroup,
    preemptReadySince: s.preemptReadySince,
    preemptHoldDownMs: plan.preemptHoldDownMs,
  }));
}

export interface BodyInputs {
  instances: readonly LocalInstance[];
  /** Instances this node is giving up (release sent, or stopping): the twin takes over at once. */
  releasing: ReadonlySet<string>;
  hearsPeerAdverts: (vrid: number, family: Family) => boolean;
  health: Health;
  configHash: string;
  /**
   * Monotonic (performance.now()), never wall clock: the peer judges freshness by its progress.
   * Also "now" for the preempt hold-down (the VRRP snapshot's clock).
   */
  uptimeMs: number;
  /** This box's own addresses on its VRRP interfaces (pair mode: the twin accepts adverts only from them). */
  addresses?: readonly string[];
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
    ...(l.state === 'BACKUP' && !i.releasing.has(l.name) && wantsMaster(l.preemptReadySince, l.preemptHoldDownMs, i.uptimeMs) ? { wantsMaster: true } : {}),
  }));
  return {
    uptimeMs: Math.max(0, Math.round(i.uptimeMs)),
    configHash: i.configHash.slice(0, 64),
    health: { ...i.health },
    instances,
    addresses: [...new Set(i.addresses ?? [])].slice(0, MAX_ADDRESSES),
  };
}

/** Check names by the role the configuration gives them (`checks.<name>.role`). */
export type HealthRoles = Partial<Record<keyof Health, readonly string[]>>;

/** The roles of the configured checks. */
export function healthRoles(checks: Readonly<Record<string, { role?: keyof Health | undefined }>> | undefined): HealthRoles {
  const out: Record<keyof Health, string[]> = { uplink: [], gateway: [], nginx: [] };
  for (const [name, c] of Object.entries(checks ?? {})) if (c.role) out[c.role].push(name);
  return out;
}

/**
 * The health summary the twins compare (DESIGN.md decision table, row 3). The checks given a
 * role in the config (`role: "gateway"`, ...) give their state as the instances see it, all of
 * one role together; `nginx` is also the Nginx track. What no instance tracks counts as
 * reachable, so a box without such checks never releases on the gateway rule. `overrides` lets a
 * feature that measures it directly (the Nginx supervisor) say so.
 */
export function healthFromViews(views: readonly InstanceView[], roles: HealthRoles = {}, overrides: Partial<Health> = {}): Health {
  const state = (name: string): boolean | undefined => {
    let seen: boolean | undefined;
    for (const v of views) {
      const t = v.snapshot.tracked.find((x) => x.name === name);
      if (t) seen = (seen ?? true) && t.up;
    }
    return seen;
  };
  const role = (r: keyof Health): boolean | undefined => {
    let seen: boolean | undefined;
    for (const name of roles[r] ?? []) {
      const s = state(trackName.check(name));
      if (s !== undefined) seen = (seen ?? true) && s;
    }
    return seen;
  };
  const nginxTrack = state(trackName.nginx);
  const nginxChecks = role('nginx');
  return {
    uplink: overrides.uplink ?? role('uplink') ?? true,
    gateway: overrides.gateway ?? role('gateway') ?? true,
    nginx: overrides.nginx ?? (nginxTrack === undefined && nginxChecks === undefined ? true : (nginxTrack ?? true) && (nginxChecks ?? true)),
  };
}

export const instanceKey = (vrid: number, family: Family): string => `${family}/${vrid}`;

/**
 * The addresses this box sends adverts from or may: each instance's source and the interface's
 * own addresses as planned (VIPs never among them), IPv4 first so they survive a full frame.
 */
export function ownAddresses(views: readonly InstanceView[]): string[] {
  const all = new Set<string>();
  for (const v of views) {
    all.add(v.plan.params.primaryAddress);
    for (const a of v.plan.expectation.ownAddresses) all.add(a);
  }
  return [...all].sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
}
