// Sync groups (keepalived vrrp_sync_group): the instances of a group move together, so that
// e.g. the LAN VIP and the uplink VIP are always held by the same box.
//
// Semantics, after keepalived's vrrp_sync.c:
// - FAULT: one member in FAULT puts every member in FAULT (a MASTER sends priority 0 first); the
//   group leaves FAULT (all to BACKUP) only when no member has a fault of its own any more.
// - MASTER: a member whose Master_Down timer fires (or that got priority 0, peer-dead...) emits
//   'want-master' and waits; the group goes MASTER together when every other member is MASTER or
//   wants to be ("only sync to master if everyone wants to, i.e. prefer backup state to avoid
//   thrashing"). A member that becomes MASTER by itself (address owner at startup, fault cleared
//   as owner) pulls the others to MASTER.
// - BACKUP: a MASTER member that steps down (higher priority advert, peer claim, maintenance)
//   pulls the other MASTER members to BACKUP (they send priority 0 so the peer's group can take
//   over at Skew_Time).
//
// Pure: `syncFollowUps` maps one member's actions to events for members; `SyncGroup` is a small
// dispatcher that feeds those events in until the group is quiet.

import type { Action, InstanceEvent, InstanceSnapshot, NotifyState, VrrpState } from './events';
import type { VrrpInstance } from './instance';

export interface SyncMemberView {
  name: string;
  state: VrrpState;
  wantMaster: boolean;
  ownFault: boolean;
  groupFault: boolean;
}

export interface SyncFollowUp {
  instance: string;
  event: InstanceEvent;
}

export interface MemberActions {
  instance: string;
  actions: Action[];
}

/**
 * The group's notify state from its members' (each the last 'notify' its instance emitted), as
 * keepalived reports it to group scripts: FAULT as soon as one member is in FAULT, MASTER,
 * BACKUP or STOP once all members agree; undefined while members are still moving (or one has
 * not reported yet): no group notification then.
 */
export function groupNotifyState(members: readonly (NotifyState | undefined)[]): NotifyState | undefined {
  if (members.some((s) => s === 'FAULT')) return 'FAULT';
  const first = members[0];
  if (first === undefined || !members.every((s) => s === first)) return undefined;
  return first;
}

/** Events the group's members must receive after `origin` produced `actions`. */
export function syncFollowUps(
  group: string,
  origin: string,
  actions: Action[],
  members: SyncMemberView[],
): SyncFollowUp[] {
  const ups: SyncFollowUp[] = [];
  const sync = (instance: string, to: 'MASTER' | 'BACKUP' | 'FAULT' | 'FAULT-CLEAR') =>
    ups.push({ instance, event: { type: 'sync', to, group, origin } });

  for (const a of actions) {
    if (a.type === 'transition' && a.to === 'FAULT') {
      for (const m of members) if (!m.groupFault) sync(m.name, 'FAULT');
    } else if (a.type === 'transition' && a.to === 'MASTER') {
      for (const m of members) if (m.name !== origin && m.state === 'BACKUP') sync(m.name, 'MASTER');
    } else if (a.type === 'transition' && a.from === 'MASTER' && a.to === 'BACKUP' && a.cause !== 'sync group') {
      for (const m of members) if (m.name !== origin && m.state === 'MASTER') sync(m.name, 'BACKUP');
    } else if (a.type === 'want-master') {
      const ready = members.every((m) => m.name === origin || m.state === 'MASTER' || m.wantMaster);
      if (ready) for (const m of members) if (m.state === 'BACKUP') sync(m.name, 'MASTER');
    }
  }
  // The group leaves FAULT when nobody has a fault of its own any more.
  if (members.some((m) => m.groupFault) && !members.some((m) => m.ownFault)) {
    for (const m of members) if (m.groupFault) sync(m.name, 'FAULT-CLEAR');
  }
  return ups;
}

function view(s: InstanceSnapshot): SyncMemberView {
  return { name: s.name, state: s.state, wantMaster: s.wantMaster, ownFault: s.ownFault, groupFault: s.groupFault };
}

export class SyncGroup {
  private readonly members = new Map<string, VrrpInstance>();

  constructor(
    readonly name: string,
    members: VrrpInstance[],
  ) {
    for (const m of members) {
      if (this.members.has(m.name)) throw new RangeError(`sync group ${name}: duplicate member ${m.name}`);
      this.members.set(m.name, m);
    }
  }

  memberNames(): string[] {
    return [...this.members.keys()];
  }

  /** Feed one event to one member; returns every member's actions, in the order they happened. */
  handle(member: string, event: InstanceEvent, now: number): MemberActions[] {
    const first = this.members.get(member);
    if (!first) throw new RangeError(`sync group ${this.name}: no member ${member}`);
    return this.cascade([{ instance: member, event }], now);
  }

  /** Fire the timers of every member that is due. */
  handleTimers(now: number): MemberActions[] {
    const due: SyncFollowUp[] = [];
    for (const [name, m] of this.members) {
      const at = m.nextDeadline();
      if (at !== undefined && at <= now) due.push({ instance: name, event: { type: 'timer' } });
    }
    return this.cascade(due, now);
  }

  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const m of this.members.values()) {
      const at = m.nextDeadline();
      if (at !== undefined && (min === undefined || at < min)) min = at;
    }
    return min;
  }

  snapshot(): { name: string; members: InstanceSnapshot[] } {
    return { name: this.name, members: [...this.members.values()].map((m) => m.snapshot()) };
  }

  private cascade(queue: SyncFollowUp[], now: number): MemberActions[] {
    const results: MemberActions[] = [];
    // Each member changes state a bounded number of times per cascade; the guard catches bugs.
    for (let steps = 0; queue.length > 0; steps++) {
      if (steps > 64 * this.members.size) throw new Error(`sync group ${this.name}: cascade does not settle`);
      const next = queue.shift()!;
      const inst = this.members.get(next.instance)!;
      const actions = inst.handle(next.event, now);
      if (actions.length > 0) results.push({ instance: next.instance, actions });
      const views = [...this.members.values()].map((m) => view(m.snapshot()));
      queue.push(...syncFollowUps(this.name, next.instance, actions, views));
    }
    return results;
  }
}
