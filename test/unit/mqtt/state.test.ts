import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config';
import type { DaemonStatus } from '../../../src/daemon';
import { StateBuilder, stateFingerprint } from '../../../src/mqtt/state';

const parsed = parseConfigText(JSON.stringify({
  node: { name: 'gw-a' },
  instances: { VI_1: { interface: 'eth0', vrid: 51, priority: 150, vips: ['192.0.2.10/24'] } },
}));
if (!parsed.ok) throw new Error('fixture config invalid');
const config = parsed.config;

const status = (instances: DaemonStatus['instances'] = []): DaemonStatus => ({
  node: 'gw-a', version: '0.1.0', pid: 1, started_at: '2026-01-01T00:00:00.000Z', uptime_s: 5,
  config: { path: '/etc/twinvip/twinvip.json', hash: 'abc', loaded_at: '2026-01-01T00:00:00.000Z', reloads: 0, refused_reloads: 0 },
  control: { socket: '/run/twinvip/control.sock', clients: 0 }, health: { state: 'ok', reasons: [] }, features: {}, instances, counters: {},
});

describe('state builder', () => {
  it('lists configured instances with VIPs before the VRRP part reports them', () => {
    const s = new StateBuilder().build(status(), config);
    expect(s.instances).toEqual({ VI_1: { state: 'INIT', priority: 150, vips: ['192.0.2.10/24'] } });
    expect(s).toMatchObject({ node: 'gw-a', config_hash: 'abc', heartbeat: null, nginx: null, alarms: [], health: { state: 'ok', reasons: [] } });
  });

  it('carries `degraded` with the reason while a feature is broken', () => {
    const s = new StateBuilder().build({ ...status(), health: { state: 'degraded', reasons: ['la: VRRP socket (IPv4) failed 3 times in a row: sendmsg EPERM'] } }, config);
    expect(s.health).toEqual({ state: 'degraded', reasons: ['la: VRRP socket (IPv4) failed 3 times in a row: sendmsg EPERM'] });
  });

  it('merges live status, the last transition and active alarms', () => {
    const b = new StateBuilder();
    b.noteTransition({ instance: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'master down, 1204 ms', at: Date.parse('2026-01-01T00:00:03Z') });
    b.noteAlarm({ id: 'serial-heartbeat-lost', active: true, severity: 'warning', message: 'm', at: 0 });
    b.noteAlarm({ id: 'x', active: true, severity: 'critical', message: 'm', instance: 'VI_1', at: 0 });
    b.noteAlarm({ id: 'x', active: false, severity: 'critical', message: 'm', instance: 'VI_1', at: 1 });
    const s = b.build(status([{ name: 'VI_1', state: 'MASTER', priority: 140 }]), config);
    expect(s.instances).toEqual({
      VI_1: { state: 'MASTER', priority: 140, vips: ['192.0.2.10/24'], last_transition: { from: 'BACKUP', to: 'MASTER', cause: 'master down, 1204 ms', at: '2026-01-01T00:00:03.000Z' } },
    });
    expect(s.alarms).toEqual([{ id: 'serial-heartbeat-lost', severity: 'warning', message: 'm', since: '1970-01-01T00:00:00.000Z' }]);
  });

  it('providers add fields; a throwing provider becomes an error field', () => {
    const b = new StateBuilder();
    b.providers.set('heartbeat', () => ({ ethernet: 'ok', serial: 'lost' }));
    b.providers.set('nginx', () => {
      throw new Error('not running');
    });
    const s = b.build(status(), config);
    expect(s.heartbeat).toEqual({ ethernet: 'ok', serial: 'lost' });
    expect(s.nginx).toEqual({ error: 'not running' });
  });

  it('the fingerprint ignores uptime only', () => {
    const b = new StateBuilder();
    const a = b.build(status(), config);
    const later = b.build({ ...status(), uptime_s: 99 }, config);
    expect(stateFingerprint(a)).toBe(stateFingerprint(later));
    b.noteTransition({ instance: 'VI_1', from: 'INIT', to: 'BACKUP', cause: 'start', at: 0 });
    expect(stateFingerprint(b.build(status(), config))).not.toBe(stateFingerprint(a));
  });
});
