import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { IssueCollector } from '../../../src/lib/issue-collector';
import { certificateAlarms, checkNginxFiles, pairKey, renderNginxConf, resolveSettings, type CertificateAlarm, type CertificateFigure, type NginxConfig } from '../../../src/nginx';
import { makeTempDir } from '../../helpers/tmp';
import { load } from './helpers';

const tmp = makeTempDir('tvtls-');
afterAll(() => tmp.remove());

const tlsModel = {
  prefix: '/var/lib/twinvip/nginx',
  upstreams: {
    app: { servers: [{ address: '10.0.0.11', port: 8080 }], keepalive: 8 },
    a: { servers: [{ address: '10.0.0.21', port: 443 }] },
    b: { servers: [{ address: '10.0.0.22', port: 443 }] },
    pg: { servers: [{ address: '10.0.0.31', port: 5432 }] },
  },
  http: [{
    listen: [{ port: 443, default_server: true }, { address: '2001:db8::1', port: 443 }],
    server_names: ['www.example.net'],
    tls: { certificate_file: '/etc/twinvip/tls/www.crt', key_file: '/etc/twinvip/tls/www.key', hsts: { max_age: 31536000, include_subdomains: true } },
    redirect_from_http: 80,
    security_headers: true,
    logs: { name: 'www', static_access: false },
    locations: [
      { type: 'static', path: '/static/', root: '/srv/www', cache_control: 'public' },
      { type: 'proxy', path: '/ws/', upstream: 'app', websocket: true },
      { type: 'proxy', path: '/events/', upstream: 'app', buffering: false, read_timeout: 300 },
      { type: 'proxy', path: '/api/', upstream: 'app', max_body_size: '10m', rate_limit: { rate: 20, burst: 40, zone_size: 2 } },
    ],
  }],
  stream: [
    { listen: { port: 8443 }, upstream: 'a', sni_routes: { 'a.example.net': 'a', '*.b.example.net': 'b' } },
    { listen: { port: 5433 }, upstream: 'pg', tls: { certificate_file: '/etc/twinvip/tls/pg.crt', key_file: '/etc/twinvip/tls/pg.key', profile: 'modern' } },
  ],
};

function good(): NginxConfig {
  const r = load(tlsModel);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.nginx;
}

function render(m: NginxConfig, certificates?: Map<string, { certificate: string; key: string }>) {
  const r = renderNginxConf({ model: m, settings: resolveSettings(m), ...(certificates ? { certificates } : {}) });
  if (!r.ok) throw new Error(r.error);
  return r.text;
}

function errorsOf(nginx: Record<string, unknown>) {
  const r = load(nginx);
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
}

const clone = () => structuredClone(tlsModel) as any;

