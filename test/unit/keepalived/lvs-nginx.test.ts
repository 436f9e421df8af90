import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config';
import { importKeepalived, type ImportNote } from '../../../src/config/keepalived';
import { renderNginxConf, resolveSettings } from '../../../src/nginx';
import { makeTempDir } from '../../helpers/tmp';

// virtual_server -> nginx.upstreams + nginx.stream against the real Nginx schema (src/nginx/schema.ts)
// and its semantic rules: every result here also passes parseConfigText, so a mapping the schema
// or semantic.ts would refuse fails the import test instead of falling back silently.

const tmp = makeTempDir('tv-kl-');
afterAll(() => tmp.remove());

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let seq = 0;
// A director always runs VRRP for its virtual address: the importer refuses a configuration
// without a vrrp_instance. Appended, so the virtual_server's line numbers stay as written.
const VRRP = 'vrrp_instance VI_LB {\ninterface eth0\nvirtual_router_id 50\nvirtual_ipaddress {\n10.0.0.100/24\n}\n}\n';
function vs(body: string, head = '10.0.0.100 80') {
  const path = tmp.file(`vs${seq++}.conf`);
  writeFileSync(path, `virtual_server ${head} {\n${body}\n}\n${VRRP}`);
  const r = importKeepalived(path);
  if (!r.ok) throw new Error(r.error);
  const checked = parseConfigText(r.text);
  expect(checked.ok, JSON.stringify(!checked.ok && checked.errors)).toBe(true);
  // The fallback must not have fired: it would leave a "refused the mapped upstream" note.
  expect(r.notes.find((n) => /refused the mapped upstream/.test(n.message))).toBeUndefined();
  return { nginx: (r.config as Any).nginx as Any | undefined, notes: r.notes };
}

const RS = (ip: string, extra = '') => `real_server ${ip} 80 {\n${extra}\nTCP_CHECK {\nconnect_timeout 2\n}\n}`;
const note = (notes: ImportNote[], keyword: string) => notes.find((n) => n.keyword === keyword);

describe('lb_algo -> balance', () => {
  it.each([
    ['wrr', 'round_robin', [3, undefined]],
    ['wlc', 'least_conn', [3, undefined]],
    ['rr', 'round_robin', [undefined, undefined]],
    ['lc', 'least_conn', [undefined, undefined]],
    ['twos', 'random', [3, undefined]],
    ['sed', 'least_conn', [3, undefined]],
  ] as const)('%s -> %s with weights %j', (algo, balance, weights) => {
    const r = vs(`lb_algo ${algo}\nprotocol TCP\n${RS('10.0.1.1', 'weight 3')}\n${RS('10.0.1.2')}`);
    const up = r.nginx?.upstreams.vs_10_0_0_100_80;
    expect(up.balance).toBe(balance);
    expect(up.servers.map((s: Any) => s.weight)).toEqual(weights);
    expect(up.servers.map((s: Any) => `${s.address}:${s.port}`)).toEqual(['10.0.1.1:80', '10.0.1.2:80']);
  });

  it('rr and lc ignore weights in LVS: not carried over, with a warning at the weight line', () => {
    const r = vs(`lb_algo rr\nprotocol TCP\n${RS('10.0.1.1', 'weight 3')}`);
    expect(note(r.notes, 'weight')).toMatchObject({ severity: 'warning', line: 5 });
    expect(note(r.notes, 'weight')?.message).toMatch(/use wrr/);
  });

  it('sh -> hash on $remote_addr, consistent (the stream module has no ip_hash); a sorry_server is reported, not a backup', () => {
    const r = vs(`lb_algo sh\nprotocol TCP\nsorry_server 10.0.9.9 80\n${RS('10.0.1.1', 'weight 2')}`);
    const up = r.nginx?.upstreams.vs_10_0_0_100_80;
    expect(up).toMatchObject({ balance: 'hash', hash_key: '$remote_addr', hash_consistent: true, servers: [{ address: '10.0.1.1', port: 80, weight: 2 }] });
    expect(up.servers.some((s: Any) => s.backup)).toBe(false);
    expect(note(r.notes, 'lb_algo')).toMatchObject({ severity: 'warning', line: 2 });
    expect(note(r.notes, 'sorry_server')).toMatchObject({ severity: 'unconverted', line: 4 });
    expect(note(r.notes, 'sorry_server')?.message).toMatch(/backup server with balance hash/);
  });

  it('an approximate scheduler warns; an unknown one is not converted and keepalived\'s default wlc is used', () => {
    const dh = vs(`lb_algo dh\nprotocol TCP\n${RS('10.0.1.1')}`);
    expect(dh.nginx?.upstreams.vs_10_0_0_100_80.balance).toBe('round_robin');
    expect(note(dh.notes, 'lb_algo')).toMatchObject({ severity: 'warning', line: 2 });
    const bad = vs(`lb_algo frob\nprotocol TCP\n${RS('10.0.1.1')}`);
    expect(bad.nginx?.upstreams.vs_10_0_0_100_80.balance).toBe('least_conn');
    expect(note(bad.notes, 'lb_algo')).toMatchObject({ severity: 'unconverted', line: 2 });
  });
});

