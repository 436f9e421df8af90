// What each simulated box runs: its twinvip configuration (validated by the real loader before
// use — a config the schema refuses is a demo bug, or a part this build does not have yet), the
// broker's configuration, and the Nginx configuration the demo falls back to when this build's
// twinvip does not drive Nginx itself.

import { parseConfigText } from '../config';
import {
  BROKER_PORT, HTTP_PORT, HTTPS_PORT, INSTANCE, LAN_IF, LAN_PREFIX_LEN, SWITCH_ADDR, UPSTREAM_PORT, VIP, VRID, WHO_PATH,
  brokerUrl, type BoxSpec,
} from './topology';

/** The optional parts of a box's configuration, beside VRRP. */
export type Part = 'serial' | 'nginx' | 'mqtt';
export const PARTS: readonly Part[] = ['serial', 'nginx', 'mqtt'];

export const PART_LABEL: Record<Part, string> = {
  serial: 'serial heartbeat',
  nginx: 'Nginx control',
  mqtt: 'MQTT reporting',
};

export interface BoxPaths {
  dir: string;
  config: string;
  socket: string;
  stateDir: string;
  nginxPrefix: string;
  www: string;
  /** This box's end of the socat pty pair, resolved to /dev/pts/N (the schema wants /dev/...). */
  serialDevice: string;
}

export interface ConfigInputs {
  box: BoxSpec;
  paths: BoxPaths;
  serialKey: string;
  /** Nginx by absolute path, as found on this machine (twinvip starts it by that path). */
  nginxBinary?: string;
  /** The demo's self-signed certificate for the VIP (both boxes serve it), when openssl made one. */
  tls?: { certificate: string; key: string };
}

export function boxConfig(inp: ConfigInputs, parts: ReadonlySet<Part>): Record<string, unknown> {
  const { box, paths } = inp;
  const config: Record<string, unknown> = {
    node: { name: box.name, state_dir: paths.stateDir },
    control: { socket: paths.socket },
    logging: { level: 'info', format: 'text' },
    instances: {
      [INSTANCE]: {
        interface: LAN_IF,
        vrid: VRID,
        version: 3,
        advert_int: 1,
        priority: box.priority,
        state: box.state,
        vips: [`${VIP}/${LAN_PREFIX_LEN}`],
      },
    },
  };
  if (parts.has('serial')) {
    config.heartbeat = {
      serial: { device: paths.serialDevice, baud: 115200, period_ms: 100, dead_periods: 5, node_id: box.nodeId, key: inp.serialKey },
    };
  }
  if (parts.has('mqtt')) {
    config.mqtt = { enabled: true, url: brokerUrl(), keepalive: 10, telemetry_interval: 60 };
  }
  if (parts.has('nginx')) {
    config.nginx = {
      enabled: true,
      ...(inp.nginxBinary ? { binary: inp.nginxBinary } : {}),
      prefix: paths.nginxPrefix,
      // Static files served by Nginx itself, the dynamic path proxied to the box's upstream.
      http: [
        {
          // The same site over HTTP and, with the demo's certificate, over HTTPS with HTTP/2.
          listen: [{ port: HTTP_PORT, default_server: true, ...(inp.tls ? { ssl: false } : {}) }, ...(inp.tls ? [{ port: HTTPS_PORT, default_server: true }] : [])],
          ...(inp.tls ? { tls: { certificate_file: inp.tls.certificate, key_file: inp.tls.key } } : {}),
          locations: [
            { type: 'static', path: '/', root: paths.www },
            { type: 'proxy', path: WHO_PATH, exact: true, upstream: 'who', connect_timeout: 1, read_timeout: 2 },
          ],
        },
      ],
      upstreams: { who: { servers: [{ address: '127.0.0.1', port: UPSTREAM_PORT }] } },
    };
  }
  return config;
}

export interface PartChoice {
  /** Parts this build's schema accepts: they go into the configuration. */
  accepted: Set<Part>;
  /** Parts refused by this build's schema, with the first reason (not there yet). */
  refused: Map<Part, string>;
}

/**
 * Tries each optional part on top of the VRRP base with the real loader. The base must pass
 * (otherwise the demo is broken and says so); a refused part is one this build lacks.
 */
export function chooseParts(inp: ConfigInputs): PartChoice {
  const base = validate(boxConfig(inp, new Set()));
  if (!base.ok) throw new Error(`the demo's base configuration for ${inp.box.name} is refused: ${base.error}`);
  const accepted = new Set<Part>();
  const refused = new Map<Part, string>();
  for (const part of PARTS) {
    const r = validate(boxConfig(inp, new Set([part])));
    if (r.ok) accepted.add(part);
    else refused.set(part, r.error);
  }
  const all = validate(boxConfig(inp, accepted));
  if (!all.ok) throw new Error(`the demo's configuration for ${inp.box.name} is refused: ${all.error}`);
  return { accepted, refused };
}

export function validate(config: Record<string, unknown>): { ok: true } | { ok: false; error: string } {
  const r = parseConfigText(JSON.stringify(config));
  if (r.ok) return { ok: true };
  const first = r.errors[0];
  return { ok: false, error: first ? `${first.path || '/'}: ${first.message}` : 'refused' };
}

export function mosquittoConfig(): string {
  return [
    '# twinvip demo broker: LAN address of the switch namespace only, no persistence.',
    `listener ${BROKER_PORT} ${SWITCH_ADDR}`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stdout',
    'log_type error',
    'log_type warning',
    'log_type notice',
    '',
  ].join('\n');
}

/** Nginx run by the demo itself when this build's twinvip does not drive Nginx: same site. */
export function fallbackNginxConfig(paths: BoxPaths): string {
  const p = paths.nginxPrefix;
  return `# twinvip demo: the box's Nginx, started by the demo (this build has no Nginx control yet).
daemon off;
master_process on;
worker_processes 1;
pid ${p}/nginx.pid;
error_log ${p}/error.log warn;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${p}/tmp/body;
  proxy_temp_path ${p}/tmp/proxy;
  fastcgi_temp_path ${p}/tmp/fastcgi;
  uwsgi_temp_path ${p}/tmp/uwsgi;
  scgi_temp_path ${p}/tmp/scgi;
  upstream who { server 127.0.0.1:${UPSTREAM_PORT}; }
  server {
    listen ${HTTP_PORT} default_server;
    root ${paths.www};
    location = ${WHO_PATH} {
      proxy_pass http://who;
      proxy_connect_timeout 1s;
      proxy_read_timeout 2s;
    }
  }
}
`;
}

export function indexHtml(box: BoxSpec): string {
  return `<!doctype html><title>twinvip demo</title><p>Static page served by Nginx on ${box.name}; ${WHO_PATH} is proxied to its upstream.</p>\n`;
}
