// The proxy as people deploy it, against the real Nginx 1.22 (+ stream module) on loopback, with
// real clients: certificates made by openssl, curl --http2, Node's TLS and WebSocket clients.
// TLS termination, HTTP/2, the http->https redirect, WebSocket upgrades, SNI routing without
// decryption, stream TLS termination, per-server logs, rate and body limits, a mismatched pair
// refused at check and at apply, and certificate rotation under load.
import { appendFileSync, chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect as tlsConnect, getCACertificates, setDefaultCACertificates } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { NginxController, type CertificateAlarm, type NginxConfig } from '../../../src/nginx';
import { processState } from '../../../src/nginx/proc';
import { waitFor } from '../../helpers/wait';
import { freePort, get, httpBackend, model, nginxEnv, tcpBackend, type NginxEnv } from './env';
import { httpsGet, installPair, makeCert, run, tlsBackend, tlsExchange, wsEchoBackend } from './tls-env';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // keep cleaning
    }
  }
});

async function startController(env: NginxEnv, m: NginxConfig, alarms: CertificateAlarm[] = []): Promise<NginxController> {
  const c = new NginxController({ model: m, log: env.log, onAlarm: (a) => alarms.push(a) });
  cleanups.push(() => env.dir.remove());
  cleanups.push(async () => {
    const pid = c.supervisor.pid;
    await c.stop();
    if (pid !== undefined && (await processState(pid)) === 'running') process.kill(pid, 'SIGKILL');
  });
  const r = await c.start();
  expect(r.ok, `${JSON.stringify(r)}\n${env.lines.join('\n')}`).toBe(true);
  return c;
}

async function base(env: NginxEnv, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return {
    prefix: env.prefix,
    status: { port: await freePort() },
    worker_shutdown_timeout: 3,
    reload: { min_interval: 0.1, verify_timeout: 6 },
    supervise: { health_interval: 0.3, health_timeout: 1, restart_min: 0.3, restart_max: 2, fall: 1, rise: 1 },
    ...extra,
  };
}

