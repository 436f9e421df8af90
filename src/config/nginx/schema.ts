import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Command, Enum, LOCAL_ONLY, Path, Section } from '../../lib/schema-helpers';
import { PATTERNS } from './values';

// The proxy model of the `nginx` section. Every string that reaches nginx.conf is constrained to
// a whitelist pattern (values.ts); the renderer checks again. Top-level knobs beyond the original
// placeholder are optional without schema defaults (the code applies them, settings.ts) so a
// config without an nginx section keeps its published defaults.

export { DEFAULT_STATUS } from './defaults';

// Local file paths and the workers' user can never be changed by a config push (x-local-only,
// see src/config/local-only.ts): a pushed static root could otherwise serve /etc/twinvip.
const LOCAL_ONLY_PATTERNS: Partial<Record<keyof typeof PATTERNS, string>> = { fsPath: 'names a local file', modulesInclude: 'names local files', user: 'chooses the user programs run as' };

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
    ssl: Type.Optional(Type.Boolean({ description: 'TLS on this socket; default true when the server has `tls`, else false.' })),
  },
  { description: 'One listen socket of an http server.' },
);

export const TLS_PROFILES = ['intermediate', 'modern'] as const;

// Certificate and key paths are `*_file` fields: local to the box (a fleet push never sets them).
const TlsCommon = {
  certificate_file: Str('fsPath', 'Certificate (PEM), the chain after the leaf; checked at `twinvip check`: it parses, matches the key, expiry read.', 'an absolute path of letters, digits and ._/-'),
  key_file: Str('fsPath', 'Private key (PEM, unencrypted) of the certificate; must be owned by root and readable by root only (mode 0600 or 0400).', 'an absolute path of letters, digits and ._/-'),
  profile: Enum(TLS_PROFILES, {
    default: 'intermediate',
    description: 'Protocols and ciphers after Mozilla\'s server-side TLS profiles: intermediate (TLS 1.2 with ECDHE AEAD ciphers, and TLS 1.3) or modern (TLS 1.3 only).',
  }),
  session_cache: Type.Boolean({ default: true, description: 'Shared TLS session cache (10 MB, 1 day; session tickets off), so returning clients skip the full handshake.' }),
};

const HttpTls = Section(
  {
    ...TlsCommon,
    http2: Type.Boolean({ default: true, description: 'HTTP/2 on the TLS sockets (ALPN h2).' }),
    hsts: Type.Optional(
      Section(
        {
          max_age: Type.Integer({ minimum: 0, maximum: 63072000, default: 31536000, description: 'Seconds browsers keep to HTTPS (Strict-Transport-Security max-age).' }),
          include_subdomains: Type.Boolean({ default: false, description: 'includeSubDomains.' }),
          preload: Type.Boolean({ default: false, description: 'preload (only with include_subdomains and max_age >= 31536000).' }),
        },
        { description: 'Strict-Transport-Security header on every answer.' },
      ),
    ),
    ocsp_stapling: Type.Optional(
      Section(
        {
          resolvers: Type.Array(Type.String({ format: 'ip' }), { minItems: 1, maxItems: 4, description: 'DNS servers Nginx uses to reach the OCSP responder.' }),
          trusted_certificate_file: Type.Optional(Str('fsPath', 'CA chain (PEM) that verifies the OCSP answers (ssl_stapling_verify); without it answers are stapled unverified.', 'an absolute path')),
        },
        { description: 'OCSP stapling: the certificate must name an OCSP responder.' },
      ),
    ),
  },
  { description: 'TLS termination of an http server.' },
);

const StreamTls = Section({ ...TlsCommon }, { description: 'TLS termination on a stream listener: clients speak TLS, the upstream gets the plain stream.' });

const RateLimit = Section(
  {
    rate: Type.Integer({ minimum: 1, maximum: 100000, description: 'Requests allowed per client address per `per`.' }),
    per: Enum(['second', 'minute'] as const, { default: 'second', description: 'Unit of rate.' }),
    burst: Type.Integer({ minimum: 0, maximum: 100000, default: 0, description: 'Requests above the rate queued (or, with nodelay, served at once) before 429.' }),
    nodelay: Type.Boolean({ default: true, description: 'Serve the burst at once instead of spacing it out.' }),
    zone_size: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'Megabytes of shared memory for client states (about 16000 addresses per MB); when full, new clients get 429.' }),
  },
  { description: 'Per-client-address request rate limit (limit_req), answered with 429 beyond it.' },
);

