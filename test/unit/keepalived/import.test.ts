import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config';
import { importKeepalived, type ImportNote } from '../../../src/config/keepalived';
import { makeTempDir } from '../../helpers/tmp';

const DIR = 'test/fixtures/keepalived';
const tmp = makeTempDir('tv-ka-');
afterAll(() => tmp.remove());

function load(name: string) {
  const r = importKeepalived(join(DIR, name));
  if (!r.ok) throw new Error(`import of ${name} failed: ${r.error}`);
  return r;
}

function inline(text: string, name = 'k.conf') {
  const path = tmp.file(name);
  writeFileSync(path, text);
  return importKeepalived(path);
}

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const noteAt = (notes: ImportNote[], keyword: string) => notes.find((n) => n.keyword === keyword);

describe('corpus: every keepalived.conf converts and passes twinvip check', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.conf'));
  it('has the corpus', () => expect(files.length).toBeGreaterThanOrEqual(12));
  it.each(files)('%s', (file) => {
    const r = load(file);
    const checked = parseConfigText(r.text);
    expect(checked.ok, JSON.stringify(!checked.ok && checked.errors)).toBe(true);
    for (const n of r.notes) {
      expect(n.file.startsWith(DIR)).toBe(true);
      expect(n.line).toBeGreaterThan(0);
      expect(n.message.length).toBeGreaterThan(5);
    }
  });
});