describe('real servers', () => {
  it('weight 0 is left out and reported; weights above 1000 are capped with a warning', () => {
    const r = vs(`lb_algo wrr\nprotocol TCP\n${RS('10.0.1.1', 'weight 0')}\n${RS('10.0.1.2', 'weight 5000')}`);
    expect(r.nginx?.upstreams.vs_10_0_0_100_80.servers).toEqual([{ address: '10.0.1.2', port: 80, weight: 1000 }]);
    expect(note(r.notes, 'weight 0')).toMatchObject({ severity: 'unconverted', line: 5 });
    expect(note(r.notes, 'weight')).toMatchObject({ severity: 'warning', line: 11 });
  });

  it('only weight-0 servers: the virtual server is not converted and no nginx section is written', () => {
    const r = vs(`protocol TCP\n${RS('10.0.1.1', 'weight 0')}`);
    expect(r.nginx).toBeUndefined();
    expect(r.notes.find((n) => n.keyword === 'virtual_server 10.0.0.100 80')).toMatchObject({ severity: 'unconverted', line: 1 });
  });

  it('inhibit_on_failure is a warning (twinvip marks failed servers down); a duplicate server is reported', () => {
    const r = vs(`protocol TCP\n${RS('10.0.1.1', 'inhibit_on_failure')}\n${RS('10.0.1.1')}`);
    expect(r.nginx?.upstreams.vs_10_0_0_100_80.servers).toEqual([{ address: '10.0.1.1', port: 80 }]);
    expect(note(r.notes, 'inhibit_on_failure')).toMatchObject({ severity: 'warning', line: 4 });
    expect(r.notes.find((n) => n.keyword === 'real_server 10.0.1.1 80' && /listed twice/.test(n.message))).toMatchObject({ severity: 'unconverted', line: 9 });
  });

  it('IPv6: addresses without brackets, the group named after the address', () => {
    const r = vs('protocol TCP\nreal_server 2001:db8::11 443 {\n}', '2001:db8::100 443');
    const name = 'vs_2001_db8__100_443';
    expect(r.nginx?.upstreams[name].servers).toEqual([{ address: '2001:db8::11', port: 443 }]);
    expect(r.nginx?.stream).toEqual([{ listen: { address: '2001:db8::100', port: 443, protocol: 'tcp' }, upstream: name, timeout: 900 }]);
  });
});

