import type { NoteList } from './notes';
import type { KNode } from './tree';
import { eachChild, needBlock, trueFalse } from './walk';
import { notifyHandlers } from './map-instance';

export interface MappedSyncGroup {
  name: string;
  /** Member names as written, renamed later like the instances. */
  members: { name: string; at: KNode }[];
  group: Record<string, unknown>;
  smtpAlert?: boolean;
  smtpAlertAt: KNode;
}

export function mapSyncGroup(node: KNode, name: string, notes: NoteList): MappedSyncGroup | undefined {
  if (!needBlock(node, notes)) return undefined;
  const notify: Record<string, unknown> = {};
  const members: MappedSyncGroup['members'] = [];
  let smtpAlert: boolean | undefined;
  let smtpAlertAt: KNode = node;
  eachChild(node, 'vrrp_sync_group', {
    ...notifyHandlers(notify, notes),
    group: (n) => {
      if (!needBlock(n, notes)) return;
      for (const line of n.children ?? []) {
        // keepalived reads every word of every line of the block as a member.
        for (const member of [line.key, ...line.args]) members.push({ name: member, at: line });
      }
    },
    smtp_alert: (n) => {
      smtpAlert = trueFalse(n, notes);
      smtpAlertAt = n;
    },
    global_tracking: (n) => {
      notes.warn(n, n.key, 'deprecated in keepalived; twinvip members always keep their own tracking');
    },
    sync_group_tracking_weight: (n) => {
      notes.unconverted(n, n.key, 'twinvip applies tracking weights per instance only');
    },
    track_interface: (n) => {
      notes.unconverted(n, n.key, 'tracking on a sync group is not supported: add track_interfaces to each member instance');
    },
    track_script: (n) => {
      notes.unconverted(n, n.key, 'tracking on a sync group is not supported: add track_checks to each member instance');
    },
  }, notes);
  const group: Record<string, unknown> = {};
  if (Object.keys(notify).length > 0) group.notify = notify;
  const mapped: MappedSyncGroup = { name, members, group, smtpAlertAt };
  if (smtpAlert !== undefined) mapped.smtpAlert = smtpAlert;
  return mapped;
}
