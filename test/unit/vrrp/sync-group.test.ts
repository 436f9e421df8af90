import { describe, expect, it } from 'vitest';
import type { Advert } from '../../../src/vrrp/types';
import type { InstanceParams } from '../../../src/vrrp/events';
import { VrrpInstance } from '../../../src/vrrp/instance';
import { groupNotifyState, SyncGroup, syncFollowUps, type MemberActions } from '../../../src/vrrp/sync-group';

function inst(name: string, vrid: number, extra: Partial<InstanceParams> = {}): VrrpInstance {
  return new VrrpInstance({
    name, vrid, version: 2, family: 4, priority: 100, advertIntervalCs: 100, primaryAddress: '10.0.0.1',
    vips: [`192.0.2.${vrid}`], syncGroup: 'VG', ...extra,
  });
}

const adv = (vrid: number, priority: number): { type: 'advert'; advert: Advert } => ({
  type: 'advert',
  advert: { version: 2, family: 4, vrid, priority, advertIntervalCs: 100, addresses: [], authType: 0, source: '10.0.0.2' },
});

function states(g: SyncGroup): Record<string, string> {
  return Object.fromEntries(g.snapshot().members.map((m) => [m.name, m.state]));
}

const transitions = (r: MemberActions[]) =>
  r.flatMap(({ instance, actions }) => actions.filter((a) => a.type === 'transition').map((a) => `${instance}:${a.type === 'transition' ? `${a.to}/${a.cause}` : ''}`));

function group(extra1: Partial<InstanceParams> = {}, extra2: Partial<InstanceParams> = {}) {
  const g = new SyncGroup('VG', [inst('VI_1', 1, extra1), inst('VI_2', 2, extra2)]);
  g.handle('VI_1', { type: 'startup' }, 0);
  g.handle('VI_2', { type: 'startup' }, 0);
  return g;
}

describe('sync group (keepalived vrrp_sync.c)', () => {
  it('goes MASTER together only when every member wants to', () => {
    const g = group({ priority: 150 }, { priority: 100 });
    // VI_1 (prio 150) times out first: it waits for VI_2 (prefer backup, avoid thrashing).
    const first = g.handleTimers(g.nextDeadline()!);
    expect(first).toEqual([{ instance: 'VI_1', actions: [{ type: 'want-master', cause: 'master down', detail: '3414 ms without advert' }] }]);
    expect(states(g)).toEqual({ VI_1: 'BACKUP', VI_2: 'BACKUP' });
    const second = g.handleTimers(g.nextDeadline()!);
    expect(transitions(second).sort()).toEqual(['VI_1:MASTER/sync group', 'VI_2:MASTER/sync group']);
    expect(states(g)).toEqual({ VI_1: 'MASTER', VI_2: 'MASTER' });
  });

  it('stays BACKUP while a sibling still hears its master (no thrashing)', () => {
    const g = group();
    for (let t = 500; t < 20_000; t += 1000) g.handle('VI_2', adv(2, 200), t);
    g.handleTimers(3609.375);
    expect(g.snapshot().members[0]?.wantMaster).toBe(true);
    for (let t = 3700; t < 20_000; t += 500) g.handleTimers(t);
    expect(states(g)).toEqual({ VI_1: 'BACKUP', VI_2: 'BACKUP' });
    // An accepted advert for VI_1 withdraws its wish.
    g.handle('VI_1', adv(1, 200), 20_000);
    expect(g.snapshot().members[0]?.wantMaster).toBe(false);
  });

  it('one member stepping down pulls the other MASTER members to BACKUP with priority 0', () => {
    const g = group();
    g.handleTimers(3609.375);
    expect(states(g)).toEqual({ VI_1: 'MASTER', VI_2: 'MASTER' });
    const r = g.handle('VI_1', adv(1, 200), 4000);
    expect(transitions(r)).toEqual(['VI_1:BACKUP/higher priority advert', 'VI_2:BACKUP/sync group']);
    const vi2 = r.find((x) => x.instance === 'VI_2')!.actions;
    expect(vi2.slice(0, 2)).toEqual([{ type: 'send-advert', priority: 0, advertIntervalCs: 100 }, { type: 'remove-vips' }]);
  });

  it('one member in FAULT puts all in FAULT; the group leaves FAULT only when every member is healthy', () => {
    const g = group({ tracked: [{ name: 'eth0' }] }, { tracked: [{ name: 'eth1' }] });
    g.handleTimers(3609.375);
    const r = g.handle('VI_1', { type: 'track', name: 'eth0', up: false }, 5000);
    expect(transitions(r)).toEqual(['VI_1:FAULT/fault', 'VI_2:FAULT/sync group']);
    g.handle('VI_2', { type: 'track', name: 'eth1', up: false }, 5100);
    expect(g.handle('VI_1', { type: 'track', name: 'eth0', up: true }, 6000)).toEqual([]);
    expect(states(g)).toEqual({ VI_1: 'FAULT', VI_2: 'FAULT' });
    const back = g.handle('VI_2', { type: 'track', name: 'eth1', up: true }, 7000);
    expect(transitions(back).sort()).toEqual(['VI_1:BACKUP/fault cleared', 'VI_2:BACKUP/fault cleared']);
    expect(g.nextDeadline()).toBe(7000 + 3609.375);
  });

  it('an address owner member pulls the others to MASTER at startup', () => {
    const g = new SyncGroup('VG', [inst('VI_1', 1), inst('VI_2', 2, { priority: 255 })]);
    g.handle('VI_1', { type: 'startup' }, 0);
    const r = g.handle('VI_2', { type: 'startup' }, 0);
    expect(transitions(r)).toEqual(['VI_2:MASTER/startup owner', 'VI_1:MASTER/sync group']);
  });

  it('syncFollowUps is pure: it only reads the views it is given', () => {
    const ups = syncFollowUps('VG', 'A', [{ type: 'want-master', cause: 'master down', detail: '' }], [
      { name: 'A', state: 'BACKUP', wantMaster: true, ownFault: false, groupFault: false },
      { name: 'B', state: 'MASTER', wantMaster: false, ownFault: false, groupFault: false },
    ]);
    expect(ups).toEqual([{ instance: 'A', event: { type: 'sync', to: 'MASTER', group: 'VG', origin: 'A' } }]);
  });
});

describe('groupNotifyState (the state group notify scripts and mails see)', () => {
  it('FAULT as soon as one member is FAULT, MASTER/BACKUP/STOP when all agree, undefined in between', () => {
    expect(groupNotifyState(['MASTER', 'FAULT'])).toBe('FAULT');
    expect(groupNotifyState(['MASTER', 'MASTER'])).toBe('MASTER');
    expect(groupNotifyState(['BACKUP', 'BACKUP'])).toBe('BACKUP');
    expect(groupNotifyState(['MASTER', 'BACKUP'])).toBeUndefined();
    expect(groupNotifyState(['MASTER', undefined])).toBeUndefined();
    expect(groupNotifyState([undefined, undefined])).toBeUndefined();
    expect(groupNotifyState([])).toBeUndefined();
    expect(groupNotifyState(['STOP', 'STOP'])).toBe('STOP');
  });
});
