import { describe, expect, expectTypeOf, it } from 'vitest';
import { configHash, parseConfigText, type TwinvipConfig } from '../../../src/config/index';
import { baseConfig, expectValid } from './helpers';

describe('defaults filled in by the loader', () => {
  it('fills every section of a minimal file', () => {
    const { config } = expectValid({});
    expect(config.node).toEqual({ name: 'twinvip', state_dir: '/var/lib/twinvip' });
    expect(config.control).toEqual({ socket: '/run/twinvip/control.sock' });
    expect(config.logging).toEqual({ level: 'info', format: 'text', journal_priority: 'auto', syslog: { enabled: false, facility: 'local0', socket: '/dev/log', tag: 'twinvip' } });
    expect(config.instances).toEqual({});
    expect(config.checks).toEqual({});
    expect(config.sync_groups).toEqual({});
    // The twin probe is on by default (it acts only with the serial heartbeat).
    expect(config.heartbeat).toEqual({ probe: { enabled: true, port: 17077, tries: 3, interval_ms: 20 } });
    expect(config.nginx).toEqual({ enabled: false, binary: '/usr/sbin/nginx', prefix: '/var/lib/twinvip/nginx' });
    expect(config.mqtt).toMatchObject({ enabled: false, prefix: 'twinvip/twinvip/', keepalive: 30 });
    expect(config.console).toMatchObject({ enabled: false, baud: 115200 });
    expect(config.notify).toEqual({ timeout: 30, enable_script_security: true });
    expect(config.email).toBeUndefined();
    // The HA thread: real-time (SCHED_RR 10) with keepalived's safety net, nice -10.
    expect(config.scheduling).toEqual({ rt_priority: 10, nice: -10, rlimit_rttime: 200000 });
  });

  it('scheduling: refuses values the kernel would refuse, with the field named', () => {
    for (const [bad, where] of [[{ rt_priority: 100 }, '/scheduling/rt_priority'], [{ nice: -21 }, '/scheduling/nice'], [{ rlimit_rttime: 999 }, '/scheduling/rlimit_rttime'], [{ lock_memory: true }, '/scheduling']] as const) {
      const r = parseConfigText(JSON.stringify({ scheduling: bad }));
      expect(r.ok, JSON.stringify(bad)).toBe(false);
      if (!r.ok) expect(r.errors.map((e) => e.path).join(' ')).toContain(where);
    }
    expect(expectValid({ scheduling: { rt_priority: 0, nice: 5 } }).config.scheduling).toEqual({ rt_priority: 0, nice: 5, rlimit_rttime: 200000 });
  });

  it('fills an instance as keepalived would: v2, priority 100, 1 s adverts, BACKUP, preempt, GARP 5/5', () => {
    const { config } = expectValid(baseConfig());
    const vi = config.instances.VI_1;
    expect(vi).toMatchObject({
      priority: 100,
      version: 2,
      advert_int: 1,
      state: 'BACKUP',
      preempt: true,
      preempt_delay: 0,
      address_owner: false,
      unicast_peers: [],
      excluded_vips: [],
      track_interfaces: [],
      track_checks: [],
      notify: {},
      v3_checksum: 'rfc5798',
      mcast_group: '224.0.0.18',
      garp: { master_delay: 5, master_repeat: 5, master_refresh: 0, master_refresh_repeat: 1, lower_prio_delay: 5, lower_prio_repeat: 5, interval: 0 },
    });
  });

  it('defaults the multicast group by family and leaves it out for unicast', () => {
    const v6 = expectValid(baseConfig({ version: 3, vips: ['fe80::1/64'] })).config.instances.VI_1;
    expect(v6?.mcast_group).toBe('ff02::12');
    const uni = expectValid(baseConfig({ unicast_peers: ['192.0.2.2'] })).config.instances.VI_1;
    expect(uni?.mcast_group).toBeUndefined();
  });

  it('fills check defaults per kind and serial heartbeat defaults', () => {
    const { config } = expectValid(
      baseConfig({ track_checks: ['gw', 'web'] }, {
        checks: { gw: { type: 'ping', host: '192.0.2.1' }, web: { type: 'http', url: 'http://127.0.0.1/' } },
        heartbeat: { serial: { device: '/dev/ttyS1', node_id: 1, key_file: '/etc/twinvip/hb.key' } },
      }),
    );
    expect(config.checks.gw).toEqual({ type: 'ping', host: '192.0.2.1', count: 1, interval: 2, timeout: 2, rise: 1, fall: 1 });
    expect(config.checks.web).toMatchObject({ status: [200], tls_verify: true, interval: 2 });
    expect(config.heartbeat.serial).toEqual({
      enabled: true, device: '/dev/ttyS1', node_id: 1, key_file: '/etc/twinvip/hb.key', baud: 115200, period_ms: 100, dead_periods: 5, port_gone_s: 30,
    });
  });

  it('substitutes {node} in the MQTT prefix', () => {
    const { config } = expectValid({ node: { name: 'box-a' }, mqtt: { enabled: true, url: 'mqtt://127.0.0.1:1883' } });
    expect(config.mqtt.prefix).toBe('twinvip/box-a/');
  });

  it('keeps the field types the daemon codes against', () => {
    expectTypeOf<TwinvipConfig['node']['name']>().toEqualTypeOf<string>();
    expectTypeOf<TwinvipConfig['node']['state_dir']>().toEqualTypeOf<string>();
    expectTypeOf<TwinvipConfig['control']['socket']>().toEqualTypeOf<string>();
    expectTypeOf<TwinvipConfig['logging']['level']>().toEqualTypeOf<'debug' | 'info' | 'warn' | 'error'>();
    expectTypeOf<TwinvipConfig['logging']['format']>().toEqualTypeOf<'text' | 'json'>();
    type Inst = TwinvipConfig['instances'][string];
    expectTypeOf<Inst['priority']>().toEqualTypeOf<number>();
    expectTypeOf<Inst['version']>().toEqualTypeOf<2 | 3>();
    expectTypeOf<Inst['unicast_src_ip']>().toEqualTypeOf<string | undefined>();
  });
});

describe('config hash', () => {
  it('is 12 hex digits, independent of key order and of defaults written out', () => {
    const a = expectValid(baseConfig({ priority: 100 }));
    const b = expectValid({ instances: { VI_1: { vips: ['192.0.2.10/24'], vrid: 51, interface: 'lan0' } } });
    expect(a.hash).toMatch(/^[0-9a-f]{12}$/);
    expect(a.hash).toBe(b.hash);
    expect(configHash(a.config)).toBe(a.hash);
  });

  it('changes when a value changes', () => {
    expect(expectValid(baseConfig({ priority: 101 })).hash).not.toBe(expectValid(baseConfig()).hash);
  });
});
