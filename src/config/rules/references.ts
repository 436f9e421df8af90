import type { TwinvipConfig } from '../schema/root';
import { closest } from '../../lib/suggest';
import { pointer, type IssueCollector } from '../../lib/issue-collector';

function unknownName(kind: string, name: string, defined: string[]): { message: string; hint: string } {
  const guess = closest(name, defined);
  return {
    message: `no ${kind} named "${name}"${guess ? `; did you mean "${guess}"?` : ''}`,
    hint: defined.length ? defined.join(', ') : `none defined: add one under ${kind === 'check' ? 'checks' : 'instances'}`,
  };
}

/** Names that point elsewhere in the file: tracked checks, sync group members, e-mail. */
export function checkReferences(config: TwinvipConfig, out: IssueCollector): void {
  const checkNames = Object.keys(config.checks);
  const instanceNames = Object.keys(config.instances);
  const tracked = new Set<string>();

  for (const [name, inst] of Object.entries(config.instances)) {
    inst.track_checks.forEach((ref, i) => {
      const target = typeof ref === 'string' ? ref : ref.name;
      tracked.add(target);
      if (!(target in config.checks)) {
        const { message, hint } = unknownName('check', target, checkNames);
        out.error(pointer('instances', name, 'track_checks', i) + (typeof ref === 'string' ? '' : '/name'), message, target, hint);
      }
    });
    if (inst.smtp_alert && !config.email) {
      out.error(pointer('instances', name, 'smtp_alert'), 'needs the email section (smtp_server, from, to)', true, 'add "email", or smtp_alert: false');
    }
  }

  for (const [name, check] of Object.entries(config.checks)) {
    if (check.timeout > check.interval) {
      out.error(pointer('checks', name, 'timeout'), `must not exceed interval (${check.interval} s): runs would overlap`, check.timeout, `0.1..${check.interval}`);
    }
    if (!tracked.has(name)) {
      // A check runs only when an instance tracks it: a role on an untracked check would tell the
      // twin "reachable" for ever.
      if (check.role) out.error(pointer('checks', name, 'role'), `a ${check.role} check must be tracked by an instance, or it never runs`, check.role, 'add it to an instance\'s track_checks (a negative weight keeps it from causing FAULT)');
      else out.warn(pointer('checks', name), 'is not tracked by any instance (track_checks)');
    }
  }

  // keepalived: an instance may belong to one sync group only, and members must exist.
  const memberOf = new Map<string, string>();
  for (const [group, sg] of Object.entries(config.sync_groups)) {
    sg.instances.forEach((member, i) => {
      const at = pointer('sync_groups', group, 'instances', i);
      if (!(member in config.instances)) {
        const { message, hint } = unknownName('instance', member, instanceNames);
        out.error(at, message, member, hint);
        return;
      }
      const other = memberOf.get(member);
      if (other !== undefined) out.error(at, `instance ${member} is already in sync group ${other}; an instance belongs to one group at most`, member);
      else memberOf.set(member, group);
    });
    if (sg.instances.length === 1) out.warn(pointer('sync_groups', group, 'instances'), 'a sync group of one instance has no effect (keepalived warns too)');
    if (sg.smtp_alert && !config.email) {
      out.error(pointer('sync_groups', group, 'smtp_alert'), 'needs the email section (smtp_server, from, to)', true, 'add "email", or smtp_alert: false');
    }
  }
}
