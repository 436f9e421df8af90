// Nginx control against the real Nginx 1.22 (+ stream module) on loopback ports: render, serve,
// safe apply with rollback, supervision, active upstream checks, reloads without failed requests.
import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { NginxController, renderNginxConf, resolveSettings, type NginxConfig } from '../../../src/nginx';
import { processState } from '../../../src/nginx/proc';
import type { TrackEvent } from '../../../src/track';
import { waitFor } from '../../helpers/wait';
import { freePort, get, httpBackend, model, nginxEnv, tcpBackend, tcpRead, type Backend, type NginxEnv } from './env';

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

async function startController(env: NginxEnv, m: NginxConfig): Promise<NginxController> {
  const c = new NginxController({ model: m, log: env.log });
  cleanups.push(() => env.dir.remove());
  cleanups.push(async () => {
    const pid = c.supervisor.pid;
    await c.stop();
    // Only the master this test started, by PID, if the graceful stop did not finish it.
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
    reload: { min_interval: 0.2, verify_timeout: 6 },
    supervise: { health_interval: 0.3, health_timeout: 1, restart_min: 0.3, restart_max: 2, fall: 1, rise: 1 },
    ...extra,
  };
}

describe('nginx control with real Nginx', () => {
  it('serves static files with cache headers, proxies /api/ with forwarding headers, and proxies TCP streams to two backends', async () => {
    const env = nginxEnv();
    const api = await httpBackend('api');
    const t1 = await tcpBackend('t1');
    const t2 = await tcpBackend('t2');
    cleanups.push(() => api.close(), () => t1.close(), () => t2.close());
    const web = await freePort();
    const tcp = await freePort();
    const m = model({
      ...(await base(env)),
      upstreams: {
        api: { servers: [{ address: '127.0.0.1', port: api.port }], keepalive: 4 },
        tcp: { balance: 'round_robin', servers: [{ address: '127.0.0.1', port: t1.port }, { address: '127.0.0.1', port: t2.port }] },
      },
      http: [{
        listen: [{ address: '127.0.0.1', port: web }],
        server_names: ['www.example.net'],
        locations: [
          { type: 'static', path: '/static/', root: env.www, expires: '1h', cache_control: 'public' },
          { type: 'proxy', path: '/api/', upstream: 'api' },
        ],
      }],
      stream: [{ listen: { address: '127.0.0.1', port: tcp }, upstream: 'tcp' }],
    });
    const c = await startController(env, m);

    const css = await get(web, '/static/app.css');
    expect(css.status).toBe(200);
    expect(css.body).toBe('body { color: red; }\n');
    expect(css.headers['content-type']).toBe('text/css'); // mime.types is included
    expect(String(css.headers['cache-control'])).toMatch(/max-age=3600/);
    expect(String(css.headers['cache-control'])).toMatch(/public/);
    expect(css.headers.expires).toBeDefined();
    expect(api.hits).toBe(0);

    const dyn = await get(web, '/api/orders?id=7', { host: 'www.example.net' });
    expect(dyn.status).toBe(200);
    expect(dyn.body).toBe('api /api/orders?id=7\n');
    expect(api.hits).toBe(1);
    expect(api.lastHeaders.host).toBe('www.example.net');
    expect(api.lastHeaders['x-real-ip']).toBe('127.0.0.1');
    expect(api.lastHeaders['x-forwarded-for']).toBe('127.0.0.1');
    expect(api.lastHeaders['x-forwarded-proto']).toBe('http');

    const answers = [];
    for (let i = 0; i < 6; i++) answers.push((await tcpRead(tcp)).trim());
    expect(answers.filter((a) => a === 't1').length).toBe(3);
    expect(answers.filter((a) => a === 't2').length).toBe(3);

    const st = await c.status();
    expect(st.pid).toBeGreaterThan(1);
    expect(st.serving).toBe(st.generation);
    await waitFor(() => c.health.up === true, { timeoutMs: 15_000, what: 'nginx track up' });
  });

  it('spreads requests by weight (round robin 3:1) and least_conn', async () => {
    const env = nginxEnv();
    const a = await httpBackend('a');
    const b = await httpBackend('b');
    cleanups.push(() => a.close(), () => b.close());
    const web = await freePort();
    const servers = [{ address: '127.0.0.1', port: a.port, weight: 3 }, { address: '127.0.0.1', port: b.port }];
    const c = await startController(env, model({
      ...(await base(env)),
      upstreams: { rr: { servers }, lc: { balance: 'least_conn', servers } },
      http: [{ listen: [{ address: '127.0.0.1', port: web }], locations: [{ type: 'proxy', path: '/rr/', upstream: 'rr' }, { type: 'proxy', path: '/lc/', upstream: 'lc' }] }],
    }));
    const count = async (path: string, n: number) => {
      const seen = { a: 0, b: 0 };
      for (let i = 0; i < n; i++) seen[(await get(web, path)).body[0] as 'a' | 'b']++;
      return seen;
    };
    // One worker and smooth weighted round robin: exactly 3:1.
    expect(await count('/rr/', 40)).toEqual({ a: 30, b: 10 });
    // Sequential requests leave no connection open, so least_conn falls back to the weights.
    expect(await count('/lc/', 40)).toEqual({ a: 30, b: 10 });
    // Concurrent requests through least_conn are all served.
    const parallel = await Promise.all(Array.from({ length: 8 }, () => get(web, '/lc/p')));
    expect(parallel.every((r) => r.status === 200)).toBe(true);
  });

  it('refuses a config nginx -t rejects (error or [warn]) and keeps the old one serving', async () => {
    const env = nginxEnv();
    const web = await freePort();
    const m = model({ ...(await base(env)), http: [{ listen: [{ address: '127.0.0.1', port: web }], locations: [{ type: 'static', path: '/static/', root: env.www }] }] });
    const c = await startController(env, m);
    const good = c.applier.goodGeneration!;
    const liveBefore = readFileSync(c.applier.paths.conf, 'utf8');

    const bad = await c.applier.apply(`${liveBefore}\nthis is not nginx;\n`, 'deadbeefdeadbeef', 'test: syntax error');
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.stage).toBe('test');
      expect(bad.reason).toMatch(/emerg/);
      expect(bad.kept).toBe(good);
    }
    expect(readFileSync(c.applier.paths.conf, 'utf8')).toBe(liveBefore);

    // least_conn after keepalive only warns in Nginx: twinvip refuses it all the same.
    const warned = liveBefore.replace('http {', 'http {\n  upstream w { server 127.0.0.1:9; keepalive 2; least_conn; }');
    const w = await c.applier.apply(warned, 'feedfacefeedface', 'test: warn');
    expect(w.ok).toBe(false);
    if (!w.ok) expect(w.reason).toMatch(/\[warn\]/);

    expect((await c.status()).serving).toBe(good);
    expect((await get(web, '/static/app.css')).status).toBe(200);
  });

  it('detects an apply-time failure (port in use) by the generation probe and rolls back', async () => {
    const env = nginxEnv();
    const web = await freePort();
    const busy = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(busy, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const b = await base(env);
    const static1 = { type: 'static', path: '/static/', root: env.www };
    const c = await startController(env, model({ ...b, http: [{ listen: [{ address: '127.0.0.1', port: web }], locations: [static1] }] }));
    const good = c.applier.goodGeneration!;

    const r = await c.update(model({ ...b, http: [{ listen: [{ address: '127.0.0.1', port: web }, { address: '127.0.0.1', port: busy }], locations: [static1] }] }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.stage).toBe('verify');
      expect(r.rolledBack).toBe(true);
      expect(r.reason).toMatch(/not serving/);
      expect(r.reason).toMatch(/Address already in use/);
      expect(r.kept).toBe(good);
    }
    expect((await c.status()).serving).toBe(good);
    expect((await get(web, '/static/app.css')).status).toBe(200);
    expect(c.applier.counters.rollbacks).toBe(1);
  });

  it('marks a dead upstream server down after `fall` checks, sends nothing to it, and puts it back after `rise`', async () => {
    const env = nginxEnv();
    const a = await httpBackend('a');
    const bk: Backend = await httpBackend('b');
    cleanups.push(() => a.close(), () => bk.close());
    const web = await freePort();
    const c = await startController(env, model({
      ...(await base(env)),
      upstreams: {
        app: {
          servers: [{ address: '127.0.0.1', port: a.port }, { address: '127.0.0.1', port: bk.port }],
          check: { type: 'http', path: '/health', interval: 0.3, timeout: 0.25, fall: 2, rise: 2, body: '^[ab] ' },
        },
      },
      http: [{ listen: [{ address: '127.0.0.1', port: web }], locations: [{ type: 'proxy', path: '/', upstream: 'app' }] }],
    }));
    const bKey = `app/127.0.0.1:${bk.port}`;

    await bk.close();
    await waitFor(async () => (await c.status()).down.includes(bKey), { timeoutMs: 20_000, what: 'b marked down' });
    expect(readFileSync(c.applier.paths.conf, 'utf8')).toMatch(new RegExp(`server 127\\.0\\.0\\.1:${bk.port} .* down;`));
    const states = (await c.status()).upstreams;
    expect(states.find((s) => s.server === `127.0.0.1:${bk.port}`)?.up).toBe(false);
    // Only the test's 20 requests are counted (tagged), not the health checks that reach a
    // meanwhile; nginx's error log shows whether it tried b (connect() refused, then the next server).
    const logBefore = readFileSync(c.applier.paths.errorLog, 'utf8').length;
    const urls = Array.from({ length: 20 }, (_, i) => `/x?n=${i}`);
    for (const url of urls) {
      const r = await get(web, url);
      expect(r.status).toBe(200);
      expect(r.body).toBe(`a ${url}\n`);
    }
    expect(a.urls.filter((u) => u.startsWith('/x?'))).toEqual(urls);
    expect(readFileSync(c.applier.paths.errorLog, 'utf8').slice(logBefore)).not.toContain(`127.0.0.1:${bk.port}`);

    await bk.listen();
    await waitFor(async () => !(await c.status()).down.includes(bKey), { timeoutMs: 20_000, what: 'b back up' });
    await waitFor(async () => (await get(web, '/y')).body === 'b /y\n', { timeoutMs: 10_000, what: 'a request reaching b again' });
  });

  it('never marks every server of a group down (fail open)', async () => {
    const env = nginxEnv();
    const a = await httpBackend('a');
    cleanups.push(() => a.close());
    const dead = await freePort();
    const web = await freePort();
    const c = await startController(env, model({
      ...(await base(env)),
      upstreams: { app: { servers: [{ address: '127.0.0.1', port: dead }], check: { type: 'tcp', interval: 0.3, timeout: 0.25, fall: 1, rise: 1 } } },
      http: [{ listen: [{ address: '127.0.0.1', port: web }], locations: [{ type: 'proxy', path: '/', upstream: 'app' }] }],
    }));
    await waitFor(() => (c.counters().groups_fail_open ?? 0) === 1 || env.lines.some((l) => l.includes('fail open')), { timeoutMs: 15_000, what: 'fail-open log' });
    const st = await c.status();
    expect(st.down).toEqual([]);
    expect(readFileSync(c.applier.paths.conf, 'utf8')).not.toMatch(/ down;/);
  });

  it('restarts a killed Nginx master, and the nginx track goes down and up', async () => {
    const env = nginxEnv();
    const web = await freePort();
    const c = await startController(env, model({ ...(await base(env)), http: [{ listen: [{ address: '127.0.0.1', port: web }], locations: [{ type: 'static', path: '/static/', root: env.www }] }] }));
    await waitFor(() => c.health.up === true, { timeoutMs: 15_000, what: 'nginx track up' });
    const events: TrackEvent[] = [];
    c.health.on((e) => events.push(e));
    const first = c.supervisor.pid!;

    process.kill(first, 'SIGKILL');
    const second = await waitFor(() => (c.supervisor.pid !== undefined && c.supervisor.pid !== first ? c.supervisor.pid : undefined), { timeoutMs: 20_000, what: 'a new master' });
    expect(second).not.toBe(first);
    await waitFor(() => events.some((e) => !e.up) && c.health.up === true, { timeoutMs: 20_000, what: 'track down then up' });
    expect(events[0]!.up).toBe(false);
    expect(c.supervisor.counters.deaths).toBe(1);
    expect(c.supervisor.counters.orphans_killed).toBeGreaterThanOrEqual(1);
    expect((await get(web, '/static/app.css')).status).toBe(200);
    expect((await c.status()).serving).toBe(c.applier.goodGeneration);
  });

  it('loses no request on fresh connections across several reloads', async () => {
    const env = nginxEnv();
    const a = await httpBackend('a');
    const b = await httpBackend('b');
    cleanups.push(() => a.close(), () => b.close());
    const web = await freePort();
    const bse = await base(env);
    const mk = (wa: number) => model({
      ...bse,
      upstreams: { app: { servers: [{ address: '127.0.0.1', port: a.port, weight: wa }, { address: '127.0.0.1', port: b.port }] } },
      http: [{ listen: [{ address: '127.0.0.1', port: web }], locations: [{ type: 'proxy', path: '/api/', upstream: 'app' }, { type: 'static', path: '/static/', root: env.www }] }],
    });
    const c = await startController(env, mk(1));
    const reloadsBefore = c.applier.counters.reloads;

    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const load = (async () => {
      let i = 0;
      while (!stop && i < 2000) {
        i++;
        try {
          const r = await get(web, i % 2 ? '/api/x' : '/static/app.css');
          if (r.status === 200) ok++;
          else failures.push(`status ${r.status}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    })();
    for (let w = 2; w <= 6; w++) {
      const r = await c.update(mk(w));
      expect(r.ok, JSON.stringify(r)).toBe(true);
    }
    await waitFor(() => ok >= 300, { timeoutMs: 30_000, what: '300 requests' });
    stop = true;
    await load;
    expect(c.applier.counters.reloads - reloadsBefore).toBe(5);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThanOrEqual(300);
  });

  it('renders the same bytes for the same model (real model round trip)', async () => {
    const env = nginxEnv();
    cleanups.push(() => env.dir.remove());
    const m = model({ ...(await base(env)), http: [{ listen: [{ port: 8080 }], locations: [{ type: 'static', path: '/', root: env.www }] }] });
    const a = renderNginxConf({ model: m, settings: resolveSettings(m) });
    const b = renderNginxConf({ model: structuredClone(m), settings: resolveSettings(m) });
    expect(a.ok && b.ok && a.text === b.text).toBe(true);
  });
});