describe('mapping', () => {
  it('classic keepalived + nginx pair: chk_nginx, PASS auth, VIP dev/label, notify, e-mail', () => {
    const c = load('nginx-pair-master.conf').config as Any;
    expect(c.node.name).toBe('LB_A');
    expect(c.email).toEqual({ smtp_server: '192.0.2.25', from: 'lb-a@example.com', to: ['ops@example.com', 'noc@example.com'], connect_timeout: 30 });
    expect(c.notify).toEqual({ enable_script_security: true, script_user: 'root' });
    expect(c.checks.chk_nginx).toEqual({ type: 'script', script: '/usr/bin/killall -0 nginx', interval: 2, timeout: 2, rise: 2, fall: 3, weight: -20 });
    const vi = c.instances.VI_1;
    expect(vi).toMatchObject({ interface: 'eth0', vrid: 51, state: 'MASTER', priority: 150, advert_int: 1, smtp_alert: true, track_checks: ['chk_nginx'] });
    expect(vi.authentication).toEqual({ type: 'PASS', password: 's3cr3t' });
    expect(vi.vips).toEqual([{ address: '192.168.10.100', prefix: 24, dev: 'eth0', label: 'eth0:vip' }]);
    expect(vi.notify).toEqual({ master: '/etc/keepalived/notify.sh master', backup: '/etc/keepalived/notify.sh backup', fault: '/etc/keepalived/notify.sh fault' });
    const b = load('nginx-pair-backup.conf').config as Any;
    expect(b.instances.VI_1).toMatchObject({ state: 'BACKUP', priority: 100, vrid: 51 });
    expect(b.checks.chk_nginx.script).toBe('/usr/bin/pidof nginx');
  });

  it('master/master: two VRIDs, track_script weight override', () => {
    const c = load('master-master.conf').config as Any;
    expect(c.instances.VI_A).toMatchObject({ vrid: 61, state: 'MASTER', track_checks: ['chk_nginx'] });
    expect(c.instances.VI_B).toMatchObject({ vrid: 62, state: 'BACKUP', track_checks: [{ name: 'chk_nginx', weight: 5 }] });
    // keepalived's vrrp_script timeout defaults to the interval.
    expect(c.checks.chk_nginx).toMatchObject({ interval: 1, timeout: 1, weight: 2 });
  });

  it('unicast: src ip, peers, password truncated to 8 like keepalived', () => {
    const r = load('unicast.conf');
    const vi = (r.config as Any).instances.VI_U;
    expect(vi.unicast_src_ip).toBe('172.16.0.11');
    expect(vi.unicast_peers).toEqual(['172.16.0.12']);
    expect(vi.mcast_group).toBeUndefined();
    expect(vi.authentication.password).toBe('averylon');
    expect(noteAt(r.notes, 'auth_pass')).toMatchObject({ severity: 'warning', line: 12 });
  });

  it('delayed preemption, nopreempt, and nopreempt cleared with state MASTER as keepalived does', () => {
    const r = load('preempt-delay.conf');
    const i = (r.config as Any).instances;
    expect(i.VI_NOPRE.preempt).toBe(false);
    expect(i.VI_DELAY.preempt_delay).toBe(300);
    expect(i.VI_MASTER_NOPRE.preempt).toBeUndefined();
    expect(noteAt(r.notes, 'nopreempt')).toMatchObject({ severity: 'unconverted', line: 25 });
  });

  it('notify scripts: quoting, escapes, and words after an unquoted command are keepalived 2.x user/group', () => {
    const r = load('notify-scripts.conf');
    const n = (r.config as Any).instances.VI_N.notify;
    expect(n).toEqual({
      notify: '/usr/local/sbin/ka-notify.sh',
      master: ['/usr/local/sbin/to-master.sh', 'with space', 'dq'],
      backup: '/usr/local/sbin/to-backup.sh',
      fault: '/usr/local/sbin/to-fault.sh',
      stop: '/usr/local/sbin/stopped.sh',
    });
    expect(noteAt(r.notes, 'notify_fault')).toMatchObject({ severity: 'unconverted', line: 16 });
    expect(noteAt(r.notes, 'notify_fault')?.message).toMatch(/user \[group\]/);
    expect(noteAt(r.notes, 'script_user')?.message).toMatch(/group 'keepalived_script'/);
  });

  it('sync group: members, group notify, track_interface with weight', () => {
    const c = load('sync-group.conf').config as Any;
    expect(c.sync_groups.VG_1).toEqual({ instances: ['VI_LAN', 'VI_WAN'], notify: { master: '/etc/keepalived/group.sh master', notify: '/etc/keepalived/group-any.sh' } });
    expect(c.instances.VI_LAN.track_interfaces).toEqual(['wan0', { name: 'lan0', weight: -30 }]);
    expect(c.instances.VI_WAN.vips).toEqual([{ address: '203.0.113.10', prefix: 29, dev: 'wan0' }]);
  });

  it('IPv6 VRRPv3: version from global vrrp_version, centisecond adverts, IPv6 group', () => {
    const c = load('ipv6-v3.conf').config as Any;
    expect(c.instances.VI_6).toMatchObject({ version: 3, advert_int: 0.5, vips: ['fe80::66/64', '2001:db8:66::1/64'], mcast_group: 'ff02::12' });
    expect(c.instances.VI_4).toMatchObject({ version: 3, advert_int: 0.25 });
    expect(c.instances.VI_4.mcast_group).toBeUndefined();
  });

  it('IPv6 instance with version 2 becomes v3 (keepalived does the same) with a warning', () => {
    const r = inline('vrrp_instance V6 {\n interface eth0\n virtual_router_id 5\n version 2\n virtual_ipaddress {\n fe80::5/64\n }\n}\n');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect((r.config as Any).instances.V6.version).toBe(3);
    expect(noteAt(r.notes, 'version')).toMatchObject({ severity: 'warning', line: 4 });
  });

  it('LVS virtual_server -> nginx upstreams + stream servers in the nginx schema\'s shape; old nb_get_retry accepted with a warning', () => {
    const r = load('lvs.conf');
    const ng = (r.config as Any).nginx;
    expect(ng.enabled).toBe(false);
    expect(Object.keys(ng.upstreams)).toEqual(['vs_192_168_200_100_80', 'vs_192_168_200_100_3306']);
    // wrr + persistence_timeout: weighted, persistence becomes consistent hashing on the client address.
    const web = ng.upstreams['vs_192_168_200_100_80'];
    expect(web).toEqual({
      balance: 'hash',
      hash_key: '$remote_addr',
      hash_consistent: true,
      servers: [{ address: '192.168.201.100', port: 80, weight: 3 }, { address: '192.168.201.101', port: 80 }],
      check: { type: 'http', path: '/health', status: [200], interval: 6, timeout: 3, rise: 1, fall: 4 },
    });
    // lc: least_conn; sorry_server becomes a backup server; connect_port equal to the servers' port is implicit.
    const db = ng.upstreams['vs_192_168_200_100_3306'];
    expect(db).toEqual({
      balance: 'least_conn',
      servers: [
        { address: '192.168.201.110', port: 3306 },
        { address: '192.168.201.111', port: 3306 },
        { address: '192.168.201.250', port: 3306, backup: true },
      ],
      check: { type: 'tcp', interval: 10, timeout: 4, rise: 1, fall: 3 },
    });
    expect(ng.stream).toEqual([
      { listen: { address: '192.168.200.100', port: 80, protocol: 'tcp' }, upstream: 'vs_192_168_200_100_80', timeout: 900 },
      { listen: { address: '192.168.200.100', port: 3306, protocol: 'tcp' }, upstream: 'vs_192_168_200_100_3306', timeout: 900 },
    ]);
    expect(ng.servers).toBeUndefined();
    expect(r.notes.filter((n) => n.keyword === 'nb_get_retry').map((n) => n.line)).toEqual([18, 31]);
    expect(r.notes.filter((n) => n.keyword === 'digest').map((n) => `${n.severity}@${n.line}`)).toEqual(['warning@15', 'warning@28']);
    expect(noteAt(r.notes, 'lb_kind')).toMatchObject({ severity: 'warning', line: 5 });
    expect(r.notes.find((n) => n.keyword === 'lb_kind' && n.line === 40)?.severity).toBe('unconverted');
    expect(noteAt(r.notes, 'persistence_timeout')).toMatchObject({ severity: 'warning', line: 6 });
    expect(noteAt(r.notes, 'sorry_server')).toMatchObject({ severity: 'warning', line: 42 });
    expect(noteAt(r.notes, 'virtual_server')?.message).toMatch(/nginx\.enabled is left false/);
  });

  it('includes: globbed relative to the including file, line numbers per file, missing pattern warned', () => {
    const r = load('include-main.conf');
    expect(r.files).toEqual([`${DIR}/include-main.conf`, `${DIR}/conf.d/10-scripts.conf`, `${DIR}/conf.d/20-instance.conf`]);
    const c = r.config as Any;
    expect(c.instances.VI_INC.track_checks).toEqual(['chk_haproxy']);
    expect(c.checks.chk_haproxy.interval).toBe(2);
    expect(noteAt(r.notes, 'dont_track_primary')).toMatchObject({ file: `${DIR}/conf.d/20-instance.conf`, line: 11, severity: 'unconverted' });
    expect(noteAt(r.notes, 'include')).toMatchObject({ file: `${DIR}/include-main.conf`, line: 6, severity: 'warning' });
  });

  it('old keywords: vrrp_garp_interval 0 accepted with a warning, garp fields, vrrp_strict applied (AH ignored, MASTER cleared, no lower-priority GARP), brd reported', () => {
    const r = load('old-keywords.conf');
    const vi = (r.config as Any).instances.VI_OLD;
    // vrrp_strict: "Strict mode requires no repeat garps" resets both lower_prio values to 0.
    expect(vi.garp).toEqual({ interval: 0, master_delay: 1, master_repeat: 3, master_refresh: 60, master_refresh_repeat: 2, lower_prio_repeat: 0, lower_prio_delay: 0 });
    expect(vi.authentication).toBeUndefined();
    expect(vi.state).toBe('BACKUP');
    expect(vi.mcast_group).toBe('224.0.0.18');
    expect(noteAt(r.notes, 'vrrp_garp_interval')).toMatchObject({ severity: 'warning', line: 4 });
    expect(noteAt(r.notes, 'authentication')).toMatchObject({ severity: 'warning', line: 24, message: expect.stringMatching(/Strict mode does not support authentication/) });
    expect(noteAt(r.notes, 'state')).toMatchObject({ severity: 'warning', line: 11, message: expect.stringMatching(/MASTER becomes BACKUP under strict mode/) });
    expect(noteAt(r.notes, 'garp_lower_prio_repeat')).toMatchObject({ severity: 'warning', line: 6 });
    expect(noteAt(r.notes, 'brd')).toMatchObject({ severity: 'unconverted', line: 29 });
    expect(noteAt(r.notes, 'vrrp_strict')).toMatchObject({ severity: 'warning', line: 6 });
    expect(noteAt(r.notes, 'mcast_src_ip')).toMatchObject({ line: 13 });
    expect(noteAt(r.notes, 'lvs_sync_daemon_interface')).toMatchObject({ line: 14 });
    // keepalived 2.2.7 -t: "no scheduler set, setting default 'wlc'", "no protocol set - defaulting to UDP".
    const ng = (r.config as Any).nginx;
    expect(ng.upstreams).toEqual({
      vs_10_9_0_100_80: {
        balance: 'least_conn',
        servers: [{ address: '10.9.0.11', port: 80 }],
        check: { type: 'tcp', interval: 5, timeout: 2, rise: 1, fall: 3 },
      },
    });
    expect(ng.stream).toEqual([{ listen: { address: '10.9.0.100', port: 80, protocol: 'tcp' }, upstream: 'vs_10_9_0_100_80', timeout: 900 }]);
    expect(r.notes.find((n) => n.line === 32 && /defaulting to UDP/.test(n.message))).toBeDefined();
    expect(noteAt(r.notes, 'nb_get_retry')?.message).toMatch(/Unknown keyword/);
  });

  it('syntax edge cases: glued braces, one-line blocks, quoted names, # inside quotes, \\# escape', () => {
    const r = load('syntax-edge.conf');
    const c = r.config as Any;
    expect(c.node.name).toBe('edge-box');
    expect(c.checks.chk_quoted).toMatchObject({ script: '/bin/test -e /run/ok#file', interval: 3 });
    expect(c.instances.VI_E).toMatchObject({ interface: 'eth9', vips: [{ address: '10.99.0.1', prefix: 24, dev: 'eth9' }], track_checks: [{ name: 'chk_quoted', weight: -10 }] });
    expect(c.instances.VI_E.notify).toEqual({ master: ['/usr/bin/logger', '-t', 'ka', 'became master'], backup: '/usr/bin/logger#x' });
    expect(noteAt(r.notes, 'state')).toMatchObject({ line: 10, severity: 'unconverted' });
  });
});