const LocationCommon = {
  path: Str('uriPath', 'URI prefix the location matches, e.g. /static/.', 'an absolute URI path of letters, digits and ._~/-'),
  exact: Type.Boolean({ default: false, description: 'Match the path exactly (location = path) instead of as a prefix.' }),
  rate_limit: Type.Optional(RateLimit),
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
    read_timeout: Type.Optional(Type.Number({ minimum: 0.001, maximum: 86400, description: 'Seconds between two reads from the upstream (proxy_read_timeout); default 60, 3600 with websocket.' })),
    send_timeout: Secs('Seconds between two writes to the upstream (proxy_send_timeout).', 60),
    next_upstream_tries: Type.Integer({ minimum: 0, maximum: 16, default: 0, description: 'Servers tried for one request; 0 = all (proxy_next_upstream_tries).' }),
    websocket: Type.Boolean({ default: false, description: 'Pass WebSocket upgrades (Upgrade/Connection headers) to the upstream; read_timeout then defaults to 3600 s.' }),
    buffering: Type.Boolean({ default: true, description: 'false: stream answers to the client as they arrive (proxy_buffering off), for server-sent events and long polls.' }),
    max_body_size: Type.Optional(Str('size', 'Largest request body (client_max_body_size), e.g. 10m; 0 = unlimited; Nginx\'s default is 1m.', 'bytes, or a number with k, m or g')),
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
    tls: Type.Optional(HttpTls),
    redirect_from_http: Type.Optional(Port('Also listen on this plain-HTTP port (same addresses and names) and answer every request with a 301 to https.')),
    security_headers: Type.Boolean({ default: false, description: 'Add X-Content-Type-Options: nosniff, X-Frame-Options: SAMEORIGIN and Referrer-Policy: strict-origin-when-cross-origin to every answer.' }),
    logs: Type.Optional(
      Section(
        {
          name: Str('logName', 'Log name: files <prefix>/logs/<name>.access.log and <name>.error.log, or the syslog tag.', '1-32 characters: a-z, 0-9, "_"'),
          to: Enum(['file', 'syslog'] as const, { default: 'file', description: 'file: under the Nginx prefix (rotated by the image\'s logrotate); syslog: the local syslog socket /dev/log.' }),
          access: Type.Boolean({ default: true, description: 'Access log (combined format).' }),
          static_access: Type.Boolean({ default: true, description: 'false: no access log lines for static locations.' }),
          error_level: Enum(['error', 'warn', 'notice', 'info'] as const, { default: 'warn', description: 'Lowest level of the error log.' }),
          facility: Enum(['local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'] as const, { default: 'local7', description: 'Syslog facility (to: syslog).' }),
        },
        { description: 'Access and error logs of this server (default: none; errors go to the main error log).' },
      ),
    ),
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
    upstream: Str('name', 'Upstream group the connections go to (with sni_routes: those whose server name matches no route).', 'the name of an upstream group'),
    connect_timeout: Secs('Seconds to connect to an upstream server (proxy_connect_timeout).', 5, 75),
    timeout: Secs('Idle seconds before a proxied connection is closed (proxy_timeout).', 600, 86400),
    sni_routes: Type.Optional(
      Type.Unsafe<Record<string, string>>({
        type: 'object',
        propertyNames: { pattern: PATTERNS.serverName, 'x-valid': 'a host name or *.domain' },
        additionalProperties: { type: 'string', pattern: PATTERNS.name, 'x-valid': 'the name of an upstream group' },
        minProperties: 1,
        maxProperties: 256,
        description: 'TLS passthrough routed by SNI without decrypting (ssl_preread): server name (or *.domain) -> upstream group.',
      }),
    ),
    tls: Type.Optional(StreamTls),
  },
  { description: 'An L4 stream server (TCP or UDP).' },
);

export const UpstreamServerSchema = Section(
  {
    address: Type.String({ format: 'upstream-host', description: 'Server address or host name without a trailing dot (resolved when Nginx loads the config).' }),
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
    type: Enum(['tcp', 'http', 'https', 'script'] as const, { description: 'tcp: connect; http: GET path and expect a status; https: the same over TLS, certificate not verified (keepalived SSL_GET); script: run a program per server, exit 0 = healthy (keepalived MISC_CHECK).' }),
    script: Type.Optional(Command('The program and its arguments (script), run without a shell for each server of the group; {address} and {port} in an argument become that server\'s.')),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Run the script as this user (name or uid); default notify.script_user.', ...LOCAL_ONLY.user })),
    path: Type.String({ pattern: '^/[\\x21-\\x7e]{0,1023}$', default: '/', description: 'Path fetched (http).', 'x-valid': 'an absolute path with query, no spaces' }),
    host: Type.Optional(Type.String({ format: 'host-or-ip', description: 'Host header sent (http, https); default the server address.' })),
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
    mime_types: Type.Optional(Str('fsPath', 'MIME types file included in http (default /etc/nginx/mime.types); must be a `types { }` file owned by root, world-readable, writable by root only.', 'an absolute path')),
    modules: Type.Optional(Str('modulesInclude', 'Module loading include, for the stream module (default /etc/nginx/modules-enabled/*.conf).', 'a file or glob ending in .conf directly in /etc/nginx/modules-enabled/')),
    certificates: Type.Optional(
      Section(
        {
          alarm_days: Type.Integer({ minimum: 1, maximum: 365, default: 30, description: 'Raise the certificate-expiring alarm when a certificate has fewer days left.' }),
          poll_interval: Type.Number({ minimum: 1, maximum: 3600, default: 30, description: 'Seconds between two looks at the certificate files (besides file-system events) and the expiry figures.' }),
        },
        { description: 'Certificates in operation: rotation on disk is picked up, expiry is reported and alarmed.' },
      ),
    ),
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
export type HttpTlsConfig = Static<typeof HttpTls>;
export type StreamTlsConfig = Static<typeof StreamTls>;
export type RateLimitConfig = Static<typeof RateLimit>;