describe('health checks and the stream server', () => {
  it('HTTP_GET: path, status range, virtualhost -> check.host, retry -> fall, delay_loop -> interval, timeout capped to it', () => {
    const r = vs([
      'delay_loop 3',
      'protocol TCP',
      'real_server 10.0.1.1 80 {',
      ' HTTP_GET {',
      '  url {',
      '   path /ping?x=1',
      '   status_code 200-202 204',
      '  }',
      '  virtualhost app.example.net',
      '  connect_timeout 7',
      '  retry 4',
      ' }',
      '}',
    ].join('\n'));
    expect(r.nginx?.upstreams.vs_10_0_0_100_80.check).toEqual({ type: 'http', path: '/ping?x=1', host: 'app.example.net', status: [200, 201, 202, 204], interval: 3, timeout: 3, rise: 1, fall: 5 });
    expect(note(r.notes, 'connect_timeout')).toMatchObject({ severity: 'warning', line: 5 });
  });

  it('connect_port other than the server port is not converted (the check probes the server port)', () => {
    const r = vs('protocol TCP\nreal_server 10.0.1.1 80 {\n TCP_CHECK {\n  connect_port 8080\n }\n}');
    expect(r.nginx?.upstreams.vs_10_0_0_100_80.check).toEqual({ type: 'tcp', interval: 60, timeout: 5, rise: 1, fall: 2 });
    expect(note(r.notes, 'connect_port')).toMatchObject({ severity: 'unconverted', line: 5 });
  });

  it('protocol UDP: a UDP stream listener, its own group name beside TCP on the same port, IPVS udp timeout', () => {
    const path = tmp.file('both.conf');
    writeFileSync(path, `virtual_server 10.0.0.53 53 {\nprotocol UDP\nlb_algo rr\n${RS('10.0.1.1')}\n}\nvirtual_server 10.0.0.53 53 {\nprotocol TCP\nlb_algo rr\n${RS('10.0.1.1')}\n}\n${VRRP}`);
    const r = importKeepalived(path);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(parseConfigText(r.text).ok).toBe(true);
    const ng = (r.config as Any).nginx;
    expect(Object.keys(ng.upstreams)).toEqual(['vs_10_0_0_53_53_udp', 'vs_10_0_0_53_53']);
    expect(ng.stream).toEqual([
      { listen: { address: '10.0.0.53', port: 53, protocol: 'udp' }, upstream: 'vs_10_0_0_53_53_udp', timeout: 300 },
      { listen: { address: '10.0.0.53', port: 53, protocol: 'tcp' }, upstream: 'vs_10_0_0_53_53', timeout: 900 },
    ]);
  });

  it('protocol SCTP: the virtual server is not converted', () => {
    const r = vs(`protocol SCTP\n${RS('10.0.1.1')}`);
    expect(r.nginx).toBeUndefined();
    expect(note(r.notes, 'protocol')).toMatchObject({ severity: 'unconverted', line: 2 });
  });

  it('the imported lvs.conf renders to an Nginx stream config with the mapped groups', () => {
    const r = importKeepalived('test/fixtures/keepalived/lvs.conf');
    if (!r.ok) throw new Error(r.error);
    const checked = parseConfigText(r.text);
    if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
    const model = checked.config.nginx;
    const out = renderNginxConf({ model, settings: resolveSettings(model) });
    if (!out.ok) throw new Error(out.error);
    const text = out.text.replace(/\s+/g, ' ');
    expect(text).toMatch(/upstream vs_192_168_200_100_80 \{[^}]*hash \$remote_addr consistent;[^}]*server 192\.168\.201\.100:80 weight=3/);
    expect(text).toMatch(/upstream vs_192_168_200_100_3306 \{[^}]*least_conn;[^}]*server 192\.168\.201\.250:3306 [^;]*backup/);
    expect(text).toMatch(/listen 192\.168\.200\.100:80;[^}]*proxy_pass vs_192_168_200_100_80;/);
  });
});

