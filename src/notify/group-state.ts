import type { VrrpState } from '../vrrp/types';

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

/** keepalived's state word for a twinvip state; INIT after running is the instance stopping. */
export function notifyState(to: VrrpState): NotifyState {
  return to === 'INIT' ? 'STOP' : to;
}

/**
 * A sync group's state from its members', as keepalived reports it to group scripts: FAULT as soon
 * as one member is in FAULT, MASTER or BACKUP once all members agree, STOP when all stopped;
 * undefined while members are still moving (no group notification yet).
 */
export function groupState(members: readonly (VrrpState | undefined)[]): NotifyState | undefined {
  if (members.some((s) => s === 'FAULT')) return 'FAULT';
  if (members.length > 0 && members.every((s) => s === 'MASTER')) return 'MASTER';
  if (members.length > 0 && members.every((s) => s === 'BACKUP')) return 'BACKUP';
  if (members.length > 0 && members.every((s) => s === 'INIT')) return 'STOP';
  return undefined;
}