describe('TLS, HTTP/2 and proxy features: rendering', () => {
  it('renders TLS with the intermediate profile, HTTP/2 in 1.22 syntax, session cache, no tickets', () => {
    const t = render(good());
    expect(t).toContain('listen 443 ssl http2 default_server;');
    expect(t).toContain('listen [2001:db8::1]:443 ssl http2;');
    expect(t).toContain('ssl_certificate /etc/twinvip/tls/www.crt;');
    expect(t).toContain('ssl_certificate_key /etc/twinvip/tls/www.key;');
    expect(t).toContain('ssl_protocols TLSv1.2 TLSv1.3;');
    expect(t).toMatch(/ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:[A-Z0-9:-]+;/);
    expect(t).toContain('ssl_session_cache shared:twinvip_http:10m;');
    expect(t).toContain('ssl_session_tickets off;');
  });

  it('renders the checked copies of the pairs when given, and refuses a pair without one', () => {
    const copies = new Map([
      [pairKey('/etc/twinvip/tls/www.crt', '/etc/twinvip/tls/www.key'), { certificate: '/p/tls/aa.crt', key: '/p/tls/aa.key' }],
      [pairKey('/etc/twinvip/tls/pg.crt', '/etc/twinvip/tls/pg.key'), { certificate: '/p/tls/bb.crt', key: '/p/tls/bb.key' }],
    ]);
    const t = render(good(), copies);
    expect(t).toContain('ssl_certificate_key /p/tls/aa.key;');
    expect(t).not.toContain('/etc/twinvip/tls/');
    copies.delete(pairKey('/etc/twinvip/tls/pg.crt', '/etc/twinvip/tls/pg.key'));
    const r = renderNginxConf({ model: good(), settings: resolveSettings(good()), certificates: copies });
    expect(r.ok ? '' : r.error).toMatch(/no checked copy of the certificate \/etc\/twinvip\/tls\/pg\.crt/);
  });

  it('renders the redirect server on the same addresses and names', () => {
    const t = render(good());
    expect(t).toMatch(/server \{\n\s+listen 80 default_server;\n\s+listen \[2001:db8::1\]:80;\n\s+server_name www\.example\.net;\n\s+access_log \/var\/lib\/twinvip\/nginx\/logs\/www\.access\.log combined;\n\s+error_log \/var\/lib\/twinvip\/nginx\/logs\/www\.error\.log warn;\n\s+return 301 https:\/\/\$host\$request_uri;\n\s+\}/);
    const m = clone();
    m.http[0].listen = [{ port: 8443 }];
    m.stream = [];
    expect(render(load(m).ok ? (load(m) as any).nginx : undefined)).toContain('return 301 https://$host:8443$request_uri;');
  });

  it('repeats HSTS and security headers in every location (a location add_header hides the server ones)', () => {
    const t = render(good());
    const hsts = 'add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;';
    // server level + 4 locations
    expect(t.split(hsts).length - 1).toBe(5);
    expect(t.split('add_header X-Content-Type-Options nosniff always;').length - 1).toBe(5);
    expect(t).toMatch(/location \/static\/ \{\n(?:\s+add_header [^\n]+\n)+\s+access_log off;\n\s+root \/srv\/www;/);
  });

  it('renders WebSocket, buffering, body size and rate limit', () => {
    const t = render(good());
    expect(t).toMatch(/map \$http_upgrade \$twinvip_connection_upgrade \{\n\s+default upgrade;\n\s+'' '';\n\s+\}/);
    expect(t).toMatch(/location \/ws\/ \{[^}]*proxy_set_header Upgrade \$http_upgrade;\n\s+proxy_set_header Connection \$twinvip_connection_upgrade;[^}]*proxy_read_timeout 3600000ms;/);
    expect(t).toMatch(/location \/events\/ \{[^}]*proxy_read_timeout 300000ms;[^}]*proxy_buffering off;/);
    expect(t).toContain('limit_req_status 429;');
    expect(t).toContain('limit_req_zone $binary_remote_addr zone=twinvip_rl_0_3:2m rate=20r/s;');
    expect(t).toMatch(/location \/api\/ \{[^}]*limit_req zone=twinvip_rl_0_3 burst=40 nodelay;[^}]*client_max_body_size 10m;/);
    expect(t).toMatch(/location \/api\/ \{[^}]*proxy_set_header Connection "";/);
  });

  it('renders SNI routing with ssl_preread and a hostnames map, and TLS termination on stream', () => {
    const t = render(good());
    expect(t).toMatch(/map \$ssl_preread_server_name \$twinvip_sni_0 \{\n\s+hostnames;\n\s+\*\.b\.example\.net b;\n\s+a\.example\.net a;\n\s+default a;\n\s+\}/);
    expect(t).toMatch(/listen 8443;\n\s+ssl_preread on;\n\s+proxy_pass \$twinvip_sni_0;/);
    expect(t).toMatch(/listen 5433 ssl;\n\s+ssl_certificate \/etc\/twinvip\/tls\/pg\.crt;[^}]*ssl_protocols TLSv1\.3;/);
    expect(t).toContain('ssl_session_cache shared:twinvip_stream:10m;');
    expect(t).toMatch(/upstream b \{\n\s+zone stream_b 64k;/);
  });

  it('sends syslog logs to /dev/log with the name as tag', () => {
    const m = clone();
    m.http[0].logs = { name: 'shop_1', to: 'syslog', facility: 'local3', access: false };
    const r = load(m);
    const t = render((r as any).nginx);
    expect(t).toContain('access_log off;');
    expect(t).toContain('error_log syslog:server=unix:/dev/log,facility=local3,tag=shop_1 warn;');
  });
});

