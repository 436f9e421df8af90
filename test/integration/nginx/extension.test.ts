// The Nginx feature inside a real Daemon (in process): starts Nginx from the config, answers the
// `nginx` control command, counts, re-applies on a config reload, and stops Nginx on daemon stop.
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText, type TwinvipConfig } from '../../../src/config';
import { requestOnce } from '../../../src/control/client';
import { Daemon } from '../../../src/daemon';
import { Logger, memorySink } from '../../../src/log';
import { NginxExtension } from '../../../src/nginx';
import { processState } from '../../../src/nginx/proc';
import type { TrackEvent } from '../../../src/track';
import { waitFor } from '../../helpers/wait';
import { freePort, get, httpBackend, nginxEnv } from './env';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
});

describe('NginxExtension in a daemon', () => {
  it('runs Nginx from the config, reports it over the control socket, follows reloads and stops it', async () => {
    const env = nginxEnv();
    cleanups.push(() => env.dir.remove());
    const api = await httpBackend('api');
    cleanups.push(() => api.close());
    const web = await freePort();
    const statusPort = await freePort();
    const sock = env.dir.file('control.sock');
    const raw = (readTimeout: number) => ({
      node: { name: 'box-a', state_dir: env.dir.file('state') },
      control: { socket: sock },
      nginx: {
        enabled: true, prefix: env.prefix, status: { port: statusPort }, worker_shutdown_timeout: 2,
        reload: { min_interval: 0.1, verify_timeout: 6 }, supervise: { health_interval: 0.3, fall: 1, rise: 1 },
        upstreams: { api: { servers: [{ address: '127.0.0.1', port: api.port }] } },
        http: [{ listen: [{ address: '127.0.0.1', port: web }], locations: [{ type: 'proxy', path: '/api/', upstream: 'api', read_timeout: readTimeout }] }],
      },
    });
    const parse = (o: unknown): TwinvipConfig => {
      const r = parseConfigText(JSON.stringify(o), 'c.json');
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      return r.config;
    };
    let current = raw(30);
    const logger = new Logger({ sink: memorySink() });
    const ext = new NginxExtension();
    const events: TrackEvent[] = [];
    ext.on((e) => events.push(e));
    const daemon = new Daemon({
      configPath: env.dir.file('c.json'), config: parse(current), configHash: 'h1', logger, extensions: [ext],
      loadConfig: async () => ({ ok: true, config: parse(current), hash: JSON.stringify(current).length.toString(16) + Date.now(), warnings: [] }),
    });
    cleanups.push(() => daemon.stop('test cleanup'));
    expect(await daemon.start()).toEqual({ ok: true });

    expect((await get(web, '/api/x')).body).toBe('api /api/x\n');
    await waitFor(() => ext.up === true, { timeoutMs: 15_000, what: 'nginx track up' });
    expect(events.at(-1)).toMatchObject({ name: 'nginx', up: true });

    const r = await requestOnce(sock, 'nginx');
    expect(r.ok).toBe(true);
    const data = (r.ok && r.response.status === 'ok' ? r.response.data : undefined) as { pid: number; generation: string; serving: string; last_apply: { ok: boolean } };
    expect(data.pid).toBeGreaterThan(1);
    expect(data.serving).toBe(data.generation);
    expect(data.last_apply.ok).toBe(true);
    const pid = data.pid;
    cleanups.push(async () => {
      if ((await processState(pid)) === 'running') process.kill(pid, 'SIGKILL');
    });
    expect(daemon.status().counters.nginx).toMatchObject({ healthy: 1, master_starts: 1 });

    current = raw(20);
    expect((await daemon.reload('test')).ok).toBe(true);
    const after = await requestOnce(sock, 'nginx');
    const d2 = (after.ok && after.response.status === 'ok' ? after.response.data : undefined) as { generation: string; serving: string; pid: number };
    expect(d2.generation).not.toBe(data.generation);
    expect(d2.serving).toBe(d2.generation);
    expect(d2.pid).toBe(pid); // reloaded, not restarted

    await daemon.stop('test');
    await waitFor(async () => (await processState(pid)) !== 'running', { timeoutMs: 15_000, what: 'Nginx master gone after stop' });
  });

  it('stops within its grace when a connection never finishes: graceful quit, then fast shutdown', async () => {
    const env = nginxEnv();
    cleanups.push(() => env.dir.remove());
    // An upstream that accepts and never answers: the proxied request stays open in the worker.
    const held: Socket[] = [];
    const stuck = createNetServer((s) => held.push(s));
    await new Promise<void>((r) => stuck.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const s of held) s.destroy();
      return new Promise<void>((r) => stuck.close(() => r()));
    });
    const stuckPort = (stuck.address() as { port: number }).port;
    const web = await freePort();
    const raw = {
      node: { name: 'box-a', state_dir: env.dir.file('state') },
      control: { socket: env.dir.file('control.sock') },
      nginx: {
        enabled: true, prefix: env.prefix, status: { port: await freePort() }, worker_shutdown_timeout: 60,
        upstreams: { slow: { servers: [{ address: '127.0.0.1', port: stuckPort }] } },
        http: [{ listen: [{ address: '127.0.0.1', port: web }], locations: [{ type: 'proxy', path: '/slow/', upstream: 'slow', read_timeout: 120 }] }],
      },
    };
    const r = parseConfigText(JSON.stringify(raw), 'c.json');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const lines: string[] = [];
    const ext = new NginxExtension();
    const daemon = new Daemon({ configPath: env.dir.file('c.json'), config: r.config, configHash: 'h1', logger: new Logger({ sink: (l) => lines.push(l) }), extensions: [ext] });
    cleanups.push(() => daemon.stop('test cleanup'));
    expect(await daemon.start()).toEqual({ ok: true });
    const pid = (ext.snapshot() as { pid: number }).pid;
    cleanups.push(async () => {
      if ((await processState(pid)) === 'running') process.kill(pid, 'SIGKILL');
    });
    const client = connect(web, '127.0.0.1');
    cleanups.push(() => void client.destroy());
    client.on('error', () => {});
    client.write('GET /slow/x HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => held.length > 0, { timeoutMs: 15_000, what: 'the request reaching the stuck upstream' });

    const t0 = performance.now();
    await daemon.stop('test');
    const took = performance.now() - t0;
    expect(await processState(pid)).not.toBe('running');
    expect(lines.some((l) => /still has connections after 3000 ms; fast shutdown/.test(l))).toBe(true);
    // worker_shutdown_timeout is 60 s: a graceful quit alone would still be waiting.
    expect(took).toBeLessThan(30_000);
  });
});
