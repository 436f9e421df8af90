import { describe, expect, it } from 'vitest';
import { baseConfig, expectError, expectValid, parse, type Json } from './helpers';

const two = (a: Json, b: Json): Json => ({
  instances: {
    VI_1: { interface: 'lan0', vrid: 51, vips: ['192.0.2.10/24'], ...a },
    VI_2: { interface: 'lan0', vrid: 52, vips: ['192.0.2.20/24'], ...b },
  },
});

const warningsOf = (config: Json) => expectValid(config).warnings;

describe('VRID unique per interface and address family', () => {
  it('refuses the same VRID twice on one interface and family', () => {
    expectError(two({}, { vrid: 51 }), '/instances/VI_2/vrid', 'VRID 51 on lan0 (IPv4) is already used by instance VI_1');
  });
  it('allows the same VRID on another interface', () => {
    expectValid(two({}, { vrid: 51, interface: 'wan0' }));
  });
  it('allows the same VRID for IPv4 and IPv6 on one interface', () => {
    expectValid(two({ version: 3 }, { version: 3, vrid: 51, vips: ['fe80::1/64'] }));
  });
});

describe('priority 255 and the address owner', () => {
  it('refuses 255 without address_owner, and says what is valid', () => {
    const e = expectError(baseConfig({ priority: 255 }), '/instances/VI_1/priority', 'reserved for the address owner');
    expect(e.hint).toContain('1..254');
  });
  it('accepts 255 with address_owner', () => {
    expectValid(baseConfig({ priority: 255, address_owner: true }));
  });
  it('refuses an address owner below 255', () => {
    expectError(baseConfig({ priority: 200, address_owner: true }), '/instances/VI_1/address_owner', 'priority 255');
  });
  it('requires an owner with unicast_src_ip to list it among its VIPs', () => {
    expectError(
      baseConfig({ priority: 255, address_owner: true, unicast_src_ip: '192.0.2.1', unicast_peers: ['192.0.2.2'] }),
      '/instances/VI_1/address_owner', 'must be one of its VIPs',
    );
    expectValid(baseConfig({ priority: 255, address_owner: true, unicast_src_ip: '192.0.2.10', unicast_peers: ['192.0.2.2'] }));
  });
  it('refuses the schema maximum with the owner hint', () => {
    const e = expectError(baseConfig({ priority: 300 }), '/instances/VI_1/priority', 'must be <= 255 (got 300)');
    expect(e.hint).toBe('1..254, or 255 for an address owner');
  });
});

describe('advert interval by version', () => {
  it.each([1, 3, 255])('v2 accepts %s s', (v) => { expectValid(baseConfig({ advert_int: v })); });
  it.each([0.5, 1.5])('v2 refuses %s s', (v) => { expectError(baseConfig({ advert_int: v }), '/instances/VI_1/advert_int', 'whole seconds'); });
  it('schema refuses above 255 for v2', () => { expectError(baseConfig({ advert_int: 256 }), '/instances/VI_1/advert_int', 'must be <= 255'); });
  it.each([0.01, 0.1, 0.35, 1, 40.95])('v3 accepts %s s', (v) => { expectValid(baseConfig({ version: 3, advert_int: v })); });
  it.each([0.005, 0.015, 41])('v3 refuses %s s', (v) => {
    expectError(baseConfig({ version: 3, advert_int: v }), '/instances/VI_1/advert_int', '0.01..40.95');
  });
});