describe('TLS, HTTP/2 and proxy features: what the model refuses', () => {
  it('accepts the model', () => {
    expect(errorsOf(tlsModel)).toEqual([]);
  });

  it.each([
    ['certificate path with ;', (m: any) => (m.http[0].tls.certificate_file = '/etc/x.crt;user root')],
    ['key path with $', (m: any) => (m.http[0].tls.key_file = '/etc/$host.key')],
    ['unknown profile', (m: any) => (m.http[0].tls.profile = 'ALL:!aNULL')],
    ['body size with ;', (m: any) => (m.http[0].locations[3].max_body_size = '1m; return 200')],
    ['body size unit', (m: any) => (m.http[0].locations[3].max_body_size = '1t')],
    ['rate zone too big', (m: any) => (m.http[0].locations[3].rate_limit.zone_size = 1024)],
    ['log name with /', (m: any) => (m.http[0].logs.name = '../../etc/cron.d/x')],
    ['log name with $', (m: any) => (m.http[0].logs.name = 'a$b')],
    ['sni name with space', (m: any) => (m.stream[0].sni_routes = { 'a.example.net default': 'a' })],
    ['sni group with ;', (m: any) => (m.stream[0].sni_routes = { 'a.example.net': 'a;' })],
    ['resolver name', (m: any) => (m.http[0].tls.ocsp_stapling = { resolvers: ['dns.example.net'] })],
    ['redirect port 0', (m: any) => (m.http[0].redirect_from_http = 0)],
  ])('refuses a hostile or out-of-range value: %s', (_name, mutate) => {
    const m = clone();
    mutate(m);
    expect(errorsOf(m).length).toBeGreaterThan(0);
  });

  it('names the conflicts Nginx would refuse or silently merge', () => {
    const noTls = clone();
    delete noTls.http[0].tls;
    // Without tls, listen.ssl defaults to false: only an explicit ssl: true is refused.
    noTls.http[0].listen[0].ssl = true;
    expect(errorsOf(noTls)).toContain('/nginx/http/0/listen/0/ssl: TLS on a server without tls settings');
    expect(errorsOf(noTls)).toContain('/nginx/http/0/redirect_from_http: redirects to https, but the server has no tls');

    const mixed = clone();
    mixed.http.push({ listen: [{ port: 443 }], server_names: ['other.example.net'], locations: [{ type: 'static', path: '/', root: '/srv' }] });
    expect(errorsOf(mixed).some((e) => e.startsWith('/nginx/http/1/listen/0: *:443 is plain here but TLS with HTTP/2'))).toBe(true);

    const redirectOnTls = clone();
    redirectOnTls.http[0].redirect_from_http = 443;
    expect(errorsOf(redirectOnTls).some((e) => e.includes('is a TLS socket'))).toBe(true);

    const udp = clone();
    udp.stream[1].listen.protocol = 'udp';
    expect(errorsOf(udp)).toContain('/nginx/stream/1/tls: TLS and SNI routing need a TCP listener');

    const both = clone();
    both.stream[0].tls = { certificate_file: '/a.crt', key_file: '/a.key' };
    expect(errorsOf(both).some((e) => e.startsWith('/nginx/stream/0/sni_routes: SNI routing passes TLS through undecrypted'))).toBe(true);

    const sameLog = clone();
    sameLog.http.push({ listen: [{ port: 8080 }], logs: { name: 'www' }, locations: [{ type: 'static', path: '/', root: '/srv' }] });
    expect(errorsOf(sameLog).some((e) => e.startsWith('/nginx/http/1/logs/name: log name "www" is also used'))).toBe(true);

    const preload = clone();
    preload.http[0].tls.hsts = { max_age: 600, preload: true };
    expect(errorsOf(preload).some((e) => e.startsWith('/nginx/http/0/tls/hsts/preload:'))).toBe(true);

    const unknownGroup = clone();
    unknownGroup.stream[0].sni_routes = { 'a.example.net': 'nope' };
    expect(errorsOf(unknownGroup)).toContain('/nginx/stream/0/sni_routes/a.example.net: no upstream group named "nope"');
  });
});

