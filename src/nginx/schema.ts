import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Enum, Path, Section } from '../config/schema/helpers';
import { PATTERNS } from './values';

// The proxy model of the `nginx` section. Every string that reaches nginx.conf is constrained to
// a whitelist pattern (values.ts); the renderer checks again. Top-level knobs beyond the original
// placeholder are optional without schema defaults (the code applies them, settings.ts) so a
// config without an nginx section keeps its published defaults.

// Local file paths and the workers' user can never be changed by a config push (x-local-only,
// see src/config/local-only.ts): a pushed static root could otherwise serve /etc/twinvip.
const LOCAL_ONLY_PATTERNS: Partial<Record<keyof typeof PATTERNS, string>> = { fsPath: 'names a local file', fsGlob: 'names local files', user: 'chooses the user programs run as' };

const Str = (pattern: keyof typeof PATTERNS, description: string, valid: string, extra: Record<string, unknown> = {}) =>
  Type.String({ pattern: PATTERNS[pattern], description, 'x-valid': valid, ...(LOCAL_ONLY_PATTERNS[pattern] ? { 'x-local-only': LOCAL_ONLY_PATTERNS[pattern] } : {}), ...extra });

const Port = (description: string) => Type.Integer({ minimum: 1, maximum: 65535, description });
const Secs = (description: string, def: number, max = 3600) => Type.Number({ minimum: 0.001, maximum: max, default: def, description });

/** Records keyed by name without a schema default (NamedMap has one). */
function ByName<T extends TSchema>(value: T, description: string) {
  return Type.Unsafe<Record<string, Static<T>>>({
    type: 'object',
    propertyNames: { pattern: PATTERNS.name, 'x-valid': '1-64 characters: letters, digits, "_", "." or "-"' },
    additionalProperties: value,
    maxProperties: 256,
    description,
  });
}

const ListenAddress = Type.Union([Type.String({ format: 'ip' }), Type.Literal('*')], {
  description: 'Address to listen on; "*" (default) = every address, which also serves a VIP that arrives later (hot standby).',
  'x-valid': 'an IPv4/IPv6 address or "*"',
});

const HttpListen = Section(
  {
    address: Type.Optional(ListenAddress),
    port: Port('TCP port.'),
    default_server: Type.Boolean({ default: false, description: 'This server answers requests whose Host matches no server_names.' }),
  },
  { description: 'One listen socket of an http server.' },
);

const LocationCommon = {
  path: Str('uriPath', 'URI prefix the location matches, e.g. /static/.', 'an absolute URI path of letters, digits and ._~/-'),
  exact: Type.Boolean({ default: false, description: 'Match the path exactly (location = path) instead of as a prefix.' }),
};

const StaticLocation = Section(
  {
    type: Type.Literal('static', { description: 'Files served by Nginx itself.' }),
    ...LocationCommon,
    root: Str('fsPath', 'Directory holding the files; the request URI is appended (Nginx root).', 'an absolute path of letters, digits and ._/-'),
    index: Type.Array(Str('fileName', 'Index file.', 'a file name'), { default: ['index.html'], maxItems: 8, description: 'Index files tried for a directory.' }),
    expires: Type.Optional(Str('expires', 'Expires/Cache-Control max-age (Nginx expires), e.g. 1h, 30d, max, off.', 'off, epoch, max or a time such as 3600, 30m, 1h, 7d')),
    cache_control: Type.Optional(Str('cacheControl', 'Extra Cache-Control value, e.g. "public, immutable".', 'directives of letters, digits, "=", "," and "-", separated by single spaces')),
  },
  { description: 'static: files from a directory with cache headers.' },
);

const ProxyLocation = Section(
  {
    type: Type.Literal('proxy', { description: 'Proxied to an upstream group.' }),
    ...LocationCommon,
    upstream: Str('name', 'Upstream group (in upstreams) the requests go to.', 'the name of an upstream group'),
    connect_timeout: Secs('Seconds to connect to an upstream server (proxy_connect_timeout).', 5, 75),
    read_timeout: Secs('Seconds between two reads from the upstream (proxy_read_timeout).', 60),
    send_timeout: Secs('Seconds between two writes to the upstream (proxy_send_timeout).', 60),
    next_upstream_tries: Type.Integer({ minimum: 0, maximum: 16, default: 0, description: 'Servers tried for one request; 0 = all (proxy_next_upstream_tries).' }),
  },
  { description: 'proxy: proxied with Host, X-Real-IP, X-Forwarded-For and X-Forwarded-Proto set.' },
);

