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
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { nginxView } from '../../../src/commands/run-views';
import type { DaemonEvents } from '../../../src/daemon';
import { freePort, get, httpBackend, nginxEnv } from './env';
import { httpsGet, makeCert } from './tls-env';

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

  it('raises certificate-expiring on the bus, shows days left in status and the console, and refuses a reload with a mismatched pair (old config serving)', async () => {
    const env = nginxEnv();
    cleanups.push(() => env.dir.remove());
    const soon = await makeCert(env.dir.path, 'soon', ['www.example.net'], 10);
    const other = await makeCert(env.dir.path, 'other', ['www.example.net'], 400);
    const https = await freePort();
    const statusPort = await freePort();
    const sock = env.dir.file('control.sock');
    const file = env.dir.file('c.json');
    const raw = (key: string) => ({
      node: { name: 'box-a', state_dir: env.dir.file('state') },
      control: { socket: sock },
      nginx: {
        enabled: true, prefix: env.prefix, status: { port: statusPort }, worker_shutdown_timeout: 2,
        reload: { min_interval: 0.1, verify_timeout: 6 }, supervise: { health_interval: 0.3, fall: 1, rise: 1 },
        certificates: { alarm_days: 30 },
        http: [{ listen: [{ address: '127.0.0.1', port: https }], tls: { certificate_file: soon.certificate, key_file: key }, locations: [{ type: 'static', path: '/static/', root: env.www }] }],
      },
    });
    writeFileSync(file, JSON.stringify(raw(soon.key)));
    const first = parseConfigText(JSON.stringify(raw(soon.key)), 'c.json');
    if (!first.ok) throw new Error(JSON.stringify(first.errors));
    const ext = new NginxExtension();
    // The real loader (with its file checks) for reloads, as `twinvip run` does.
    const daemon = new Daemon({ configPath: file, config: first.config, configHash: first.hash, logger: new Logger({ sink: memorySink() }), extensions: [ext] });
    const alarms: DaemonEvents['alarm'][] = [];
    daemon.bus.on('alarm', (a) => alarms.push(a));
    cleanups.push(() => daemon.stop('test cleanup'));
    expect(await daemon.start()).toEqual({ ok: true });
    const pid = ext.snapshot()?.pid;
    cleanups.push(async () => {
      if (pid && (await processState(pid)) === 'running') process.kill(pid, 'SIGKILL');
    });

    await waitFor(() => alarms.length > 0, { timeoutMs: 15_000, what: 'certificate alarm on the bus' });
    expect(alarms[0]).toMatchObject({ id: `certificate-expiring:${soon.certificate}`, active: true, severity: 'warning' });
    expect(alarms[0]!.message).toMatch(/expires in 9 days/);
    const r = await requestOnce(sock, 'nginx');
    const data = (r.ok && r.response.status === 'ok' ? r.response.data : undefined) as { certificates: { certificate_file: string; days_left: number; state: string }[]; generation: string };
    expect(data.certificates).toMatchObject([{ certificate_file: soon.certificate, days_left: 9, state: 'expiring' }]);
    expect(nginxView(ext)?.extra).toEqual([[`certificate ${soon.certificate}`, 'expiring, 9 days left (www.example.net)']]);
    expect(ext.certificates()[0]).toMatchObject({ days_left: 9, not_after: expect.any(String) });

    // A reload naming a key that is not the certificate's: refused by the loader, nothing applied.
    writeFileSync(file, JSON.stringify(raw(other.key)));
    const refused = await daemon.reload('test');
    expect(refused.ok ? '' : refused.errors.join('\n')).toMatch(/\/nginx\/http\/0\/tls\/key_file: .* is not the key of /);
    const after = await requestOnce(sock, 'nginx');
    const d2 = (after.ok && after.response.status === 'ok' ? after.response.data : undefined) as { generation: string; serving: string };
    expect(d2.serving).toBe(data.generation);
    const served = await httpsGet(https, 'www.example.net', '/static/app.css');
    expect([served.status, served.fingerprint]).toEqual([200, soon.fingerprint]);
  });

  it('Nginx control broken while running (binary gone, master killed): degraded with a critical alarm until it serves again', async () => {
    const env = nginxEnv();
    cleanups.push(() => env.dir.remove());
    const web = await freePort();
    const statusPort = await freePort();
    const binary = env.dir.file('nginx-copy');
    copyFileSync('/usr/sbin/nginx', binary);
    const r = parseConfigText(JSON.stringify({
      node: { name: 'box-a', state_dir: env.dir.file('state') },
      control: { socket: env.dir.file('control.sock') },
      nginx: {
        enabled: true, binary, prefix: env.prefix, status: { port: statusPort }, worker_shutdown_timeout: 2,
        supervise: { health_interval: 0.3, fall: 1, rise: 1, restart_min: 0.2, restart_max: 1 },
        http: [{ listen: [{ address: '127.0.0.1', port: web }], locations: [{ type: 'static', path: '/', root: env.www }] }],
      },
    }), 'c.json');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const ext = new NginxExtension();
    const daemon = new Daemon({ configPath: env.dir.file('c.json'), config: r.config, configHash: 'h1', logger: new Logger({ sink: memorySink() }), extensions: [ext] });
    cleanups.push(() => daemon.stop('test cleanup'));
    const alarms: DaemonEvents['alarm'][] = [];
    daemon.bus.on('alarm', (a) => alarms.push(a));
    expect(await daemon.start()).toEqual({ ok: true });
    await waitFor(() => ext.up === true, { timeoutMs: 15_000, what: 'nginx track up' });
    expect(daemon.status().health.state).toBe('ok');

    const pid = (ext.snapshot() as { pid: number }).pid;
    rmSync(binary);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => daemon.status().health.state === 'degraded', { timeoutMs: 20_000, what: 'degraded after the master died with no binary to restart' });
    expect(daemon.status().health.reasons).toEqual([expect.stringMatching(/^Nginx not serving \(.+\); no instance tracks it; the supervisor keeps restarting it$/)]);
    expect(daemon.status().features.nginx?.state).toBe('degraded');
    expect(alarms).toContainEqual(expect.objectContaining({ id: 'nginx-not-serving', active: true, severity: 'critical' }));

    copyFileSync('/usr/sbin/nginx', binary);
    await waitFor(() => daemon.status().health.state === 'ok', { timeoutMs: 30_000, what: 'healthy once the supervisor restarted Nginx' });
    expect(alarms.at(-1)).toMatchObject({ id: 'nginx-not-serving', active: false });
    expect((await get(web, '/static/index.html')).body).toBe('<h1>static</h1>\n');
  });
});