describe('box hardening: Nginx escape hatches (the attack fails)', () => {
  it('refuses a modules include outside Debian\'s modules-enabled directory', () => {
    for (const evil of ['/tmp/evil*.conf', '/etc/nginx/modules-enabled/../../../tmp/x.conf', '/home/u/*.conf', '/etc/nginx/modules-enabled/x.so']) {
      expect(errorsOf({ ...clone(), modules: evil }).some((e) => e.startsWith('/nginx/modules:')), evil).toBe(true);
    }
    expect(errorsOf({ ...clone(), modules: '/etc/nginx/modules-enabled/50-mod-stream.conf' })).toEqual([]);
    // The renderer refuses it as well, should a value ever bypass the schema.
    const m = good();
    const settings = { ...resolveSettings(m), modules: '/tmp/evil*.conf' };
    const r = renderNginxConf({ model: m, settings });
    expect(r.ok).toBe(false);
  });

  it('refuses user root, in the schema and when a name resolves to uid 0', async () => {
    expect(errorsOf({ ...clone(), user: 'root' }).some((e) => e.startsWith('/nginx/user:'))).toBe(true);
    const passwd = tmp.file('passwd');
    writeFileSync(passwd, 'root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n');
    const check = async (user: string) => {
      const out = new IssueCollector();
      await checkNginxFiles({ ...good(), http: [], stream: [], user } as NginxConfig, out, Date.now(), passwd);
      return out;
    };
    expect((await check('toor')).errors.map((e) => e.message)).toEqual(['"toor" has uid 0: the workers, which parse every client request, would run as root']);
    expect((await check('www-data')).errors).toEqual([]);
    expect((await check('nobody2')).warnings[0]?.message).toMatch(/no user "nobody2"/);
  });

  it('refuses a mime_types file that is not a root-owned public types table (e.g. /etc/shadow)', async () => {
    const check = async (path: string) => {
      const out = new IssueCollector();
      await checkNginxFiles({ ...good(), http: [], stream: [], mime_types: path } as NginxConfig, out);
      return out.errors.map((e) => e.message);
    };
    // /etc/shadow: root's, but not world-readable and not a types block.
    expect((await check('/etc/shadow'))[0]).toMatch(/not world-readable|not a MIME types file/);
    const passwdLike = tmp.file('root-owned');
    writeFileSync(passwdLike, 'root:x:0:0::/root:/bin/sh\n', { mode: 0o644 });
    chownSync(passwdLike, 0, 0);
    expect((await check(passwdLike))[0]).toMatch(/is not a MIME types file/);
    const writable = tmp.file('writable.types');
    writeFileSync(writable, 'types { text/html html; }\n');
    chmodSync(writable, 0o666);
    expect((await check(writable))[0]).toMatch(/writable by others than root/);
    const notRoot = tmp.file('user.types');
    writeFileSync(notRoot, 'types { text/html html; }\n', { mode: 0o644 });
    chownSync(notRoot, 1000, 1000);
    expect((await check(notRoot))[0]).toMatch(/owned by uid 1000, not root/);
    const fine = tmp.file('mime.types');
    writeFileSync(fine, '# comment\ntypes {\n  text/html html;\n  text/css css;\n}\n', { mode: 0o644 });
    chownSync(fine, 0, 0);
    expect(await check(fine)).toEqual([]);
  });

  it('uses one host-name rule for the schema and the renderer: a trailing dot is refused by both', () => {
    const m = clone();
    m.upstreams.app.servers[0].address = 'app.example.net.';
    expect(errorsOf(m)).toEqual(['/nginx/upstreams/app/servers/0/address: must be a host name without a trailing dot, or an IP address (got "app.example.net.")']);
    m.upstreams.app.servers[0].address = 'app.example.net';
    expect(errorsOf(m)).toEqual([]);
    expect(render((load(m) as any).nginx)).toContain('server app.example.net:8080 ');
  });
});

