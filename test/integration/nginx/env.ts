// Real Nginx on loopback for the integration tests: free ports, small node backends, a parsed
// model, and a cleanup that signals only the master PIDs these tests started.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, connect, type Server as NetServer } from 'node:net';
import { parseConfigText } from '../../../src/config';
import { Logger } from '../../../src/log';
import type { NginxConfig } from '../../../src/nginx';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { patience } from '../../helpers/patience';

import { freePort } from '../../helpers/ports';
export { freePort };

export interface Backend {
  port: number;
  /** Every request, health checks included. */
  hits: number;
  /** The URL of every request, in order: count the test's own requests, not the health checks. */
  urls: string[];
  lastHeaders: Record<string, string | string[] | undefined>;
  close(): Promise<void>;
  listen(): Promise<void>;
}

/** An HTTP upstream answering `name` (and echoing nothing else). */
export async function httpBackend(name: string, port?: number): Promise<Backend> {
  let server: HttpServer | undefined;
  const b: Backend = {
    port: port ?? (await freePort()),
    hits: 0,
    urls: [],
    lastHeaders: {},
    listen: async () => {
      server = createHttpServer((req, res) => {
        b.hits++;
        b.urls.push(req.url ?? '');
        b.lastHeaders = req.headers;
        res.setHeader('content-type', 'text/plain');
        res.end(`${name} ${req.url}\n`);
      });
      await new Promise<void>((r) => server!.listen(b.port, '127.0.0.1', r));
    },
    close: async () => {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
  await b.listen();
  return b;
}

/** A TCP upstream that answers every connection with its name and closes. */
export async function tcpBackend(name: string): Promise<{ port: number; hits: number; close(): Promise<void> }> {
  const out = { port: 0, hits: 0, close: async () => {} };
  const srv: NetServer = createNetServer((sock) => {
    out.hits++;
    sock.end(`${name}\n`);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  out.port = (srv.address() as { port: number }).port;
  out.close = () => new Promise<void>((r) => srv.close(() => r()));
  return out;
}

export function tcpRead(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (data += d));
    s.on('end', () => resolve(data));
    s.on('error', reject);
    s.setTimeout(patience(10_000), () => s.destroy(new Error('tcp read timed out')));
  });
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One GET on a fresh connection (no keep-alive reuse). */
export function get(port: number, path: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close', ...headers }, timeout: patience(10_000) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The nginx section through the real loader (schema + semantics), so tests use what users write. */
export function model(nginx: Record<string, unknown>): NginxConfig {
  const r = parseConfigText(JSON.stringify({ nginx: { enabled: true, ...nginx } }), 'test.json');
  if (!r.ok) throw new Error(`model refused: ${JSON.stringify(r.errors)}`);
  return r.config.nginx;
}

export interface NginxEnv {
  dir: TempDir;
  prefix: string;
  www: string;
  lines: string[];
  log: ReturnType<Logger['for']>;
}

/** A temp dir with a prefix and a static root that Nginx workers (nobody) can read. */
export function nginxEnv(): NginxEnv {
  const dir = makeTempDir('tvngx-');
  chmodSync(dir.path, 0o755);
  const www = dir.file('www');
  mkdirSync(`${www}/static`, { recursive: true });
  writeFileSync(`${www}/static/app.css`, 'body { color: red; }\n');
  writeFileSync(`${www}/static/index.html`, '<h1>static</h1>\n');
  const lines: string[] = [];
  const logger = new Logger({ sink: (l) => lines.push(l), level: 'debug' });
  return { dir, prefix: dir.file('prefix'), www, lines, log: logger.for('nginx') };
}