export const LocationSchema = Type.Unsafe<Static<typeof StaticLocation> | Static<typeof ProxyLocation>>({
  type: 'object',
  description: 'A location. `type` selects static files or a proxy.',
  discriminator: { propertyName: 'type' },
  required: ['type'],
  oneOf: [StaticLocation, ProxyLocation],
});

export const HttpServerSchema = Section(
  {
    listen: Type.Array(HttpListen, { minItems: 1, maxItems: 16, description: 'Listen sockets.' }),
    server_names: Type.Array(Str('serverName', 'Host name.', 'a host name, *.domain, or "_"'), { default: [], maxItems: 64, description: 'Host names this server answers (server_name); empty = any.' }),
    locations: Type.Array(LocationSchema, { minItems: 1, maxItems: 256, description: 'Locations: static files and proxied paths (static/dynamic separation).' }),
  },
  { description: 'An L7 http server.' },
);

export const StreamServerSchema = Section(
  {
    listen: Section(
      {
        address: Type.Optional(ListenAddress),
        port: Port('Port.'),
        protocol: Enum(['tcp', 'udp'] as const, { default: 'tcp', description: 'Transport.' }),
      },
      { description: 'Listen socket.' },
    ),
    upstream: Str('name', 'Upstream group the connections go to.', 'the name of an upstream group'),
    connect_timeout: Secs('Seconds to connect to an upstream server (proxy_connect_timeout).', 5, 75),
    timeout: Secs('Idle seconds before a proxied connection is closed (proxy_timeout).', 600, 86400),
  },
  { description: 'An L4 stream server (TCP or UDP).' },
);

export const UpstreamServerSchema = Section(
  {
    address: Type.String({ format: 'host-or-ip', description: 'Server address or host name (resolved when Nginx loads the config).' }),
    port: Port('Server port.'),
    weight: Type.Integer({ minimum: 1, maximum: 1000, default: 1, description: 'Share of requests (round robin, least_conn).' }),
    max_fails: Type.Integer({ minimum: 0, maximum: 1000, default: 1, description: 'Failed attempts within fail_timeout before Nginx stops using the server for fail_timeout (0 = never).' }),
    fail_timeout: Type.Integer({ minimum: 1, maximum: 3600, default: 10, description: 'Whole seconds (Nginx fail_timeout).' }),
    backup: Type.Boolean({ default: false, description: 'Used only when every primary server is unavailable (not with ip_hash, hash, random).' }),
  },
  { description: 'An upstream server.' },
);

export const UpstreamCheckSchema = Section(
  {
    type: Enum(['tcp', 'http'] as const, { description: 'tcp: connect; http: GET path and expect a status.' }),
    path: Type.String({ pattern: '^/[\\x21-\\x7e]{0,1023}$', default: '/', description: 'Path fetched (http).', 'x-valid': 'an absolute path with query, no spaces' }),
    host: Type.Optional(Type.String({ format: 'host-or-ip', description: 'Host header sent (http); default the server address.' })),
    status: Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { default: [200], minItems: 1, maxItems: 32, description: 'Healthy statuses (http).' }),
    body: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'JavaScript regular expression the body must match (http).' })),
    interval: Secs('Seconds between checks of one server.', 2),
    timeout: Secs('Seconds before a check counts as failed; at most interval.', 1),
    rise: Type.Integer({ minimum: 1, maximum: 100, default: 2, description: 'Successes in a row that put a down server back.' }),
    fall: Type.Integer({ minimum: 1, maximum: 100, default: 3, description: 'Failures in a row that mark a server down.' }),
  },
  { description: 'Active health check of every server of the group (open-source Nginx has only passive checks).' },
);

export const BALANCE = ['round_robin', 'least_conn', 'ip_hash', 'hash', 'random'] as const;

export const UpstreamSchema = Section(
  {
    balance: Enum(BALANCE, { default: 'round_robin', description: 'Load-balancing method: round_robin (weighted), least_conn, ip_hash, hash (by hash_key), random.' }),
    hash_key: Type.Optional(Str('hashKey', 'Key of balance "hash": Nginx variables, e.g. $remote_addr or $request_uri.', 'one to four Nginx variables, e.g. $remote_addr$request_uri')),
    hash_consistent: Type.Boolean({ default: false, description: 'Ketama consistent hashing (balance hash).' }),
    servers: Type.Array(UpstreamServerSchema, { minItems: 1, maxItems: 256, description: 'Servers of the group.' }),
    keepalive: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096, description: 'Idle keep-alive connections to the servers kept per worker (http only).' })),
    check: Type.Optional(UpstreamCheckSchema),
  },
  { description: 'An upstream group.' },
);

