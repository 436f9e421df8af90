import type { NotifyState } from '../vrrp/events';
import { groupNotifyState } from '../vrrp/sync-group';

/**
 * The sync groups' notify states, followed from the members' `notify` events: which groups change
 * state with each one (the notify scripts and the e-mail alerts both act on that).
 */
export class GroupNotifyTracker {
  private readonly members = new Map<string, NotifyState>();
  private readonly groups = new Map<string, NotifyState>();

  /** `instance` is now in `state`: the groups (of `syncGroups`) whose state changed with it. */
  note(
    instance: string,
    state: NotifyState,
    syncGroups: Readonly<Record<string, { instances: readonly string[] }>>,
  ): { group: string; from: NotifyState | undefined; to: NotifyState }[] {
    this.members.set(instance, state);
    const out: { group: string; from: NotifyState | undefined; to: NotifyState }[] = [];
    for (const [group, sg] of Object.entries(syncGroups)) {
      if (!sg.instances.includes(instance)) continue;
      const to = groupNotifyState(sg.instances.map((m) => this.members.get(m)));
      const from = this.groups.get(group);
      if (to === undefined || to === from) continue;
      this.groups.set(group, to);
      out.push({ group, from, to });
    }
    return out;
  }
}