describe('address families', () => {
  it('v2 cannot carry IPv6', () => {
    expectError(baseConfig({ vips: ['2001:db8::1/64'] }), '/instances/VI_1/version', 'IPv4 only');
    expectValid(baseConfig({ version: 3, vips: ['fe80::1/64', '2001:db8::1/64'] }));
  });
  it('refuses mixed families among the advertised VIPs but allows them in excluded_vips', () => {
    expectError(baseConfig({ version: 3, vips: ['192.0.2.10/24', '2001:db8::1/64'] }), '/instances/VI_1/vips/1', 'IPv6 VIP in an IPv4 instance');
    expectValid(baseConfig({ version: 3, excluded_vips: ['2001:db8::1/64'] }));
  });
  it('requires unicast peers and source of the instance family', () => {
    expectError(baseConfig({ unicast_peers: ['2001:db8::2'] }), '/instances/VI_1/unicast_peers/0', 'IPv6 peer');
    expectError(baseConfig({ unicast_src_ip: '2001:db8::1', unicast_peers: ['192.0.2.2'] }), '/instances/VI_1/unicast_src_ip', 'IPv6 address in an IPv4 instance');
    expectValid(baseConfig({ unicast_src_ip: '192.0.2.1', unicast_peers: ['192.0.2.2', '192.0.2.3'] }));
  });
  it('refuses its own address or the same peer twice among unicast peers', () => {
    expectError(baseConfig({ unicast_src_ip: '192.0.2.1', unicast_peers: ['192.0.2.1'] }), '/instances/VI_1/unicast_peers/0', 'own unicast_src_ip');
    expectError(baseConfig({ unicast_peers: ['2001:db8::2', '2001:0db8:0::2'], version: 3, vips: ['fe80::1/64'] }), '/instances/VI_1/unicast_peers/1', 'same address');
  });
  it('checks the multicast group family and range', () => {
    expectError(baseConfig({ mcast_group: 'ff02::12' }), '/instances/VI_1/mcast_group', 'IPv6 group');
    expectError(baseConfig({ mcast_group: '192.0.2.1' }), '/instances/VI_1/mcast_group', 'not a multicast');
    expect(expectValid(baseConfig({ mcast_group: '224.0.0.99' })).config.instances.VI_1?.mcast_group).toBe('224.0.0.99');
  });
  it('warns when an IPv6 instance does not list its link-local VIP first (RFC 5798 5.2.9)', () => {
    expect(warningsOf(baseConfig({ version: 3, vips: ['2001:db8::1/64'] })).map((w) => w.path)).toContain('/instances/VI_1/vips/0');
    expect(warningsOf(baseConfig({ version: 3, vips: ['fe80::1/64'] })).map((w) => w.path)).not.toContain('/instances/VI_1/vips/0');
  });
});

describe('VIPs do not overlap between instances', () => {
  it('refuses one address in two instances, whatever its prefix or spelling', () => {
    expectError(two({}, { vips: ['192.0.2.10/32'] }), '/instances/VI_2/vips/0', 'also a VIP of instance VI_1');
    expectError(
      two({ version: 3, vips: ['fe80::1/64'] }, { version: 3, vips: [{ address: 'FE80:0:0::1', prefix: 64 }] }),
      '/instances/VI_2/vips/0', 'fe80::1 is also a VIP of instance VI_1',
    );
    expectError(two({}, { excluded_vips: ['192.0.2.10'] }), '/instances/VI_2/excluded_vips/0', 'also a VIP');
  });
  it('accepts distinct addresses in one subnet', () => { expectValid(two({}, {})); });
});

describe('references', () => {
  const checks = { gw: { type: 'ping', host: '192.0.2.1' } };
  it('tracked checks must exist', () => {
    expectError(baseConfig({ track_checks: ['gq'] }, { checks }), '/instances/VI_1/track_checks/0', 'no check named "gq"; did you mean "gw"');
    expectError(baseConfig({ track_checks: [{ name: 'nope', weight: -10 }] }, { checks }), '/instances/VI_1/track_checks/0/name', 'no check named "nope"');
    expectValid(baseConfig({ track_checks: ['gw'] }, { checks }));
    expectValid(baseConfig({ track_checks: [{ name: 'gw', weight: -10 }] }, { checks }));
  });
  it('warns about a check nothing tracks', () => {
    expect(warningsOf(baseConfig({}, { checks })).map((w) => w.path)).toContain('/checks/gw');
  });
  it('sync group members exist and belong to one group only', () => {
    expectError({ ...two({}, {}), sync_groups: { G: { instances: ['VI_1', 'VI_9'] } } }, '/sync_groups/G/instances/1', 'no instance named "VI_9"');
    expectError(
      { ...two({}, {}), sync_groups: { A: { instances: ['VI_1', 'VI_2'] }, B: { instances: ['VI_1'] } } },
      '/sync_groups/B/instances/0', 'already in sync group A',
    );
    expectValid({ ...two({}, {}), sync_groups: { G: { instances: ['VI_1', 'VI_2'] } } });
  });
  it('smtp_alert needs the email section', () => {
    expectError(baseConfig({ smtp_alert: true }), '/instances/VI_1/smtp_alert', 'email section');
    expectValid(baseConfig({ smtp_alert: true }, { email: { smtp_server: 'mail.example.net', from: 'a@example.net', to: ['b@example.net'] } }));
  });
});