describe('a mapping the Nginx rules refuse', () => {
  it('a virtual server on the status endpoint\'s port: nginx section dropped, the virtual server reported with its JSON', () => {
    const path = tmp.file('status.conf');
    writeFileSync(path, `vrrp_instance V {\n interface eth0\n virtual_router_id 3 \n virtual_ipaddress { 10.0.0.1/24 }\n}\nvirtual_server 127.0.0.1 8089 {\nprotocol TCP\n${RS('10.0.1.1')}\n}\n`);
    const r = importKeepalived(path);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.nginx).toBeUndefined();
    expect((r.config as Any).instances.V.vrid).toBe(3);
    const n = r.notes.find((x) => x.keyword === 'virtual_server 127.0.0.1 8089' && x.severity === 'unconverted');
    expect(n?.line).toBe(6);
    expect(n?.message).toMatch(/overlaps 127\.0\.0\.1:8089.*upstream vs_127_0_0_1_8089 \{"balance":"least_conn"/);
  });
});

describe('persistence_timeout as keepalived 2.2.7 reads it (pto_handler)', () => {
  it.each([
    ['persistence_timeout 0', 'round_robin', 'no persistence'],
    ['persistence_timeout abc', 'round_robin', 'no persistence'],
    ['persistence_timeout 2678401', 'round_robin', 'no persistence'],
  ] as const)('%s: no persistence, the scheduler (wrr) kept with its weights, a warning says so', (line, balance, why) => {
    const r = vs(`lb_algo wrr\n${line}\nprotocol TCP\n${RS('10.0.1.1', 'weight 3')}\n${RS('10.0.1.2')}`);
    const up = r.nginx?.upstreams.vs_10_0_0_100_80;
    expect(up.balance).toBe(balance);
    expect(up.hash_key).toBeUndefined();
    expect(up.servers.map((s: Any) => s.weight)).toEqual([3, undefined]);
    expect(note(r.notes, 'persistence_timeout')).toMatchObject({ severity: 'warning', line: 3 });
    expect(note(r.notes, 'persistence_timeout')?.message).toMatch(new RegExp(`${why}.*persistence_timeout invalid`));
  });

  it.each(['persistence_timeout', 'persistence_timeout 1', 'persistence_timeout 2678400'])('%s: persistence (hash on the client address)', (line) => {
    const r = vs(`lb_algo wrr\n${line}\nprotocol TCP\n${RS('10.0.1.1', 'weight 3')}`);
    const up = r.nginx?.upstreams.vs_10_0_0_100_80;
    expect(up).toMatchObject({ balance: 'hash', hash_key: '$remote_addr', hash_consistent: true });
    expect(note(r.notes, 'persistence_timeout')?.message).toMatch(/client persistence becomes balance hash/);
  });

  it('persistence_granularity alone turns persistence on (keepalived sets 360 s); the netmask is reported as lost; a later invalid timeout leaves it on', () => {
    const r = vs(`lb_algo rr\npersistence_granularity 255.255.255.0\npersistence_timeout 0\nprotocol TCP\n${RS('10.0.1.1')}`);
    expect(r.nginx?.upstreams.vs_10_0_0_100_80.balance).toBe('hash');
    expect(note(r.notes, 'persistence_granularity')).toMatchObject({ severity: 'unconverted', line: 3 });
    expect(note(r.notes, 'persistence_timeout')?.message).toMatch(/^0: ignored/);
  });
});

