// What a configuration reload does to each VRRP instance, keepalived-style: instances are matched
// by name; one whose plan is identical keeps running untouched, one whose plan changed is rebuilt
// (carrying its MASTER/BACKUP state over), one that moved to another virtual router (interface,
// family or VRID) is a removal plus an addition, since the old VRID's peers must hear it leave.
// Pure: plans in, names out.

import type { InstancePlan } from './instance-plan';

export interface ReloadDiff {
  unchanged: string[];
  changed: string[];
  removed: string[];
  added: string[];
}

export interface PlanSet {
  plans: readonly InstancePlan[];
  /** Sync group name → member names. */
  groups: Readonly<Record<string, readonly string[]>>;
}

export function diffPlans(before: PlanSet, after: PlanSet): ReloadDiff {
  const old = new Map(before.plans.map((p) => [p.name, p]));
  const next = new Map(after.plans.map((p) => [p.name, p]));
  const removed: string[] = [];
  const added: string[] = [];
  const changed = new Set<string>();
  for (const [name, p] of old) {
    const n = next.get(name);
    if (!n || identity(n) !== identity(p)) removed.push(name);
  }
  for (const [name, n] of next) {
    const p = old.get(name);
    if (!p || identity(n) !== identity(p)) added.push(name);
    else if (planKey(p) !== planKey(n)) changed.add(name);
  }
  // A sync group holds its members' instances: when its definition changed or any member is
  // rebuilt, removed or added, every surviving member is rebuilt with it (the simple, correct
  // way; keepalived itself re-creates groups on reload).
  const kept = (name: string) => old.has(name) && next.has(name) && !removed.includes(name);
  const groupNames = new Set([...Object.keys(before.groups), ...Object.keys(after.groups)]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const g of groupNames) {
      const a = before.groups[g] ?? [];
      const b = after.groups[g] ?? [];
      const members = [...new Set([...a, ...b])];
      const touched =
        JSON.stringify([...a].sort()) !== JSON.stringify([...b].sort()) ||
        members.some((m) => changed.has(m) || removed.includes(m) || added.includes(m));
      if (!touched) continue;
      for (const m of members) {
        if (kept(m) && !changed.has(m)) {
          changed.add(m);
          grew = true;
        }
      }
    }
  }
  const unchanged = [...next.keys()].filter((n) => kept(n) && !changed.has(n));
  return { unchanged, changed: [...next.keys()].filter((n) => changed.has(n)), removed, added };
}

/** The virtual router an instance speaks for: a change here is not an in-place change. */
function identity(p: InstancePlan): string {
  return `${p.interface}/${p.family}/${p.params.vrid}`;
}

/** Everything that shapes the instance, minus run-time tracking state (`up`), which moves. */
export function planKey(p: InstancePlan): string {
  const strip = (t: { name: string; weight?: number }) => ({ name: t.name, weight: t.weight });
  return JSON.stringify({
    ...p,
    authData: p.authData ? [...p.authData] : null,
    tracked: p.tracked.map(strip),
    params: { ...p.params, tracked: (p.params.tracked ?? []).map(strip) },
  });
}

/** VIPs of `before` that `after` no longer holds (by address, prefix, device and label). */
export function vanishedVips(before: InstancePlan, after: InstancePlan): InstancePlan['vips'] {
  const key = (v: InstancePlan['vips'][number]) => `${v.address}/${v.prefix}/${v.dev}/${v.label ?? ''}`;
  const keep = new Set(after.vips.map(key));
  return before.vips.filter((v) => !keep.has(key(v)));
}