describe('TLS termination, HTTP/2 and the proxy features with real Nginx and real clients', () => {
  it('serves HTTPS with HTTP/2 (curl --http2), redirects http to https, adds HSTS and security headers, and logs per server', async () => {
    const env = nginxEnv();
    const cert = await makeCert(env.dir.path, 'www', ['www.example.net']);
    const api = await httpBackend('api');
    cleanups.push(() => api.close());
    const https = await freePort();
    const http = await freePort();
    const m = model({
      ...(await base(env)),
      upstreams: { api: { servers: [{ address: '127.0.0.1', port: api.port }], keepalive: 4 } },
      http: [{
        listen: [{ address: '127.0.0.1', port: https }],
        server_names: ['www.example.net'],
        tls: { certificate_file: cert.certificate, key_file: cert.key, hsts: { max_age: 600 } },
        redirect_from_http: http,
        security_headers: true,
        logs: { name: 'www', static_access: false },
        locations: [
          { type: 'static', path: '/static/', root: env.www, cache_control: 'public' },
          { type: 'proxy', path: '/api/', upstream: 'api' },
        ],
      }],
    });
    const c = await startController(env, m);
    const conf = readFileSync(c.applier.paths.conf, 'utf8');
    expect(conf).toContain(`listen 127.0.0.1:${https} ssl http2;`);
    // Nginx is given the checked root-only copy, not the operator's file.
    expect(conf).not.toContain(cert.certificate);
    const copy = /ssl_certificate_key (\S+);/.exec(conf)![1]!;
    expect(statSync(copy).mode & 0o777).toBe(0o600);

    const h2 = await run('curl', ['-sk', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '--resolve', `www.example.net:${https}:127.0.0.1`, `https://www.example.net:${https}/api/x`]);
    expect(h2.stdout).toBe('2 200');
    const head = await run('curl', ['-sk', '--http2', '-D', '-', '-o', '/dev/null', '--resolve', `www.example.net:${https}:127.0.0.1`, `https://www.example.net:${https}/static/app.css`]);
    expect(head.stdout).toMatch(/^HTTP\/2 200/);
    expect(head.stdout).toMatch(/strict-transport-security: max-age=600/i);
    expect(head.stdout).toMatch(/x-content-type-options: nosniff/i);
    expect(head.stdout).toMatch(/x-frame-options: SAMEORIGIN/i);
    expect(head.stdout).toMatch(/cache-control: public/i); // the location's own header did not drop the server's
    expect(api.lastHeaders['x-forwarded-proto']).toBe('https');

    // A client offering only HTTP/1.1 still gets it, and the certificate is the one made above.
    const one = await httpsGet(https, 'www.example.net', '/api/y');
    expect(one.status).toBe(200);
    expect(one.body).toBe('api /api/y\n');
    expect(one.fingerprint).toBe(cert.fingerprint);

    const redirect = await get(http, '/api/z?q=1', { host: 'www.example.net' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe(`https://www.example.net:${https}/api/z?q=1`);

    // Access log per server under the prefix; static requests are not logged (static_access false).
    const access = `${env.prefix}/logs/www.access.log`;
    await waitFor(() => existsSync(access) && readFileSync(access, 'utf8').includes('GET /api/y'), { timeoutMs: 5000, what: 'access log line' });
    const log = readFileSync(access, 'utf8');
    expect(log).toContain('"GET /api/x HTTP/2.0" 200');
    expect(log).not.toContain('/static/app.css');
    expect(existsSync(`${env.prefix}/logs/www.error.log`)).toBe(true);
  });

  it('passes WebSocket upgrades through to the backend over TLS, and limits rate and body size', async () => {
    const env = nginxEnv();
    const cert = await makeCert(env.dir.path, 'ws', ['localhost']);
    setDefaultCACertificates([...getCACertificates('default'), cert.pem]);
    const ws = await wsEchoBackend();
    const api = await httpBackend('api');
    cleanups.push(() => ws.close(), () => api.close());
    const https = await freePort();
    const m = model({
      ...(await base(env)),
      upstreams: { ws: { servers: [{ address: '127.0.0.1', port: ws.port }], keepalive: 2 }, api: { servers: [{ address: '127.0.0.1', port: api.port }] } },
      http: [{
        listen: [{ address: '127.0.0.1', port: https }],
        tls: { certificate_file: cert.certificate, key_file: cert.key },
        locations: [
          { type: 'proxy', path: '/ws/', upstream: 'ws', websocket: true },
          { type: 'proxy', path: '/limited/', upstream: 'api', rate_limit: { rate: 1, per: 'minute', burst: 1, zone_size: 1 } },
          { type: 'proxy', path: '/upload/', upstream: 'api', max_body_size: '1k', buffering: false },
        ],
      }],
    });
    await startController(env, m);

    const sock = new WebSocket(`wss://localhost:${https}/ws/echo`);
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      sock.onopen = () => sock.send('hello through twinvip');
      sock.onmessage = (e) => {
        messages.push(String(e.data));
        resolve();
      };
      sock.onerror = () => reject(new Error('websocket error'));
    });
    sock.close();
    expect(messages).toEqual(['hello through twinvip']);
    expect(ws.upgrades).toBe(1);

    // rate 1/min with burst 1: the first two pass, the third in the same minute gets 429.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await httpsGet(https, 'localhost', '/limited/a')).status);
    expect(statuses).toEqual([200, 200, 429]);

    const big = await run('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', '--data-binary', 'x'.repeat(4096), `https://localhost:${https}/upload/`]);
    expect(big.stdout).toBe('413');
    const small = await run('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', '--data-binary', 'x'.repeat(100), `https://localhost:${https}/upload/`]);
    expect(small.stdout).toBe('200');
  });

  it('streams a proxied answer as it comes with buffering: false, and holds it with the default buffering', async () => {
    const env = nginxEnv();
    const cert = await makeCert(env.dir.path, 'sse', ['localhost']);
    // The backend sends one event, then waits for the client to have it (or 3 s) before ending.
    const pending = new Set<() => void>();
    const release = () => {
      for (const end of pending) end();
      pending.clear();
    };
    const backendPort = await freePort();
    const srv = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      const end = () => {
        clearTimeout(t);
        pending.delete(end);
        if (!res.writableEnded) res.end('data: last\n\n');
      };
      const t = setTimeout(end, 3000);
      pending.add(end);
    });
    await new Promise<void>((r) => srv.listen(backendPort, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }));
    const https = await freePort();
    await startController(env, model({
      ...(await base(env)),
      upstreams: { sse: { servers: [{ address: '127.0.0.1', port: backendPort }] } },
      http: [{
        listen: [{ address: '127.0.0.1', port: https }],
        tls: { certificate_file: cert.certificate, key_file: cert.key },
        locations: [
          { type: 'proxy', path: '/events/', upstream: 'sse', buffering: false },
          { type: 'proxy', path: '/buffered/', upstream: 'sse' },
        ],
      }],
    }));
    // Time from the request to the first event, with the backend still holding the answer open.
    const firstEvent = (path: string) =>
      new Promise<{ firstMs: number; body: string }>((resolve, reject) => {
        const t0 = Date.now();
        let firstMs = -1;
        let body = '';
        const s = tlsConnect({ host: '127.0.0.1', port: https, servername: 'localhost', rejectUnauthorized: false }, () => s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`));
        s.setEncoding('utf8');
        s.on('data', (d: string) => {
          body += d;
          if (firstMs < 0 && body.includes('data: first')) {
            firstMs = Date.now() - t0;
            release();
          }
        });
        s.on('end', () => resolve({ firstMs, body }));
        s.on('error', reject);
      });
    const streamed = await firstEvent('/events/');
    expect(streamed.body).toContain('data: last');
    // The first event came while the backend held the answer (it released only on our receipt).
    expect(streamed.firstMs).toBeGreaterThanOrEqual(0);
    expect(streamed.firstMs).toBeLessThan(2500);
    // Buffered (the default), Nginx holds the small event until the backend ends the answer.
    const buffered = await firstEvent('/buffered/');
    expect(buffered.body).toContain('data: last');
    expect(buffered.firstMs).toBeGreaterThanOrEqual(2900);
  });

  it('routes TLS by SNI to two backends without decrypting, and terminates TLS on another stream listener', async () => {
    const env = nginxEnv();
    const certA = await makeCert(env.dir.path, 'a', ['a.example.net']);
    const certB = await makeCert(env.dir.path, 'b', ['b.example.net']);
    const certC = await makeCert(env.dir.path, 'c', ['other.example.net']);
    const edge = await makeCert(env.dir.path, 'edge', ['db.example.net']);
    const a = await tlsBackend(certA, 'backend-a');
    const b = await tlsBackend(certB, 'backend-b');
    const fallback = await tlsBackend(certC, 'backend-default');
    const plain = await tcpBackend('plain-db');
    cleanups.push(() => a.close(), () => b.close(), () => fallback.close(), () => plain.close());
    const sni = await freePort();
    const term = await freePort();
    const m = model({
      ...(await base(env)),
      upstreams: {
        a: { servers: [{ address: '127.0.0.1', port: a.port }] },
        b: { servers: [{ address: '127.0.0.1', port: b.port }] },
        other: { servers: [{ address: '127.0.0.1', port: fallback.port }] },
        db: { servers: [{ address: '127.0.0.1', port: plain.port }] },
      },
      stream: [
        { listen: { address: '127.0.0.1', port: sni }, upstream: 'other', sni_routes: { 'a.example.net': 'a', 'b.example.net': 'b' } },
        { listen: { address: '127.0.0.1', port: term }, upstream: 'db', tls: { certificate_file: edge.certificate, key_file: edge.key } },
      ],
    });
    await startController(env, m);

    const ra = await tlsExchange(sni, 'a.example.net');
    const rb = await tlsExchange(sni, 'b.example.net');
    const rx = await tlsExchange(sni, 'unknown.example.net');
    // Each client saw its backend's own certificate: the proxy never terminated the TLS session.
    expect([ra.data, ra.fingerprint]).toEqual(['backend-a\n', certA.fingerprint]);
    expect([rb.data, rb.fingerprint]).toEqual(['backend-b\n', certB.fingerprint]);
    expect([rx.data, rx.fingerprint]).toEqual(['backend-default\n', certC.fingerprint]);
    expect([a.hits, b.hits, fallback.hits]).toEqual([1, 1, 1]);

    // Verified against the edge certificate as CA: the stream listener terminates TLS itself.
    const rt = await tlsExchange(term, 'db.example.net', undefined, { ca: edge.pem });
    expect(rt.data).toBe('plain-db\n');
    expect(rt.fingerprint).toBe(edge.fingerprint);
  });

  it('refuses a mismatched key/certificate pair at `twinvip check` and at apply, with the old config serving', async () => {
    const env = nginxEnv();
    const good = await makeCert(env.dir.path, 'good', ['www.example.net']);
    const other = await makeCert(env.dir.path, 'other', ['www.example.net']);
    const https = await freePort();
    const raw = async (key: string) => ({
      ...(await base(env)),
      upstreams: {},
      http: [{ listen: [{ address: '127.0.0.1', port: https }], tls: { certificate_file: good.certificate, key_file: key }, locations: [{ type: 'static', path: '/static/', root: env.www }] }],
    });
    const bad = await raw(other.key);
    const file = env.dir.file('twinvip.json');
    writeFileSync(file, JSON.stringify({ nginx: { enabled: true, ...bad } }));
    const check = await run(process.execPath, ['dist/twinvip.js', 'check', '-c', file]);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/\/nginx\/http\/0\/tls\/key_file: .*is not the key of/);
    // A key readable by others is refused too.
    writeFileSync(file, JSON.stringify({ nginx: { enabled: true, ...(await raw(good.key)) } }));
    chmodSync(good.key, 0o644);
    const loose = await run(process.execPath, ['dist/twinvip.js', 'check', '-c', file]);
    chmodSync(good.key, 0o600);
    expect(loose.code).toBe(1);
    expect(loose.stderr).toMatch(/readable or writable by others than root \(mode 0644\)/);
    expect((await run(process.execPath, ['dist/twinvip.js', 'check', '-c', file])).code).toBe(0);

    const c = await startController(env, model(await raw(good.key)));
    const served = c.applier.goodGeneration;
    expect((await httpsGet(https, 'www.example.net', '/static/app.css')).fingerprint).toBe(good.fingerprint);
    const r = await c.update(model(await raw(other.key)));
    expect(r.ok).toBe(false);
    expect(c.applier.goodGeneration).toBe(served);
    const after = await httpsGet(https, 'www.example.net', '/static/app.css');
    expect([after.status, after.fingerprint]).toEqual([200, good.fingerprint]);
    expect((await c.status()).certificates[0]).toMatchObject({ state: 'invalid', pending: true });
  });

  it('picks up a rotated certificate under load with 0 failed fresh connections, refuses a bad rotation (checks and nginx -t), and alarms on expiry', async () => {
    const env = nginxEnv();
    const live = await makeCert(env.dir.path, 'live', ['www.example.net'], 10);
    const https = await freePort();
    const alarms: CertificateAlarm[] = [];
    const m = model({
      ...(await base(env)),
      certificates: { alarm_days: 30, poll_interval: 60 },
      upstreams: {},
      http: [{ listen: [{ address: '127.0.0.1', port: https }], tls: { certificate_file: live.certificate, key_file: live.key }, locations: [{ type: 'static', path: '/static/', root: env.www }] }],
    });
    const c = await startController(env, m, alarms);
    // 10 days left, alarm below 30: raised once at start.
    expect(alarms.filter((a) => a.active && a.id === `certificate-expiring:${live.certificate}`)).toHaveLength(1);
    expect((await c.status()).certificates[0]).toMatchObject({ state: 'expiring', days_left: 9 });

    // Fresh TLS handshakes in a loop while the pair is rotated three times.
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    let last = '';
    const load = (async () => {
      while (!stop) {
        try {
          const r = await httpsGet(https, 'www.example.net', '/static/app.css');
          if (r.status === 200) ok++;
          else failures.push(`HTTP ${r.status}`);
          seen.add(r.fingerprint);
          last = r.fingerprint;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    })();
    try {
      let latest = live;
      for (let i = 0; i < 3; i++) {
        const next = await makeCert(env.dir.path, `next${i}`, ['www.example.net'], 365);
        installPair(next, live);
        await waitFor(() => seen.has(next.fingerprint), { timeoutMs: 15_000, what: `rotation ${i} served` });
        latest = next;
      }
      // The renewed certificate has 364 days: the expiry alarm is cleared.
      expect(alarms.some((a) => !a.active && a.id === `certificate-expiring:${live.certificate}`)).toBe(true);

      // A key that is not the certificate's: refused by the checks, the last good pair serves.
      const stranger = await makeCert(env.dir.path, 'stranger', ['www.example.net']);
      const mark = alarms.length;
      const since = () => alarms.slice(mark);
      writeFileSync(live.key, readFileSync(stranger.key), { mode: 0o600 });
      await waitFor(() => since().some((a) => a.active && a.id === `certificate-invalid:${live.certificate}`), { timeoutMs: 15_000, what: 'certificate-invalid alarm' });
      expect(since().find((a) => a.active)!.message).toMatch(/is not the key of .*the last good pair keeps serving/);
      installPair(latest, live);
      await waitFor(() => since().some((a) => !a.active && a.id === `certificate-invalid:${live.certificate}`), { timeoutMs: 15_000, what: 'alarm cleared' });

      // A chain Nginx cannot load though the leaf and key match (garbage second certificate):
      // nginx -t refuses it, the copy is reverted, the good generation keeps serving.
      const gen = c.applier.goodGeneration;
      const refusedBefore = c.certificateCounters.refused;
      appendFileSync(live.certificate, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
      await waitFor(() => c.certificateCounters.refused > refusedBefore, { timeoutMs: 15_000, what: 'nginx -t refusal' });
      expect(c.applier.goodGeneration).toBe(gen);
      expect((await c.status()).certificates[0]).toMatchObject({ state: 'invalid', pending: true });
      expect(alarms.some((a) => a.active && a.id === `certificate-invalid:${live.certificate}`)).toBe(true);
      const okBefore = ok;
      await waitFor(() => ok > okBefore + 20, { timeoutMs: 15_000, what: 'requests after the refusal' });
      expect(last).toBe(latest.fingerprint);
    } finally {
      stop = true;
      await load;
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
  });
});
