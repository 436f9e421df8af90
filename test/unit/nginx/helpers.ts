import { parseConfigText, type ConfigIssue } from '../../../src/config';
import type { NginxConfig } from '../../../src/nginx';

export function load(nginx: Record<string, unknown>, extra: Record<string, unknown> = {}):
  { ok: true; nginx: NginxConfig; warnings: ConfigIssue[] } | { ok: false; errors: ConfigIssue[] } {
  const r = parseConfigText(JSON.stringify({ nginx: { enabled: true, ...nginx }, ...extra }), 't.json');
  return r.ok ? { ok: true, nginx: r.config.nginx, warnings: r.warnings } : { ok: false, errors: r.errors };
}

export const sample = {
  prefix: '/var/lib/twinvip/nginx',
  upstreams: {
    api: { balance: 'least_conn', keepalive: 16, servers: [{ address: '10.0.0.11', port: 8080, weight: 3 }, { address: '10.0.0.12', port: 8080 }, { address: '10.0.0.13', port: 8080, backup: true }] },
    db: { balance: 'hash', hash_key: '$remote_addr', hash_consistent: true, servers: [{ address: '10.0.0.21', port: 5432 }, { address: 'db2.example.net', port: 5432 }] },
    dns: { servers: [{ address: '2001:db8::53', port: 53 }] },
  },
  http: [{
    listen: [{ port: 80, default_server: true }, { address: '2001:db8::1', port: 80 }],
    server_names: ['www.example.net', '*.example.org'],
    locations: [
      { type: 'static', path: '/static/', root: '/srv/www', expires: '7d', cache_control: 'public, immutable' },
      { type: 'static', path: '/favicon.ico', exact: true, root: '/srv/www' },
      { type: 'proxy', path: '/api/', upstream: 'api', read_timeout: 30 },
    ],
  }],
  stream: [
    { listen: { port: 5432 }, upstream: 'db' },
    { listen: { address: '192.0.2.10', port: 53, protocol: 'udp' }, upstream: 'dns', timeout: 5 },
  ],
};