describe('SSL_GET and MISC_CHECK real-server checks', () => {
  const SSL = (ip: string) => `real_server ${ip} 443 {\nSSL_GET {\nurl {\npath /healthz\nstatus_code 200-204\ndigest 9b3a0c85a887a256d6939da88aabd8cd\n}\nconnect_timeout 3\nretry 2\n}\n}`;
  it('SSL_GET -> an https check with path and status codes; the certificate not verified and the digest approximated, both said', () => {
    const r = vs(`delay_loop 5\nlb_algo wlc\nprotocol TCP\n${SSL('10.0.1.1')}\n${SSL('10.0.1.2')}`, '10.0.0.100 443');
    const up = r.nginx?.upstreams.vs_10_0_0_100_443;
    expect(up.check).toEqual({ type: 'https', path: '/healthz', status: [200, 201, 202, 203, 204], interval: 5, timeout: 3, rise: 1, fall: 3 });
    expect(note(r.notes, 'SSL_GET')).toMatchObject({ severity: 'warning', line: 6 });
    expect(note(r.notes, 'SSL_GET')?.message).toMatch(/does not verify the server certificate/);
    expect(note(r.notes, 'digest')).toMatchObject({ severity: 'warning', line: 10 });
    expect(note(r.notes, 'digest')?.message).toMatch(/^approximated: the status code is checked, not the MD5/);
  });

  const MISC = (ip: string, cmd: string, extra = '') => `real_server ${ip} 3306 {\nMISC_CHECK {\nmisc_path "${cmd}"\n${extra}\n}\n}`;
  it('MISC_CHECK -> a script check with its arguments, user and misc_timeout; each server\'s own address and port become {address} and {port}', () => {
    const r = vs(`delay_loop 10\nlb_algo lc\nprotocol TCP\n${MISC('10.0.1.1', '/usr/local/bin/check_db.sh 10.0.1.1 3306', 'misc_timeout 4\nuser nobody nogroup\nretry 2')}\n${MISC('10.0.1.2', '/usr/local/bin/check_db.sh 10.0.1.2 3306', 'misc_timeout 4\nuser nobody nogroup\nretry 2')}`, '10.0.0.100 3306');
    const up = r.nginx?.upstreams.vs_10_0_0_100_3306;
    expect(up.check).toEqual({ type: 'script', script: '/usr/local/bin/check_db.sh {address} {port}', user: 'nobody', interval: 10, timeout: 4, rise: 1, fall: 3 });
    expect(r.notes.filter((n) => n.keyword === 'user').map((n) => `${n.severity}@${n.line}`)).toEqual(['unconverted@9', 'unconverted@17']);
    expect(r.notes.find((n) => /differs/.test(n.message))).toBeUndefined();
  });

  it('MISC_CHECK defaults as keepalived 2.2.7: timeout = delay_loop, retry 0 (one failure takes the server out); misc_dynamic reported', () => {
    const r = vs(`delay_loop 7\nlb_algo rr\nprotocol TCP\n${MISC('10.0.1.1', '/bin/true', 'misc_dynamic')}`, '10.0.0.100 3306');
    expect(r.nginx?.upstreams.vs_10_0_0_100_3306.check).toEqual({ type: 'script', script: '/bin/true', interval: 7, timeout: 7, rise: 1, fall: 1 });
    expect(note(r.notes, 'misc_dynamic')).toMatchObject({ severity: 'unconverted', line: 8 });
  });

  it('MISC_CHECKs that differ beyond the server\'s address: no check for the group rather than one server\'s script judging another', () => {
    const r = vs(`lb_algo rr\nprotocol TCP\n${MISC('10.0.1.1', '/bin/check a')}\n${MISC('10.0.1.2', '/bin/check b')}`, '10.0.0.100 3306');
    expect(r.nginx?.upstreams.vs_10_0_0_100_3306.check).toBeUndefined();
    expect(note(r.notes, 'MISC_CHECK')).toMatchObject({ severity: 'unconverted', line: 11 });
    expect(note(r.notes, 'MISC_CHECK')?.message).toMatch(/gets no active check/);
  });

  it('misc_path words after the quoted command are not arguments (keepalived 2.2.7 runs the first word only): reported', () => {
    const path = tmp.file(`vs${seq++}.conf`);
    writeFileSync(path, `virtual_server 10.0.0.100 3306 {\nprotocol TCP\nreal_server 10.0.1.1 3306 {\nMISC_CHECK {\nmisc_path /bin/check 10.0.1.1\n}\n}\n}\n${VRRP}`);
    const r = importKeepalived(path);
    if (!r.ok) throw new Error(r.error);
    expect((r.config as Any).nginx.upstreams.vs_10_0_0_100_3306.check.script).toBe('/bin/check');
    expect(note(r.notes, 'misc_path')).toMatchObject({ severity: 'unconverted', line: 5 });
  });
});