describe('nothing dropped silently', () => {
  it('reports every unknown or unsupported keyword with its file and line', () => {
    const r = inline([
      'global_defs {',
      '  router_id x1',
      '  frobnicate yes',
      '}',
      'vrrp_instance V {',
      '  interface eth0',
      '  virtual_router_id 3',
      '  use_vmac',
      '  virtual_ipaddress { 10.0.0.1/24 }',
      '  track_script {',
      '    nosuch',
      '  }',
      '}',
      'static_routes {',
      '  10.0.0.0/8 via 10.1.1.1',
      '}',
    ].join('\n'));
    expect(r.ok).toBe(true);
    const where = r.notes.map((n) => `${n.keyword}@${n.line}`);
    expect(where).toEqual(expect.arrayContaining(['frobnicate@3', 'use_vmac@8', 'nosuch@11', 'static_routes@14']));
    expect(r.notes.every((n) => n.file.endsWith('k.conf'))).toBe(true);
  });

  it('an instance without interface refuses the import (never a config without it)', () => {
    const r = inline('vrrp_instance V {\n virtual_router_id 3\n virtual_ipaddress { 10.0.0.1/24 }\n}\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatch(/k\.conf:1: vrrp_instance V: no interface/);
    expect(r.notes[0]).toMatchObject({ line: 1, severity: 'refused' });
  });

  it('@id lines follow --config-id like keepalived -i', () => {
    const text = 'vrrp_instance V {\n interface eth0\n virtual_router_id 3\n@lb1 priority 200\n@^lb1 priority 100\n virtual_ipaddress { 10.0.0.1/24 }\n}\n';
    const a = inline(text, 'id.conf');
    const b = (() => {
      const path = tmp.file('id.conf');
      return importKeepalived(path, { configId: 'lb1' });
    })();
    expect(a.ok && (a.config as Any).instances.V.priority).toBe(100);
    expect(b.ok && (b.config as Any).instances.V.priority).toBe(200);
    expect(a.notes.find((n) => n.line === 4)?.severity).toBe('unconverted');
  });

  it('$definitions are substituted', () => {
    const r = inline('$IF=eth7\nvrrp_instance V {\n interface $IF\n virtual_router_id 3\n virtual_ipaddress { 10.0.0.1/24 }\n}\n');
    expect(r.ok && (r.config as Any).instances.V.interface).toBe('eth7');
  });
});

describe('bad input gives a clear error, never a stack trace', () => {
  it.each([
    ['unbalanced {', 'vrrp_instance V {\n interface eth0\n', /k\.conf:1: missing '}'/],
    ['extra }', 'global_defs {\n}\n}\n', /k\.conf:3: extra '}'/],
    ['unterminated quote', 'vrrp_script c {\n script "/bin/true\n}\n', /k\.conf:2: unterminated quote/],
    ['binary data', 'vrrp\u0000\u0001\u0002', /k\.conf:1: not keepalived syntax \(binary data/],
    ['prose', 'Hello world, this is not a config.\nIt has lines.\n', /k\.conf:1: not keepalived syntax \(no line starts with a keepalived keyword\)/],
    ['empty', '! only a comment\n\n', /no keepalived configuration found/],
    ['brace first', '{\n}\n', /'\{' without a keyword/],
  ])('%s', (_name, text, re) => {
    const r = inline(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatch(re);
      expect(r.error).not.toMatch(/at .*\.ts:\d+/);
    }
  });

  it('a missing file and an include loop are errors with the place', () => {
    const missing = importKeepalived(tmp.file('nope.conf'));
    expect(!missing.ok && missing.error).toMatch(/nope\.conf:0: cannot read .*no such file/);
    mkdirSync(tmp.file('loop'), { recursive: true });
    writeFileSync(tmp.file('loop/a.conf'), 'include b.conf\n');
    writeFileSync(tmp.file('loop/b.conf'), 'include a.conf\n');
    const loop = importKeepalived(tmp.file('loop/a.conf'));
    expect(!loop.ok && loop.error).toMatch(/b\.conf:1: include loop/);
  });

  it('executable include files are skipped as keepalived does, and reported', () => {
    mkdirSync(tmp.file('exe'), { recursive: true });
    writeFileSync(tmp.file('exe/main.conf'), 'global_defs {\n router_id e\n}\ninclude x.conf\ninclude y.conf\n');
    writeFileSync(tmp.file('exe/x.conf'), 'vrrp_instance V {\n interface eth0\n virtual_router_id 3\n virtual_ipaddress { 10.0.0.1/24 }\n}\n');
    writeFileSync(tmp.file('exe/y.conf'), 'vrrp_instance W {\n interface eth0\n virtual_router_id 4\n virtual_ipaddress { 10.0.0.2/24 }\n}\n');
    chmodSync(tmp.file('exe/x.conf'), 0o755);
    const r = importKeepalived(tmp.file('exe/main.conf'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.keys((r.config as Any).instances)).toEqual(['W']);
    expect(r.notes.find((n) => n.keyword === 'include')?.message).toMatch(/non-executable/);
  });
});

describe('smtp_alert without e-mail settings', () => {
  it('is reported at the smtp_alert line, for instances and sync groups', () => {
    const r = inline('vrrp_instance V {\n interface eth0\n virtual_router_id 3\n smtp_alert\n virtual_ipaddress { 10.0.0.1/24 }\n}\nvrrp_sync_group G {\n group {\n V\n }\n smtp_alert\n}\n');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.notes.filter((n) => n.keyword === 'smtp_alert').map((n) => n.line)).toEqual([4, 11]);
    expect((r.config as Any).instances.V.smtp_alert).toBeUndefined();
  });
});

describe('fuzz: arbitrary text never throws', () => {
  it('gives ok or a located error for 300 random inputs', async () => {
    const fc = await import('fast-check');
    const words = fc.constantFrom('vrrp_instance', 'global_defs', '{', '}', '"', '!', '#', 'include', 'interface', 'eth0', 'virtual_router_id', '7', '\n', ' ', 'track_script', 'virtual_ipaddress', '10.0.0.1/24', "'", '\\', '$X=1', '$X', '@a', 'virtual_server', 'real_server', 'TCP_CHECK', '80');
    fc.assert(
      fc.property(fc.array(fc.oneof(words, fc.string({ maxLength: 6 })), { maxLength: 60 }), (parts) => {
        const r = inline(parts.join(' '), 'fuzz.conf');
        if (!r.ok) expect(r.error).toMatch(/fuzz\.conf(:\d+)?: |does not pass the check/);
        else expect(parseConfigText(r.text).ok).toBe(true);
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});

describe('fidelity: what keepalived does with the same file', () => {
  it('a VIP listed twice (plain, then with a label, as in keepalived\'s sample keepalived.conf.vrrp) is kept once, first line winning, with a warning', () => {
    const r = inline('vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  192.168.200.16\n  192.168.200.18\n  192.168.200.18 label eth0:1\n }\n}\n');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect((r.config as Any).instances.VI_1.vips).toEqual(['192.168.200.16', '192.168.200.18']);
    expect(parseConfigText(r.text).ok).toBe(true);
    const n = noteAt(r.notes, '192.168.200.18');
    expect(n).toMatchObject({ severity: 'warning', line: 7 });
    expect(n?.message).toMatch(/label eth0:1 of this line is not applied/);
    expect(n?.message).toMatch(/counts it twice in its adverts/);
  });

  it('no vrrp_instance at all (an LVS-only file, an unfilled template) refuses the import', () => {
    const r = inline('global_defs {\n router_id x\n}\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/k\.conf:1: vrrp_instance: the configuration has no vrrp_instance/);
  });

  it('an instance without virtual_ipaddress refuses the import (keepalived refuses it with VRRPv3 or vrrp_strict)', () => {
    const r = inline('vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n}\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/k\.conf:1: vrrp_instance VI_1: no virtual_ipaddress/);
  });

  it('an instance with only virtual_ipaddress_excluded converts', () => {
    const r = inline('vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress_excluded {\n  10.0.0.5/24\n }\n}\n');
    expect(r.ok && (r.config as Any).instances.VI_1.excluded_vips).toEqual(['10.0.0.5/24']);
  });

  it('vrrp_strict with unicast_peer refuses the import, as keepalived refuses the file', () => {
    const r = inline('global_defs {\n vrrp_strict\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n unicast_peer {\n  10.0.0.2\n }\n virtual_ipaddress {\n  10.0.0.100/24\n }\n}\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/k\.conf:2: vrrp_instance VI_1: unicast_peer under strict mode/);
  });

  it('strict_mode off on the instance overrides vrrp_strict', () => {
    const r = inline('global_defs {\n vrrp_strict\n}\nvrrp_instance VI_1 {\n strict_mode off\n state MASTER\n interface eth0\n virtual_router_id 51\n unicast_peer {\n  10.0.0.2\n }\n virtual_ipaddress {\n  10.0.0.100/24\n }\n}\n');
    expect(r.ok && (r.config as Any).instances.VI_1).toMatchObject({ state: 'MASTER', unicast_peers: ['10.0.0.2'] });
  });

  it('vrrp_strict: priority 255 keeps MASTER; preempt_delay cleared', () => {
    const r = inline('global_defs {\n vrrp_strict\n}\nvrrp_instance VI_1 {\n state BACKUP\n interface eth0\n virtual_router_id 51\n priority 255\n preempt_delay 10\n virtual_ipaddress {\n  10.0.0.100/24\n }\n}\n');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect((r.config as Any).instances.VI_1).toMatchObject({ state: 'MASTER', priority: 255 });
    expect((r.config as Any).instances.VI_1.preempt_delay).toBeUndefined();
    expect(noteAt(r.notes, 'preempt_delay')?.message).toMatch(/strict mode/);
  });

  it('auth_type AH converts (key cut to 8 like keepalived) and state MASTER becomes BACKUP as keepalived clears it', () => {
    const r = inline('vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n authentication {\n  auth_type AH\n  auth_pass longer-than-8\n }\n virtual_ipaddress {\n  10.0.0.100/24\n }\n}\n');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect((r.config as Any).instances.VI_1).toMatchObject({ state: 'BACKUP', authentication: { type: 'AH', password: 'longer-t' } });
    expect(noteAt(r.notes, 'state')).toMatchObject({ severity: 'warning', line: 2 });
    expect(parseConfigText(r.text).ok).toBe(true);
  });

  it('auth_type AH on an IPv6 instance is ignored, as keepalived does', () => {
    const r = inline('vrrp_instance VI_6 {\n interface eth0\n virtual_router_id 61\n authentication {\n  auth_type AH\n  auth_pass k\n }\n virtual_ipaddress {\n  fe80::1/64\n }\n}\n');
    expect(r.ok && (r.config as Any).instances.VI_6.authentication).toBeUndefined();
    // An IPv6 instance is VRRPv3 in keepalived, which says so first: "VRRP version 3 does not support authentication".
    expect(r.notes.find((n) => n.keyword === 'authentication')?.message).toMatch(/VRRPv3 has no authentication/);
  });
});

describe('fidelity: priority derived from the state, as keepalived 2.2.7 does', () => {
  it('state MASTER without a priority line becomes priority 255 (address owner), warned at the state line; BACKUP stays at 100', () => {
    const r = inline('vrrp_instance A {\n state MASTER\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.100/24\n }\n}\nvrrp_instance B {\n state BACKUP\n interface eth0\n virtual_router_id 52\n virtual_ipaddress {\n  10.0.0.101/24\n }\n}\n');
    if (!r.ok) throw new Error(r.error);
    const inst = (r.config as Any).instances;
    expect(inst.A).toMatchObject({ state: 'MASTER', priority: 255, address_owner: true });
    expect(inst.B.priority).toBeUndefined();
    expect(r.notes.find((n) => n.keyword === 'state' && n.line === 2)).toMatchObject({ severity: 'warning', message: expect.stringMatching(/priority 255/) });
  });

  it('global_defs vrrp_rt_priority, vrrp_priority, vrrp_rlimit_rttime become scheduling (the HA thread); vrrp_no_swap is reported', () => {
    const vi = 'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.5/24\n }\n}\n';
    const r = inline(`global_defs {\n vrrp_rt_priority 50\n vrrp_priority -15\n vrrp_rlimit_rttime 300000\n vrrp_no_swap\n checker_priority -5\n}\n${vi}`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect((r.config as Any).scheduling).toEqual({ rt_priority: 50, nice: -15, rlimit_rttime: 300000 });
    for (const k of ['vrrp_rt_priority', 'vrrp_priority', 'vrrp_rlimit_rttime']) expect(noteAt(r.notes, k), k).toBeUndefined();
    // vrrp_no_swap: reported, not applied (mlockall made V8 abort: bench/README.md).
    expect(noteAt(r.notes, 'vrrp_no_swap')?.message).toMatch(/mlockall of the daemon .* made it abort/);
    expect(noteAt(r.notes, 'checker_priority')?.message).toMatch(/checks run on the main thread/);
    const checked = parseConfigText(r.text);
    expect(checked.ok && checked.config.scheduling).toEqual({ rt_priority: 50, nice: -15, rlimit_rttime: 300000 });

    // keepalived's own default (10 ms) and its deprecated spelling: carried over with a warning;
    // below twinvip's minimum raised to it; out of range or not a number: not converted, said so.
    const tight = inline(`global_defs {\n vrrp_rlimit_rtime 10000\n}\n${vi}`);
    expect(tight.ok && (tight.config as Any).scheduling).toEqual({ rlimit_rttime: 10000 });
    expect(tight.ok && noteAt(tight.notes, 'vrrp_rlimit_rtime')).toMatchObject({ severity: 'warning', message: expect.stringMatching(/default is 200000 µs.*suspend real-time/) });
    const tiny = inline(`global_defs {\n vrrp_rlimit_rttime 2\n}\n${vi}`);
    expect(tiny.ok && (tiny.config as Any).scheduling).toEqual({ rlimit_rttime: 1000 });
    const bad = inline(`global_defs {\n vrrp_rt_priority 120\n vrrp_priority x\n}\n${vi}`);
    expect(bad.ok && (bad.config as Any).scheduling).toBeUndefined();
    expect(bad.ok && noteAt(bad.notes, 'vrrp_rt_priority')?.message).toMatch(/120 is outside 1\.\.99/);
    expect(bad.ok && noteAt(bad.notes, 'vrrp_priority')?.message).toMatch(/'x' is not an integer/);
  });
});
