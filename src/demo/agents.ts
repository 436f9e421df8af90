// Small helpers the demo runs *inside* the namespaces, from the same bundle
// (`twinvip demo --agent ...`), so nothing beyond the pinned Node is needed there:
//  - upstream: the dynamic backend behind a box's Nginx; answers with the box's name.
//  - client:   the LAN client; probes the VIP over HTTP and subscribes to the boxes' MQTT events,
//              printing one JSON line per observation for the demo to read.
// The host namespace cannot reach the LAN, which is why these run as children in it.

import { readFileSync } from 'node:fs';
import { request, createServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as mqttConnect } from 'mqtt';

export type AgentLine =
  | { k: 'probe'; sent: number; recv: number; who?: string; err?: string }
  /** The static page through the VIP (Nginx serves it itself): which box's Nginx answered. */
  | { k: 'static'; sent: number; recv: number; box?: string; err?: string }
  /** https://VIP/who on a fresh TLS connection (full handshake, certificate verified). */
  | { k: 'https'; sent: number; recv: number; who?: string; err?: string; resumed?: boolean }
  | { k: 'mqtt'; t: number; topic: string; payload: string }
  | { k: 'mqtt-link'; t: number; up: boolean; error?: string }
  | { k: 'ready'; t: number };

function emit(line: AgentLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function runUpstreamAgent(name: string, port: number): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      res.end(`${name}\n`);
    });
    server.on('error', (err) => {
      process.stderr.write(`upstream ${name}: ${err.message}\n`);
      resolve(1);
    });
    server.listen(port, '127.0.0.1', () => emit({ k: 'ready', t: Date.now() }));
    const stop = () => server.close(() => resolve(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

export interface ClientAgentOptions {
  url: string;
  broker: string;
  intervalMs: number;
  timeoutMs: number;
  /** https://VIP/who and the CA file (the demo's self-signed certificate) that verifies it. */
  httpsUrl?: string;
  ca?: string;
}

/**
 * A fresh connection per probe (Connection: close), started on a fixed period whatever the
 * previous one does, so a probe stuck on a dead neighbour entry never delays the next one: the
 * first answer from the new master marks the takeover as the client sees it.
 */
export function runClientAgent(opts: ClientAgentOptions): Promise<number> {
  return new Promise((resolve) => {
    const ca = opts.ca ? readFileSync(opts.ca) : undefined;
    // agent: false means no session cache either: every probe over TLS is a full handshake, so a
    // failover is seen by a client that must complete one with the new master.
    const fetchOnce = (url: string, tls: boolean, done: (r: { body?: string; err?: string; resumed?: boolean }) => void) => {
      let finished = false;
      const finish = (r: { body?: string; err?: string; resumed?: boolean }) => {
        if (finished) return;
        finished = true;
        done(r);
      };
      const common = { agent: false as const, headers: { connection: 'close' }, timeout: opts.timeoutMs };
      const onResponse = (res: import('node:http').IncomingMessage) => {
        const resumed = tls ? ((res.socket as import('node:tls').TLSSocket).isSessionReused?.() ?? false) : undefined;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => finish(res.statusCode === 200 ? { body, ...(resumed !== undefined ? { resumed } : {}) } : { err: `HTTP ${res.statusCode}` }));
        res.on('error', (e) => finish({ err: e.message }));
      };
      const req = tls ? httpsRequest(url, { ...common, ca, servername: 'gw.twinvip.demo' }, onResponse) : request(url, common, onResponse);
      req.on('timeout', () => {
        finish({ err: 'timeout' });
        req.destroy();
      });
      req.on('error', (e: NodeJS.ErrnoException) => finish({ err: e.code ?? e.message }));
      req.end();
    };
    const get = (url: string, done: (r: { body?: string; err?: string }) => void) => fetchOnce(url, false, done);
    const getHttps = (url: string, done: (r: { body?: string; err?: string; resumed?: boolean }) => void) => fetchOnce(url, true, done);
    const staticUrl = new URL('/', opts.url).toString();
    let ticks = 0;
    let lastWho: string | undefined;
    const getStatic = () => {
      const sent = Date.now();
      get(staticUrl, (r) => {
        const box = r.body === undefined ? undefined : /served by Nginx on ([\w-]+)/.exec(r.body)?.[1];
        emit({ k: 'static', sent, recv: Date.now(), ...(box ? { box } : { err: r.err ?? 'unexpected page' }) });
      });
    };
    const probe = () => {
      const sent = Date.now();
      get(opts.url, (r) => {
        const who = r.body?.trim();
        emit({ k: 'probe', sent, recv: Date.now(), ...(who !== undefined ? { who } : { err: r.err ?? 'no answer' }) });
        // A new VIP holder: its static page at once too. A tenure shorter than a second (a
        // takeover, then the preempt back within 0.9 s) would otherwise show no static page.
        if (who !== undefined && who !== lastWho) {
          lastWho = who;
          getStatic();
        }
      });
      if (opts.httpsUrl) {
        getHttps(opts.httpsUrl, (r) => emit({ k: 'https', sent, recv: Date.now(), ...(r.body !== undefined ? { who: r.body.trim(), resumed: r.resumed ?? false } : { err: r.err ?? 'no answer' }) }));
      }
      // The static page once a second: static/dynamic separation seen from the client.
      if (ticks++ % 10 === 0) getStatic();
    };
    const timer = setInterval(probe, opts.intervalMs);

    // connect() with listeners, not connectAsync: a broker that is not up yet must not end us.
    const client = mqttConnect(opts.broker, { reconnectPeriod: 500, connectTimeout: 3000, clientId: `twinvip-demo-client-${process.pid}`, clean: true });
    client.on('connect', () => {
      emit({ k: 'mqtt-link', t: Date.now(), up: true });
      client.subscribe(['twinvip/+/event', 'twinvip/+/status'], { qos: 1 });
    });
    client.on('close', () => emit({ k: 'mqtt-link', t: Date.now(), up: false }));
    client.on('error', (e) => emit({ k: 'mqtt-link', t: Date.now(), up: false, error: e.message }));
    client.on('message', (topic, payload) => emit({ k: 'mqtt', t: Date.now(), topic, payload: payload.toString('utf8') }));
    emit({ k: 'ready', t: Date.now() });

    const stop = () => {
      clearInterval(timer);
      client.end(true, {}, () => resolve(0));
      setTimeout(() => resolve(0), 1000).unref();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

export function parseAgentLine(line: string): AgentLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line) as AgentLine;
    return typeof v === 'object' && v !== null && typeof v.k === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
