import { describe, expect, it } from 'vitest';
import { load, sample } from './helpers';

function errorsOf(nginx: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const r = load(nginx, extra);
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
}

const clone = () => structuredClone(sample) as typeof sample & Record<string, unknown>;

describe('nginx model: schema and semantic checks', () => {
  it('accepts the sample model', () => {
    const r = load(sample);
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it('keeps the published defaults of a config without an nginx section', () => {
    const r = load({ enabled: false });
    expect(r.ok && r.nginx).toEqual({ enabled: false, binary: '/usr/sbin/nginx', prefix: '/var/lib/twinvip/nginx' });
  });

  it.each([
    ['server name with ;', (m: any) => (m.http[0].server_names = ['a.example;evil'])],
    ['server name with }', (m: any) => (m.http[0].server_names = ['}'])],
    ['root with newline', (m: any) => (m.http[0].locations[0].root = '/srv\nuser root;')],
    ['root with $', (m: any) => (m.http[0].locations[0].root = '/srv/$host')],
    ['path with quote', (m: any) => (m.http[0].locations[0].path = '/a"b')],
    ['path with space', (m: any) => (m.http[0].locations[0].path = '/a b')],
    ['cache_control with ;', (m: any) => (m.http[0].locations[0].cache_control = 'public; x')],
    ['cache_control with $', (m: any) => (m.http[0].locations[0].cache_control = 'max-age=$x')],
    ['expires injection', (m: any) => (m.http[0].locations[0].expires = '1h; return 200')],
    ['hash key with ;', (m: any) => (m.upstreams.db.hash_key = '$remote_addr;')],
    ['hash key literal text', (m: any) => (m.upstreams.db.hash_key = 'foo')],
    ['server address with port', (m: any) => (m.upstreams.api.servers[0].address = '10.0.0.1:80')],
    ['server address with space', (m: any) => (m.upstreams.api.servers[0].address = '10.0.0.1 down')],
    ['listen address name', (m: any) => (m.http[0].listen[0].address = 'localhost')],
    ['upstream name with brace', (m: any) => (m.upstreams['a{'] = m.upstreams.api)],
    ['upstream reference with ;', (m: any) => (m.http[0].locations[2].upstream = 'api;')],
    ['user with quote', (m: any) => (m.user = "www'")],
    ['index with slash', (m: any) => (m.http[0].locations[0].index = ['../x'])],
  ])('refuses a hostile value: %s', (_name, mutate) => {
    const m = clone();
    mutate(m);
    expect(errorsOf(m).length).toBeGreaterThan(0);
  });

  it('refuses backup with ip_hash, hash and random, with the path of the server', () => {
    for (const balance of ['ip_hash', 'hash', 'random']) {
      const m = clone();
      (m.upstreams.api as Record<string, unknown>).balance = balance;
      if (balance === 'hash') (m.upstreams.api as Record<string, unknown>).hash_key = '$request_uri';
      expect(errorsOf(m)).toContain(`/nginx/upstreams/api/servers/2/backup: Nginx refuses backup servers with balance "${balance}"`);
    }
  });

  it('names the fix for cross-references and Nginx refusals', () => {
    const m = clone();
    m.http[0]!.locations[2] = { type: 'proxy', path: '/api/', upstream: 'apj' } as never;
    expect(errorsOf(m)).toContain('/nginx/http/0/locations/2/upstream: no upstream group named "apj"; did you mean "api"?');

    const h = clone();
    delete (h.upstreams.db as Record<string, unknown>).hash_key;
    expect(errorsOf(h)).toContain('/nginx/upstreams/db/hash_key: is required with balance "hash"');

    const s = clone();
    s.status = { address: '192.0.2.1', port: 8089 };
    expect(errorsOf(s)[0]).toMatch(/^\/nginx\/status\/address: the status endpoint must listen on loopback/);

    const d = clone();
    d.http[0]!.locations.push({ type: 'static', path: '/static/', root: '/x' } as never);
    expect(errorsOf(d)[0]).toMatch(/^\/nginx\/http\/0\/locations\/3\/path: duplicate location \/static\//);

    const k = clone();
    k.stream.push({ listen: { port: 9000 }, upstream: 'api' } as never);
    expect(errorsOf(k)).toContain('/nginx/upstreams/api/keepalive: the stream module has no upstream keepalive, and a stream server uses this group');

    const ip = clone();
    ip.upstreams.db = { balance: 'ip_hash', servers: [{ address: '10.0.0.21', port: 5432 }] } as never;
    expect(errorsOf(ip)).toContain('/nginx/upstreams/db/balance: "ip_hash" does not exist in the stream module, and a stream server uses this group');

    const allBackup = clone();
    allBackup.upstreams.dns = { servers: [{ address: '10.0.0.1', port: 53, backup: true }] } as never;
    expect(errorsOf(allBackup)).toContain('/nginx/upstreams/dns/servers: every server is a backup: the group needs at least one primary server');
  });

  it('refuses sockets that would collide at bind time (only visible at reload in Nginx)', () => {
    const a = clone();
    a.stream.push({ listen: { address: '127.0.0.1', port: 80 }, upstream: 'db' } as never);
    expect(errorsOf(a).some((e) => e.startsWith('/nginx/stream/2/listen: tcp 127.0.0.1:80 overlaps *:80'))).toBe(true);
    const b = clone();
    b.http.push({ listen: [{ address: '127.0.0.1', port: 8089 }], locations: [{ type: 'static', path: '/', root: '/srv' }] } as never);
    expect(errorsOf(b).some((e) => e.startsWith('/nginx/http/1/listen/0: tcp 127.0.0.1:8089 overlaps'))).toBe(true);
    // Same port on UDP and TCP is fine, and two http servers share a socket (virtual hosts).
    const c = clone();
    c.stream.push({ listen: { address: '192.0.2.10', port: 53 }, upstream: 'db' } as never);
    c.http.push({ listen: [{ port: 80 }], server_names: ['other.example.net'], locations: [{ type: 'static', path: '/', root: '/srv' }] } as never);
    expect(errorsOf(c)).toEqual([]);
    const dflt = clone();
    dflt.http.push({ listen: [{ port: 80, default_server: true }], locations: [{ type: 'static', path: '/', root: '/srv' }] } as never);
    expect(errorsOf(dflt)[0]).toMatch(/default_server: \*:80 already has a default server/);
  });

  it('checks upstream check settings', () => {
    const m = clone();
    (m.upstreams.api as Record<string, unknown>).check = { type: 'http', interval: 1, timeout: 2, body: '([' };
    const errs = errorsOf(m);
    expect(errs).toContain('/nginx/upstreams/api/check/timeout: must not exceed interval (1 s): runs would overlap');
    expect(errs.some((e) => e.startsWith('/nginx/upstreams/api/check/body: is not a valid regular expression'))).toBe(true);
  });

  it('warns about unused groups and track_nginx without Nginx control', () => {
    const m = clone();
    (m.upstreams as Record<string, unknown>).spare = { servers: [{ address: '10.0.0.9', port: 80 }] };
    const r = load(m);
    expect(r.ok && r.warnings.map((w) => w.path)).toContain('/nginx/upstreams/spare');
  });
});

describe('README nginx section', () => {
  it('has an example the loader accepts', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('<!-- nginx:start -->'), readme.indexOf('<!-- nginx:end -->'));
    const json = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    expect(json).toBeDefined();
    const parsed = JSON.parse(`{${json!}}`) as { nginx: Record<string, unknown> };
    const r = load(parsed.nginx);
    expect(r.ok ? [] : r.errors).toEqual([]);
  });
});
