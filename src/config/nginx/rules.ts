import { pointer, type IssueCollector } from '../../lib/issue-collector';
import { closest } from '../../lib/suggest';
import type { NginxConfig } from './schema';
import { DEFAULT_STATUS } from './defaults';
import { isLoopback } from './values';

const NO_BACKUP = new Set(['ip_hash', 'hash', 'random']);
// The stream module has no ip_hash and no upstream keepalive.
const STREAM_BALANCE = new Set(['round_robin', 'least_conn', 'hash', 'random']);

/**
 * Rules of the proxy model that JSON Schema cannot express, each one a refusal Nginx would give
 * later (at `nginx -t` or, worse, silently at reload) reported now with its path.
 */
export function checkNginx(config: { nginx: NginxConfig; instances: Record<string, { track_nginx?: unknown }> }, out: IssueCollector): void {
  const n: NginxConfig = config.nginx;
  const upstreams = n.upstreams ?? {};
  const names = Object.keys(upstreams);
  const usedBy = new Map<string, Set<'http' | 'stream'>>();
  const use = (name: string, ctx: 'http' | 'stream', at: string) => {
    if (!(name in upstreams)) {
      const guess = closest(name, names);
      out.error(at, `no upstream group named "${name}"${guess ? `; did you mean "${guess}"?` : ''}`, name, names.length ? names.join(', ') : 'define it under nginx.upstreams');
      return;
    }
    let set = usedBy.get(name);
    if (!set) usedBy.set(name, (set = new Set()));
    set.add(ctx);
  };

  // Sockets. Within one module Nginx shares a socket between servers (http virtual hosts) and
  // folds "1.2.3.4:80" into "*:80"; across modules (http vs stream) each binds on its own, so an
  // overlap fails with EADDRINUSE at reload, which Nginx reports only in its error log.
  interface Socket { proto: 'tcp' | 'udp'; address: string; port: number; module: 'http' | 'stream'; shareable: boolean; at: string }
  const sockets: Socket[] = [];
  const claim = (s: Socket) => {
    for (const o of sockets) {
      if (o.proto !== s.proto || o.port !== s.port) continue;
      const same = o.address === s.address;
      const overlap = same || o.address === '*' || s.address === '*';
      if (!overlap) continue;
      if (same && s.module === o.module && s.shareable && o.shareable) continue;
      if (!same && s.module === o.module) continue;
      out.error(s.at, `${s.proto} ${s.address}:${s.port} overlaps ${o.address}:${o.port} of ${o.at}`, undefined, 'another port, or the same server');
      return;
    }
    sockets.push(s);
  };
  const addr = (a: string | undefined) => (a === undefined ? '*' : a);

  const status = n.status ?? DEFAULT_STATUS;
  if (!isLoopback(status.address)) {
    out.error('/nginx/status/address', 'the status endpoint must listen on loopback (it exposes stub_status and the generation id)', status.address, '127.0.0.1 or ::1');
  }
  claim({ proto: 'tcp', address: status.address, port: status.port, module: 'http', shareable: false, at: '/nginx/status' });

  const defaultServers = new Map<string, string>();
  // Nginx keeps one set of options per socket: servers sharing address:port share TLS and HTTP/2.
  const socketTls = new Map<string, { ssl: boolean; http2: boolean; at: string }>();
  const logNames = new Map<string, string>();
  (n.http ?? []).forEach((server, si) => {
    const base = ['nginx', 'http', si] as const;
    server.listen.forEach((l, li) => {
      const at = pointer(...base, 'listen', li);
      claim({ proto: 'tcp', address: addr(l.address), port: l.port, module: 'http', shareable: true, at });
      const ssl = l.ssl ?? server.tls !== undefined;
      if (ssl && !server.tls) {
        out.error(`${at}/ssl`, 'TLS on a server without tls settings', true, 'add tls (certificate_file, key_file) to the server, or ssl: false');
        return;
      }
      const http2 = ssl && server.tls!.http2;
      const key = `${addr(l.address)}:${l.port}`;
      const prev = socketTls.get(key);
      if (!prev) socketTls.set(key, { ssl, http2, at });
      else if (prev.ssl !== ssl || prev.http2 !== http2) {
        out.error(at, `${key} is ${ssl ? 'TLS' : 'plain'}${http2 ? ' with HTTP/2' : ''} here but ${prev.ssl ? 'TLS' : 'plain'}${prev.http2 ? ' with HTTP/2' : ''} at ${prev.at}; Nginx has one set of options per socket`, undefined, 'the same ssl and tls.http2 on every server of this address:port');
      }
    });
    if (server.tls && server.listen.every((l) => l.ssl === false)) out.error(pointer(...base, 'tls'), 'tls is set but every listen socket has ssl: false', undefined, 'ssl: true (or leave it out) on at least one listen');
    const hsts = server.tls?.hsts;
    if (hsts?.preload && (!hsts.include_subdomains || hsts.max_age < 31536000)) {
      out.error(pointer(...base, 'tls', 'hsts', 'preload'), 'preload lists require include_subdomains and max_age of at least 31536000', true, 'include_subdomains: true, max_age >= 31536000, or preload: false');
    }
    if (server.redirect_from_http !== undefined) {
      const at = pointer(...base, 'redirect_from_http');
      if (!server.tls) out.error(at, 'redirects to https, but the server has no tls', server.redirect_from_http, 'add tls, or remove redirect_from_http');
      for (const a of new Set(server.listen.map((l) => addr(l.address)))) {
        claim({ proto: 'tcp', address: a, port: server.redirect_from_http, module: 'http', shareable: true, at });
        const key = `${a}:${server.redirect_from_http}`;
        const prev = socketTls.get(key);
        if (prev?.ssl) out.error(at, `${key} is a TLS socket (${prev.at}); the redirect server needs plain HTTP`, server.redirect_from_http, 'another port, e.g. 80');
        else if (!prev) socketTls.set(key, { ssl: false, http2: false, at });
      }
    }
    if (server.logs) {
      const prev = logNames.get(server.logs.name);
      if (prev !== undefined) out.error(pointer(...base, 'logs', 'name'), `log name "${server.logs.name}" is also used by ${prev}: both servers would write the same files`, server.logs.name, 'a name per server');
      else logNames.set(server.logs.name, pointer(...base));
    }
    server.listen.forEach((l, li) => {
      if (!l.default_server) return;
      const key = `${addr(l.address)}:${l.port}`;
      const prev = defaultServers.get(key);
      if (prev !== undefined) out.error(pointer(...base, 'listen', li, 'default_server'), `${key} already has a default server (${prev}); Nginx refuses a second`, true, 'one default_server per address:port');
      else defaultServers.set(key, pointer(...base, 'listen', li));
    });
    const seen = new Map<string, number>();
    server.locations.forEach((loc, li) => {
      const at = pointer(...base, 'locations', li);
      const key = `${loc.exact ? '=' : ''}${loc.path}`;
      const prev = seen.get(key);
      if (prev !== undefined) out.error(`${at}/path`, `duplicate location ${loc.exact ? '= ' : ''}${loc.path} (also locations/${prev}); Nginx refuses it`, loc.path, 'one location per path');
      else seen.set(key, li);
      if (loc.type === 'proxy') use(loc.upstream, 'http', `${at}/upstream`);
    });
  });

  (n.stream ?? []).forEach((server, si) => {
    const at = pointer('nginx', 'stream', si);
    const l = server.listen;
    claim({ proto: l.protocol, address: addr(l.address), port: l.port, module: 'stream', shareable: false, at: `${at}/listen` });
    use(server.upstream, 'stream', `${at}/upstream`);
    for (const [name, group] of Object.entries(server.sni_routes ?? {})) use(group, 'stream', `${at}/sni_routes/${name}`);
    if (l.protocol === 'udp' && (server.tls || server.sni_routes)) {
      out.error(`${at}/${server.tls ? 'tls' : 'sni_routes'}`, 'TLS and SNI routing need a TCP listener', 'udp', 'protocol: "tcp"');
    }
    if (server.tls && server.sni_routes) {
      out.error(`${at}/sni_routes`, 'SNI routing passes TLS through undecrypted; it cannot be combined with tls (termination) on the same listener', undefined, 'remove tls for passthrough, or sni_routes for termination');
    }
  });

  for (const [name, up] of Object.entries(upstreams)) {
    const base = ['nginx', 'upstreams', name] as const;
    if (NO_BACKUP.has(up.balance)) {
      up.servers.forEach((s, i) => {
        if (s.backup) out.error(pointer(...base, 'servers', i, 'backup'), `Nginx refuses backup servers with balance "${up.balance}"`, true, 'backup: false, or balance round_robin / least_conn');
      });
    }
    if (up.balance === 'hash' && up.hash_key === undefined) {
      out.error(pointer(...base, 'hash_key'), 'is required with balance "hash"', undefined, 'e.g. "$remote_addr" or "$request_uri"');
    }
    if (up.balance !== 'hash' && up.hash_key !== undefined) out.warn(pointer(...base, 'hash_key'), `ignored: balance is "${up.balance}", not "hash"`);
    if (up.balance !== 'hash' && up.hash_consistent) out.warn(pointer(...base, 'hash_consistent'), `ignored: balance is "${up.balance}", not "hash"`);
    if (up.servers.every((s) => s.backup)) out.error(pointer(...base, 'servers'), 'every server is a backup: the group needs at least one primary server', undefined, 'backup: false on at least one server');
    const endpoints = new Map<string, number>();
    up.servers.forEach((s, i) => {
      const key = `${s.address}:${s.port}`;
      const prev = endpoints.get(key);
      if (prev !== undefined) out.error(pointer(...base, 'servers', i), `${key} is listed twice (also servers/${prev})`, key, 'use weight for a larger share');
      else endpoints.set(key, i);
    });
    const ctx = usedBy.get(name);
    if (!ctx) out.warn(pointer(...base), 'is not used by any http location or stream server');
    if (ctx?.has('stream')) {
      if (!STREAM_BALANCE.has(up.balance)) out.error(pointer(...base, 'balance'), `"${up.balance}" does not exist in the stream module, and a stream server uses this group`, up.balance, 'round_robin, least_conn, hash, random');
      if (up.keepalive !== undefined) out.error(pointer(...base, 'keepalive'), 'the stream module has no upstream keepalive, and a stream server uses this group', up.keepalive, 'remove keepalive, or a separate group for stream');
    }
    const check = up.check;
    if (check) {
      if (check.timeout > check.interval) out.error(pointer(...base, 'check', 'timeout'), `must not exceed interval (${check.interval} s): runs would overlap`, check.timeout, `0.001..${check.interval}`);
      if (check.body !== undefined) {
        try {
          new RegExp(check.body);
        } catch (err) {
          out.error(pointer(...base, 'check', 'body'), `is not a valid regular expression: ${(err as Error).message}`, check.body);
        }
      }
      const web = check.type === 'http' || check.type === 'https';
      if (!web && (check.body !== undefined || check.host !== undefined)) out.warn(pointer(...base, 'check'), 'body and host apply to http and https checks only');
      if (check.type === 'script' && check.script === undefined) out.error(pointer(...base, 'check', 'script'), 'is required with type script', undefined, 'the program and its arguments, e.g. ["/usr/local/bin/check-db", "10.0.1.1"]');
      if (check.type !== 'script' && (check.script !== undefined || check.user !== undefined)) out.warn(pointer(...base, 'check'), 'script and user apply to script checks only');
      if (ctx?.has('stream') && [...(n.stream ?? [])].some((s) => s.upstream === name && s.listen.protocol === 'udp') && check.type !== 'tcp') {
        out.warn(pointer(...base, 'check', 'type'), 'a UDP stream group checked over HTTP: make sure the servers answer HTTP on the same port');
      }
    }
  }

  if (n.enabled && (n.http ?? []).length === 0 && (n.stream ?? []).length === 0) {
    out.warn('/nginx', 'enabled without http or stream servers: Nginx serves only the status endpoint');
  }
  if (!n.enabled) {
    for (const [name, inst] of Object.entries(config.instances)) {
      if (inst.track_nginx !== undefined && inst.track_nginx !== false) out.warn(pointer('instances', name, 'track_nginx'), 'nginx.enabled is false: the nginx track is never down');
    }
  }
}