describe('preempt and authentication', () => {
  it('refuses preempt: false with state MASTER (keepalived nopreempt needs BACKUP)', () => {
    expectError(baseConfig({ preempt: false, state: 'MASTER' }), '/instances/VI_1/preempt', 'requires state BACKUP');
    expectValid(baseConfig({ preempt: false, state: 'BACKUP' }));
    expectValid(baseConfig({ preempt: true, state: 'MASTER' }));
  });
  it('PASS or AH password: at most 8 characters, v2 only; AH with state BACKUP', () => {
    expectValid(baseConfig({ authentication: { type: 'PASS', password: '12345678' } }));
    expectError(baseConfig({ authentication: { type: 'PASS', password: '123456789' } }), '/instances/VI_1/authentication/password', 'at most 8 characters');
    expectError(baseConfig({ version: 3, authentication: { type: 'PASS', password: 'abc' } }), '/instances/VI_1/authentication', 'VRRPv3 has no authentication');
    expectError(baseConfig({ authentication: { type: 'MD5', password: 'abc' } }), '/instances/VI_1/authentication/type', 'must be one of');
    expectValid(baseConfig({ state: 'BACKUP', authentication: { type: 'AH', password: '12345678' } }));
    expectError(baseConfig({ version: 3, authentication: { type: 'AH', password: 'abc' } }), '/instances/VI_1/authentication', 'VRRPv3 has no authentication');
    expectError(baseConfig({ state: 'MASTER', authentication: { type: 'AH', password: 'abc' } }), '/instances/VI_1/state', 'authentication AH requires state BACKUP');
  });
});

describe('services', () => {
  const serial = { device: '/dev/ttyS1', node_id: 1 };
  it('serial heartbeat needs exactly one of key and key_file', () => {
    expectError(baseConfig({}, { heartbeat: { serial } }), '/heartbeat/serial/key', 'key or key_file is required');
    expectError(baseConfig({}, { heartbeat: { serial: { ...serial, key: 'x'.repeat(16), key_file: '/k' } } }), '/heartbeat/serial/key', 'not both');
    expectValid(baseConfig({}, { heartbeat: { serial: { ...serial, key: 'x'.repeat(16) } } }));
  });
  it('warns when there is no serial heartbeat', () => {
    expect(warningsOf(baseConfig()).map((w) => w.path)).toContain('/heartbeat/serial');
  });
  it('mqtt needs a url when enabled; console needs its own device', () => {
    expectError({ mqtt: { enabled: true } }, '/mqtt/url', 'required');
    expectError({ mqtt: { enabled: true, url: 'http://x' } }, '/mqtt/url', 'is not valid');
    expectError({ console: { enabled: true } }, '/console/device', 'required');
    expectError(
      { console: { enabled: true, device: '/dev/ttyS1' }, heartbeat: { serial: { ...serial, key_file: '/k' } } },
      '/console/device', 'also the serial heartbeat device',
    );
    expectValid({ console: { enabled: true, device: '/dev/ttyS0' }, heartbeat: { serial: { ...serial, key_file: '/k' } } });
  });
  it('check timeout must not exceed its interval', () => {
    const cfg = (timeout: number) => baseConfig({ track_checks: ['t'] }, { checks: { t: { type: 'tcp', host: '127.0.0.1', port: 80, interval: 2, timeout } } });
    expectError(cfg(3), '/checks/t/timeout', 'must not exceed interval');
    expectValid(cfg(2));
  });
});

it('reports the schema errors of a file before its semantic ones (semantic rules need typed fields)', () => {
  const r = parse(two({ priority: 'high' }, { vrid: 51 }));
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.errors.map((e) => e.path)).toEqual(['/instances/VI_1/priority']);
});

describe('check roles (heartbeat health)', () => {
  const withCheck = (role: unknown, tracked: boolean): Json => ({
    ...(baseConfig(tracked ? { track_checks: [{ name: 'gw', weight: -10 }] } : {}) as Record<string, Json>),
    checks: { gw: { type: 'tcp', host: '192.0.2.1', port: 53, role } as Json },
  });

  it('a gateway check tracked by an instance is valid', () => {
    expectValid(withCheck('gateway', true));
  });

  it('a role on a check no instance tracks is refused: it would never run', () => {
    expectError(withCheck('gateway', false), '/checks/gw/role', 'must be tracked by an instance');
  });

  it('an unknown role is refused', () => {
    const r = parse(withCheck('gatway', true));
    expect(r.ok).toBe(false);
  });
});