describe('certificate checks and alarms', () => {
  const dir = tmp.file('certs');
  mkdirSync(dir, { recursive: true });
  const make = (name: string, days: number) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${dir}/${name}.key`, '-out', `${dir}/${name}.crt`, '-days', String(days), '-subj', `/CN=${name}.example.net`], { stdio: 'ignore' });
    chmodSync(`${dir}/${name}.key`, 0o600);
    return { certificate_file: `${dir}/${name}.crt`, key_file: `${dir}/${name}.key` };
  };

  it('check-time: a matching pair passes (expiry warned), a mismatched or unreadable one is an error with its path', async () => {
    const a = make('a', 5);
    const b = make('b', 400);
    const model = (tls: object) => ({ ...good(), stream: [], http: [{ ...good().http![0]!, tls: { ...good().http![0]!.tls!, ...tls } }] }) as NginxConfig;
    let out = new IssueCollector();
    await checkNginxFiles(model(a), out);
    expect(out.errors).toEqual([]);
    expect(out.warnings[0]).toMatchObject({ path: '/nginx/http/0/tls/certificate_file' });
    expect(out.warnings[0]!.message).toMatch(/expires in 4 days/);
    out = new IssueCollector();
    await checkNginxFiles(model({ certificate_file: a.certificate_file, key_file: b.key_file }), out);
    expect(out.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([`/nginx/http/0/tls/key_file: ${b.key_file} is not the key of ${a.certificate_file} (CN=a.example.net): Nginx would refuse the pair`]);
    out = new IssueCollector();
    await checkNginxFiles(model({ certificate_file: `${dir}/none.crt`, key_file: a.key_file }), out);
    expect(out.errors[0]).toMatchObject({ path: '/nginx/http/0/tls/certificate_file', message: `cannot read ${dir}/none.crt: no such file` });
    out = new IssueCollector();
    await checkNginxFiles(model({ ...b, ocsp_stapling: { resolvers: ['127.0.0.53'] } }), out);
    expect(out.errors[0]?.message).toMatch(/names no OCSP responder/);
  });

  it('raises each alarm once, escalates on expiry, and clears it once', () => {
    const fig = (days: number | null, error: string | null = null): CertificateFigure => ({
      certificate_file: '/c.crt', key_file: '/c.key', used_by: [], state: 'ok', subject: 'CN=c', names: [], not_after: '2030-01-01T00:00:00.000Z', days_left: days, fingerprint: 'AA', error, pending: false,
    });
    const active = new Map<string, CertificateAlarm>();
    expect(certificateAlarms(active, [fig(100)], 30)).toEqual([]);
    const raised = certificateAlarms(active, [fig(29)], 30);
    expect(raised).toMatchObject([{ id: 'certificate-expiring:/c.crt', active: true, severity: 'warning' }]);
    expect(raised[0]!.message).toMatch(/expires in 29 days/);
    expect(certificateAlarms(active, [fig(28)], 30)).toEqual([]);
    expect(certificateAlarms(active, [fig(-1)], 30)).toMatchObject([{ active: true, severity: 'critical' }]);
    expect(certificateAlarms(active, [fig(-1, 'key mismatch')], 30)).toMatchObject([{ id: 'certificate-invalid:/c.crt', active: true, severity: 'critical' }]);
    const cleared = certificateAlarms(active, [fig(365)], 30);
    expect(cleared.map((a) => [a.id, a.active])).toEqual([['certificate-expiring:/c.crt', false], ['certificate-invalid:/c.crt', false]]);
    expect(certificateAlarms(active, [fig(365)], 30)).toEqual([]);
  });
});

describe('README HTTPS section', () => {
  it('has an example the loader accepts (with the groups it names)', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### HTTPS, HTTP/2, WebSocket and SNI routing'), readme.indexOf('### Apply and rollback'));
    const json = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    expect(json).toBeDefined();
    const parsed = JSON.parse(`{${json!}}`) as Record<string, unknown>;
    const group = (port: number) => ({ servers: [{ address: '10.0.0.11', port }] });
    const r = load({ ...parsed, upstreams: { app: group(8080), a: group(443), b: group(444), other: group(445), pg: group(5432) } });
    expect(r.ok ? [] : r.errors).toEqual([]);
  });
});
