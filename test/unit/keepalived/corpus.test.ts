import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config';
import { importKeepalived, type ImportNote } from '../../../src/config/keepalived';

// Configurations written in the styles found in public repositories (test/fixtures/keepalived/wild),
// each with the VRRP semantics keepalived 2.2.7 gives it, field by field: VRID, priority, advert
// interval, authentication, VIPs, peers, preempt, tracking, notify (and, for directors, the real
// servers and their checks). A field keepalived would read differently fails here.

const DIR = join(__dirname, '../../fixtures/keepalived/wild');
type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function load(name: string): { config: Any; notes: ImportNote[] } {
  const r = importKeepalived(join(DIR, name));
  if (!r.ok) throw new Error(r.error);
  expect(parseConfigText(r.text).ok).toBe(true);
  return { config: r.config as Any, notes: r.notes };
}
const at = (notes: ImportNote[], keyword: string) => notes.filter((n) => n.keyword === keyword).map((n) => `${n.severity}@${n.line}`);

describe('wild-style corpus: what keepalived runs is what twinvip runs', () => {
  it('Ansible/Jinja template, rendered: unicast pair, PASS truncated to 8 as keepalived does, a weighted process check', () => {
    const { config, notes } = load('ansible-rendered.conf');
    expect(config.instances).toEqual({
      VI_1: {
        interface: 'ens192', vrid: 51, state: 'MASTER', priority: 101, advert_int: 1,
        vips: [{ address: '10.10.0.100', prefix: 24, dev: 'ens192' }],
        authentication: { type: 'PASS', password: 's3cr3tpa' },
        unicast_src_ip: '10.10.0.11', unicast_peers: ['10.10.0.12'],
        track_checks: ['chk_haproxy'],
      },
    });
    // keepalived vrrp_script: timeout defaults to the interval; weight +2 raises the priority while it succeeds.
    expect(config.checks).toEqual({ chk_haproxy: { type: 'script', script: '/usr/bin/killall -0 haproxy', interval: 2, timeout: 2, weight: 2 } });
    expect(config.notify).toEqual({ enable_script_security: true, script_user: 'root' });
    expect(at(notes, 'auth_pass')).toEqual(['warning@24']);
  });

  it('Kubernetes control-plane HA guide (check_apiserver.sh, weight -2, fall 10 rise 2); the guide\'s unfilled ${STATE} template refused with file and line', () => {
    const { config } = load('k8s-apiserver.conf');
    expect(config.instances).toEqual({
      VI_1: {
        interface: 'eth0', vrid: 51, state: 'MASTER', priority: 101,
        vips: ['192.168.56.100'],
        authentication: { type: 'PASS', password: '42' },
        track_checks: ['check_apiserver'],
      },
    });
    expect(config.checks.check_apiserver).toEqual({ type: 'script', script: '/etc/keepalived/check_apiserver.sh', interval: 3, timeout: 3, rise: 2, fall: 10, weight: -2 });
    const unfilled = importKeepalived(join(DIR, 'k8s-apiserver-unfilled.conf'));
    expect(unfilled.ok).toBe(false);
    if (!unfilled.ok) expect(unfilled.error).toMatch(/k8s-apiserver-unfilled\.conf:15: unresolved \$\{STATE\}.*keepalived would read '\$' as the value and the braces as a block/);
  });

  it('container entrypoint: $NAME= definitions resolved as keepalived does, nopreempt with BACKUP, two unicast peers, a notify script', () => {
    const { config, notes } = load('docker-entrypoint.conf');
    expect(config.instances).toEqual({
      VI_1: {
        interface: 'eth0', vrid: 51, state: 'BACKUP', priority: 150,
        vips: ['172.20.0.100'],
        authentication: { type: 'PASS', password: 'd0cker' },
        unicast_peers: ['172.20.0.2', '172.20.0.3'],
        preempt: false,
        notify: { notify: '/container/service/keepalived/assets/notify.sh' },
      },
    });
    expect(at(notes, 'default_interface')).toEqual(['unconverted@6']);
  });

  it('LVS-DR director: VRRP kept whole (preempt_delay, smtp_alert); HTTP_GET and SSL_GET real-server checks; persistence_timeout 0 is none; rr drops weights', () => {
    const { config, notes } = load('lvs-dr.conf');
    expect(config.instances).toEqual({
      VI_WEB: {
        interface: 'eth0', vrid: 60, state: 'BACKUP', priority: 150, advert_int: 1, preempt_delay: 30,
        vips: ['198.51.100.10/24'],
        authentication: { type: 'PASS', password: 'lvsdr' },
        smtp_alert: true,
      },
    });
    expect(config.email).toMatchObject({ smtp_server: '192.0.2.25', from: 'lvs@example.com', to: ['ops@example.com'], connect_timeout: 30 });
    const ups = config.nginx.upstreams;
    expect(ups.vs_198_51_100_10_80).toEqual({
      balance: 'round_robin',
      servers: [{ address: '10.1.0.21', port: 80, weight: 2 }, { address: '10.1.0.22', port: 80 }],
      check: { type: 'http', path: '/healthz', status: [200], interval: 6, timeout: 3, rise: 1, fall: 4 },
    });
    // SSL_GET without status_code accepts 2xx (with digest: keepalived checks the digest, here approximated by the status).
    expect(ups.vs_198_51_100_10_443).toEqual({
      balance: 'round_robin',
      servers: [{ address: '10.1.0.21', port: 443 }, { address: '10.1.0.22', port: 443 }],
      check: { type: 'https', path: '/status', status: [200, 201, 202, 203, 204, 205, 206], interval: 10, timeout: 5, rise: 1, fall: 2 },
    });
    expect(at(notes, 'lb_kind')).toEqual(['unconverted@32', 'unconverted@65']);
    expect(at(notes, 'persistence_timeout')).toEqual(['warning@33']);
    expect(at(notes, 'weight')).toEqual(['warning@68']);
    expect(at(notes, 'digest')).toEqual(['warning@72', 'warning@81']);
  });

  it('LVS-NAT director: sync group of the outside and gateway instances; MISC_CHECK with per-server arguments becomes one script check; persistence kept', () => {
    const { config } = load('lvs-nat.conf');
    expect(config.instances).toEqual({
      VI_EXT: { interface: 'eth0', vrid: 70, state: 'MASTER', priority: 200, vips: ['203.0.113.50/28'] },
      VI_GW: { interface: 'eth1', vrid: 71, state: 'MASTER', priority: 200, vips: ['10.2.0.1/24'] },
    });
    expect(config.sync_groups).toEqual({ VG_NAT: { instances: ['VI_EXT', 'VI_GW'] } });
    expect(config.nginx.upstreams.vs_203_0_113_50_3306).toEqual({
      balance: 'hash', hash_key: '$remote_addr', hash_consistent: true,
      servers: [{ address: '10.2.0.11', port: 3306, weight: 10 }, { address: '10.2.0.12', port: 3306, weight: 5 }],
      check: { type: 'script', script: '/usr/local/bin/check_mysql.sh {address} {port}', user: 'mysqlchk', interval: 5, timeout: 3, rise: 1, fall: 1 },
    });
  });

  it('IPv6: version 3 as keepalived forces it, centisecond advert_int, excluded link-local VIP, weighted interface tracking', () => {
    const { config } = load('ipv6.conf');
    expect(config.instances).toEqual({
      VI6: {
        interface: 'bond0', vrid: 66, state: 'BACKUP', priority: 90, advert_int: 0.5, version: 3,
        vips: ['2001:db8:10::1/64'], excluded_vips: ['fe80::1/64'],
        track_interfaces: [{ name: 'bond0', weight: -20 }],
      },
    });
  });

  it('firewall pair: sync group with notify_master/backup/fault (conntrackd), a FAULT-on-failure check (no weight), nopreempt, an instance notify', () => {
    const { config, notes } = load('sync-notify.conf');
    expect(config.instances).toEqual({
      VI_INSIDE: { interface: 'eth1', vrid: 21, state: 'BACKUP', priority: 120, advert_int: 2, vips: ['10.0.0.1/24'], preempt: false, track_checks: ['chk_conntrackd'] },
      VI_OUTSIDE: { interface: 'eth0', vrid: 22, state: 'BACKUP', priority: 120, advert_int: 2, vips: ['192.0.2.1/24'], preempt: false, notify: { master: '/usr/local/bin/route-up.sh' } },
    });
    expect(config.checks).toEqual({ chk_conntrackd: { type: 'script', script: '/usr/bin/pgrep -x conntrackd', interval: 5, timeout: 5, rise: 2, fall: 2 } });
    expect(config.sync_groups).toEqual({
      VG_FW: {
        instances: ['VI_INSIDE', 'VI_OUTSIDE'],
        notify: { master: '/etc/conntrackd/primary-backup.sh primary', backup: '/etc/conntrackd/primary-backup.sh backup', fault: '/etc/conntrackd/primary-backup.sh fault' },
      },
    });
    expect(notes).toEqual([]);
  });
});