export const NginxSchema = Section(
  {
    enabled: Type.Boolean({ default: false, description: 'twinvip renders, applies and supervises Nginx.' }),
    binary: Path('Nginx executable, by absolute path.', { default: '/usr/sbin/nginx' }),
    prefix: Path('Nginx prefix (-p): rendered config, pid file, logs, temp dirs.', { default: '/var/lib/twinvip/nginx' }),
    keep_running: Type.Optional(Type.Boolean({ description: 'Leave Nginx running when twinvip stops (default false: stop it gracefully).' })),
    user: Type.Optional(Str('user', 'User the workers run as (Nginx user); default Nginx\'s own (nobody).', 'a system user name')),
    worker_processes: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 64 }), Type.Literal('auto')], { description: 'Worker processes; default 1.', 'x-valid': '1..64 or "auto"' })),
    worker_shutdown_timeout: Type.Optional(Type.Number({ minimum: 1, maximum: 3600, description: 'Seconds old workers may finish their connections after a reload (default 10); bounds long stream connections.' })),
    mime_types: Type.Optional(Str('fsPath', 'MIME types file included in http (default /etc/nginx/mime.types).', 'an absolute path')),
    modules: Type.Optional(Str('fsGlob', 'Module loading include, for the stream module (default /etc/nginx/modules-enabled/*.conf).', 'an absolute path, * allowed')),
    status: Type.Optional(
      Section(
        {
          address: Type.String({ format: 'ip', default: '127.0.0.1', description: 'Loopback address of the status endpoint.' }),
          port: Type.Integer({ minimum: 1, maximum: 65535, default: 8089, description: 'Port of the status endpoint (stub_status and the generation probe).' }),
        },
        { description: 'Loopback status endpoint: stub_status for metrics, and the generation id that proves a reload took effect. Default 127.0.0.1:8089.' },
      ),
    ),
    reload: Type.Optional(
      Section(
        {
          min_interval: Type.Number({ minimum: 0, maximum: 3600, default: 2, description: 'Seconds between two reloads; changes in between are coalesced into one.' }),
          verify_timeout: Type.Number({ minimum: 0.5, maximum: 60, default: 5, description: 'Seconds to wait for the new generation to serve before rolling back (Nginx retries a busy port for about 2.5 s).' }),
        },
        { description: 'Reload rate limit and verification.' },
      ),
    ),
    supervise: Type.Optional(
      Section(
        {
          restart_min: Type.Number({ minimum: 0.1, maximum: 60, default: 1, description: 'First restart delay after Nginx died, seconds; doubles up to restart_max.' }),
          restart_max: Type.Number({ minimum: 1, maximum: 3600, default: 30, description: 'Longest restart delay, seconds.' }),
          health_interval: Type.Number({ minimum: 0.1, maximum: 60, default: 1, description: 'Seconds between probes of the status endpoint (the nginx track).' }),
          health_timeout: Type.Number({ minimum: 0.1, maximum: 60, default: 1, description: 'Seconds a health probe may take.' }),
          fall: Type.Integer({ minimum: 1, maximum: 100, default: 2, description: 'Failed probes in a row before the nginx track is down.' }),
          rise: Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'Good probes in a row before the nginx track is up again.' }),
        },
        { description: 'Supervision of the Nginx master and its health (VRRP track_nginx).' },
      ),
    ),
    upstreams: Type.Optional(ByName(UpstreamSchema, 'Upstream groups by name.')),
    http: Type.Optional(Type.Array(HttpServerSchema, { maxItems: 256, description: 'L7 http servers.' })),
    stream: Type.Optional(Type.Array(StreamServerSchema, { maxItems: 256, description: 'L4 stream servers (TCP/UDP).' })),
  },
  { default: {}, description: 'The on-box Nginx (L4 stream + L7 http proxy).' },
);

export type NginxConfig = Static<typeof NginxSchema>;
export type UpstreamConfig = Static<typeof UpstreamSchema>;
export type UpstreamServerConfig = Static<typeof UpstreamServerSchema>;
export type UpstreamCheckConfig = Static<typeof UpstreamCheckSchema>;
export type HttpServerConfig = Static<typeof HttpServerSchema>;
export type StreamServerConfig = Static<typeof StreamServerSchema>;
export type LocationConfig = Static<typeof LocationSchema>;
