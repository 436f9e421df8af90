import { describe, expect, it } from 'vitest';
import { renderNginxConf, resolveSettings, type NginxConfig } from '../../../src/nginx';
import { assertSafe, isSafe, PATTERNS } from '../../../src/config/nginx/values';
import { load, sample } from './helpers';

function good(): NginxConfig {
  const r = load(sample);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.nginx;
}

function render(m: NginxConfig, failing: string[] = []) {
  const r = renderNginxConf({ model: m, settings: resolveSettings(m), failing: new Set(failing) });
  if (!r.ok) throw new Error(r.error);
  return r;
}

describe('renderNginxConf', () => {
  it('is deterministic: same model, same bytes; a different model, a different generation', () => {
    const a = render(good());
    const b = render(structuredClone(good()));
    expect(b.text).toBe(a.text);
    expect(b.generation).toBe(a.generation);
    const other = good();
    other.upstreams!.api!.servers[0]!.weight = 4;
    expect(render(other).generation).not.toBe(a.generation);
    // Map order in the file does not matter: upstreams are rendered sorted.
    const reordered = good();
    reordered.upstreams = Object.fromEntries(Object.entries(reordered.upstreams!).reverse());
    expect(render(reordered).text).toBe(a.text);
  });

  it('keeps what Nginx needs: modules include, mime.types, zones, worker_shutdown_timeout, own prefix paths', () => {
    const { text, generation } = render(good());
    expect(text).toContain('include /etc/nginx/modules-enabled/*.conf;');
    expect(text).toContain('include /etc/nginx/mime.types;');
    expect(text).toContain('worker_shutdown_timeout 10000ms;');
    expect(text).toContain('pid /var/lib/twinvip/nginx/run/nginx.pid;');
    expect(text).toContain('error_log /var/lib/twinvip/nginx/logs/error.log warn;');
    expect(text).toContain('proxy_temp_path /var/lib/twinvip/nginx/temp/proxy;');
    expect(text).toContain('zone http_api 64k;');
    expect(text).toContain('zone stream_db 64k;');
    expect(text).toContain(`# generation ${generation}`);
    expect(text).toContain(`add_header X-Twinvip-Generation ${generation} always;`);
    expect(text).toContain('listen 127.0.0.1:8089;');
    expect(text).toContain('stub_status;');
    expect(text).not.toContain('/etc/nginx/nginx.conf');
  });

  it('renders the model: balancing before keepalive, weights, backup, hash, static cache headers, proxy headers, stream tcp/udp, IPv6', () => {
    const { text } = render(good());
    expect(text).toMatch(/upstream api \{\n\s+zone http_api 64k;\n\s+least_conn;\n\s+server 10\.0\.0\.11:8080 weight=3 max_fails=1 fail_timeout=10s;\n\s+server 10\.0\.0\.12:8080 weight=1 max_fails=1 fail_timeout=10s;\n\s+server 10\.0\.0\.13:8080 weight=1 max_fails=1 fail_timeout=10s backup;\n\s+keepalive 16;\n/);
    expect(text).toContain('hash $remote_addr consistent;');
    expect(text).toContain('server db2.example.net:5432 ');
    expect(text).toContain('server [2001:db8::53]:53 ');
    expect(text).toContain('listen 80 default_server;');
    expect(text).toContain('listen [2001:db8::1]:80;');
    expect(text).toContain('server_name www.example.net *.example.org;');
    expect(text).toMatch(/location \/static\/ \{\n\s+root \/srv\/www;\n\s+index index\.html;\n\s+expires 7d;\n\s+add_header Cache-Control "public, immutable" always;/);
    expect(text).toContain('location = /favicon.ico {');
    for (const h of ['Host $host', 'X-Real-IP $remote_addr', 'X-Forwarded-For $proxy_add_x_forwarded_for', 'X-Forwarded-Proto $scheme']) expect(text).toContain(`proxy_set_header ${h};`);
    expect(text).toContain('proxy_read_timeout 30000ms;');
    expect(text).toContain('listen 5432;');
    expect(text).toContain('listen 192.0.2.10:53 udp;');
    expect(text).toContain('proxy_timeout 5000ms;');
    // The stream block has no keepalive and no http-only groups.
    const stream = text.slice(text.indexOf('\nstream {'));
    expect(stream).not.toContain('keepalive');
    expect(stream).not.toContain('upstream api');
  });

  it('marks failing servers down (not removed), and fails open when every server of a group fails', () => {
    const one = render(good(), ['api/10.0.0.12:8080']);
    expect(one.text).toContain('server 10.0.0.12:8080 weight=1 max_fails=1 fail_timeout=10s down;');
    expect(one.down).toEqual(['api/10.0.0.12:8080']);
    const all = render(good(), ['dns/[2001:db8::53]:53']);
    expect(all.text).not.toContain(' down;');
    expect(all.failOpen).toEqual(['dns']);
    // Primaries down while the backup lives is allowed: that is what backup is for.
    const primaries = render(good(), ['api/10.0.0.11:8080', 'api/10.0.0.12:8080']);
    expect(primaries.down).toHaveLength(2);
    expect(primaries.failOpen).toEqual([]);
  });

  it('refuses to render a hostile value that bypassed the schema (renderer-level whitelist)', () => {
    const hostile = [
      (m: NginxConfig) => (m.http![0]!.server_names[0] = 'a; include /etc/passwd'),
      (m: NginxConfig) => ((m.http![0]!.locations[0] as { root: string }).root = '/srv}\nserver{listen 1;'),
      (m: NginxConfig) => ((m.http![0]!.locations[0] as { cache_control?: string }).cache_control = 'public" always; return 200 "x'),
      (m: NginxConfig) => (m.upstreams!.db!.hash_key = '$remote_addr; }'),
      (m: NginxConfig) => (m.upstreams!.api!.servers[0]!.address = '10.0.0.1:80 down;#'),
      (m: NginxConfig) => ((m.http![0]!.locations[2] as { path: string }).path = '/api/ { return 200; } location /x'),
      (m: NginxConfig) => (m.stream![0]!.listen.port = 80.5),
      (m: NginxConfig) => ((m.http![0]!.locations[0] as { expires?: string }).expires = '$http_x'),
      (m: NginxConfig) => (m.user = "root'"),
    ];
    for (const mutate of hostile) {
      const m = good();
      mutate(m);
      const r = renderNginxConf({ model: m, settings: resolveSettings(m) });
      expect(r.ok, String(mutate)).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/^refusing to render/);
    }
  });

  it('whitelists reject every directive-breaking character in every kind', () => {
    for (const kind of Object.keys(PATTERNS) as (keyof typeof PATTERNS)[]) {
      for (const bad of [';', '}', '{', '"', "'", '\n', '#', ' ;', '\\']) {
        expect(isSafe(kind, `a${bad}b`), `${kind} ${JSON.stringify(bad)}`).toBe(false);
      }
      if (kind !== 'hashKey') expect(isSafe(kind, 'a$b'), kind).toBe(false);
    }
    expect(() => assertSafe('address', '127.0.0.1;', 'x')).toThrow(/refusing/);
  });
});
