import { describe, expect, it } from 'vitest';
import { healthFromViews, healthRoles, heartbeatBody, localInstances } from '../../../../src/ha/heartbeat/body';
import type { InstanceView } from '../../../../src/ha/vrrp/runner';

function view(name: string, o: { vrid?: number; family?: 4 | 6; state?: string; prio?: number; tracked?: { name: string; up: boolean; weight: number }[] } = {}): InstanceView {
  return {
    plan: { name, family: o.family ?? 4, params: { advertIntervalCs: 100, primaryAddress: o.family === 6 ? 'fe80::1' : '10.0.0.1' } },
    snapshot: { vrid: o.vrid ?? 51, family: o.family ?? 4, state: o.state ?? 'BACKUP', effectivePriority: o.prio ?? 100, tracked: o.tracked ?? [] },
    drops: {},
  } as unknown as InstanceView;
}

describe('heartbeat body from the runner views', () => {
  it('reports every instance with state, effective priority, interval, address, releasing and hears-peer flags', () => {
    const views = [view('VI_1', { state: 'MASTER', prio: 150 }), view('VI_6', { vrid: 52, family: 6, prio: 0 })];
    const body = heartbeatBody({
      instances: localInstances(views),
      releasing: new Set(['VI_6']),
      hearsPeerAdverts: (vrid) => vrid === 51,
      health: { uplink: true, gateway: false, nginx: true },
      configHash: 'abcdef012345',
      uptimeMs: 1234.6,
    });
    expect(body).toEqual({
      uptimeMs: 1235,
      configHash: 'abcdef012345',
      health: { uplink: true, gateway: false, nginx: true },
      instances: [
        { vrid: 51, family: 4, state: 'MASTER', effectivePriority: 150, advertIntervalCs: 100, address: '10.0.0.1', releasing: false, hearsPeerAdverts: true },
        { vrid: 52, family: 6, state: 'BACKUP', effectivePriority: 0, advertIntervalCs: 100, address: 'fe80::1', releasing: true, hearsPeerAdverts: false },
      ],
    });
  });

  it('health: untracked facts count as reachable; checks with a role give their state; overrides win', () => {
    expect(healthFromViews([view('VI_1')])).toEqual({ uplink: true, gateway: true, nginx: true });
    const roles = healthRoles({ gw: { role: 'gateway' }, up: { role: 'uplink' }, other: {} });
    expect(roles).toEqual({ gateway: ['gw'], uplink: ['up'], nginx: [] });
    const tracked = [
      { name: 'check:gw', up: false, weight: -20 },
      { name: 'check:up', up: true, weight: 0 },
      { name: 'nginx', up: false, weight: 0 },
    ];
    expect(healthFromViews([view('VI_1', { tracked })], roles)).toEqual({ uplink: true, gateway: false, nginx: false });
    // A check merely named "gateway" has no role: it says nothing about the gateway.
    expect(healthFromViews([view('VI_1', { tracked: [{ name: 'check:gateway', up: false, weight: 0 }] })], healthRoles({ gateway: {} })).gateway).toBe(true);
    // Two instances disagree (one saw the check fail already): the fact is down.
    const two = [view('VI_1', { tracked: [{ name: 'check:gw', up: true, weight: 0 }] }), view('VI_2', { tracked: [{ name: 'check:gw', up: false, weight: 0 }] })];
    expect(healthFromViews(two, roles).gateway).toBe(false);
    expect(healthFromViews([view('VI_1', { tracked })], roles, { gateway: true, nginx: true })).toEqual({ uplink: true, gateway: true, nginx: true });
  });
});
