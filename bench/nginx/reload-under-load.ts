// Benchmark: reloads under load. Real Nginx 1.22 applied through twinvip's controller (render ->
// nginx -t -> swap -> HUP -> generation probe) serves a static file and a path proxied to a
// loopback upstream process, while wrk loads it; 100 real config changes (an upstream weight, so
// each one renders a new generation and really reloads) are applied one after the other. Then
// the same with keep-alive clients, and both again with a plain `nginx -s reload` loop of 100
// reloads of the same config, at the same pace, on the same master: side by side in one run.
// Loopback only; bounded (100 changes per mode, wrk stopped by SIGINT after the loop).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, freePort, get, machine, main, model, onCleanup, run, sleep, startController, startUpstream, staticRoot, timedLogger } from './lib';
import { writeResult } from './results';

const CHANGES = Number(process.env.NBENCH_CHANGES ?? 100);
/** Target period between two changes; the plain loop runs at the pace twinvip actually achieved. */
const PERIOD_MS = Number(process.env.NBENCH_PERIOD_MS ?? 250);
const CONNECTIONS = Number(process.env.NBENCH_CONNECTIONS ?? 8);
const LEAD_MS = 1000;
const TAIL_MS = 1000;

// Alternates the static file and the proxied path; `done` prints wrk's counters as one JSON line.
const WRK_SCRIPT = `
local paths = { "/static/app.css", "/api/item" }
local i = 0
local headers = {}
init = function(args)
  if args[1] == "close" then headers["Connection"] = "close" end
end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % 2) + 1], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"latency_max_us":%d,"latency_p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, latency.max, latency:percentile(99)))
end
`;

interface WrkSummary {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  latency_max_us: number;
  latency_p99_us: number;
}

/** wrk until stopped: returns a stop function resolving to its counters. */
function startWrk(script: string, port: number, mode: 'close' | 'keepalive'): () => Promise<WrkSummary> {
  const child = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, '-d600s', '--timeout', '5s', '-s', script, `http://127.0.0.1:${port}`, '--', mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return async () => {
    child.kill('SIGINT'); // wrk prints its summary (and runs `done`) on SIGINT
    await exited;
    const m = /WRKJSON (\{.*\})/.exec(out);
    if (!m) throw new Error(`wrk printed no summary:\n${out}`);
    return JSON.parse(m[1]!) as WrkSummary;
  };
}

interface ModeResult {
  mode: string;
  reloader: 'twinvip' | 'plain';
  connections: 'fresh' | 'keep-alive';
  changes: number;
  reloads_confirmed: number;
  apply_failures: number;
  mean_period_ms: number;
  mean_apply_ms: number | null;
  requests: number;
  failed: number;
  resets: number;
  connect_errors: number;
  write_errors: number;
  timeouts: number;
  http_errors: number;
  rps: number;
  latency_max_ms: number;
  latency_p99_ms: number;
}

main(async () => {
  const info = await machine();
  if (info.wrk === 'absent') throw new Error('wrk is not installed (Debian: apt-get install -y wrk)');
  const dir = benchDir('reload');
  const www = staticRoot(dir);
  const script = join(dir, 'load.lua');
  writeFileSync(script, WRK_SCRIPT);
  const api = await startUpstream('api');
  const web = await freePort();
  const status = await freePort();
  const prefix = join(dir, 'prefix');
  const mk = (weight: number) =>
    model({
      prefix,
      status: { port: status },
      reload: { min_interval: 0.05, verify_timeout: 5 },
      upstreams: { api: { servers: [{ address: '127.0.0.1', port: api.port, weight }], keepalive: 8 } },
      http: [{
        listen: [{ address: '127.0.0.1', port: web }],
        locations: [
          { type: 'static', path: '/static/', root: www, expires: '1h' },
          { type: 'proxy', path: '/api/', upstream: 'api' },
        ],
      }],
    });
  const { log } = timedLogger();
  let weight = 1;
  const c = await startController(mk(weight), log);
  for (const path of ['/static/app.css', '/api/item']) {
    const r = await get(web, path);
    if (r.status !== 200) throw new Error(`warm-up ${path}: status ${r.status}`);
  }
  const conf = c.applier.paths.conf;

  const twinvipLoop = async (): Promise<{ confirmed: number; failures: number; elapsed: number; applyMs: number[] }> => {
    let confirmed = 0;
    let failures = 0;
    const applyMs: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < CHANGES; i++) {
      const slot = t0 + (i + 1) * PERIOD_MS;
      weight = (weight % 1000) + 1;
      const r = await c.update(mk(weight));
      if (r.ok && r.reloaded) confirmed++;
      else failures++;
      applyMs.push(r.durationMs);
      const wait = slot - Date.now();
      if (wait > 0) await sleep(wait);
    }
    return { confirmed, failures, elapsed: Date.now() - t0, applyMs };
  };

  const plainLoop = async (periodMs: number): Promise<{ confirmed: number; failures: number; elapsed: number }> => {
    let confirmed = 0;
    let failures = 0;
    const t0 = Date.now();
    for (let i = 0; i < CHANGES; i++) {
      const slot = t0 + (i + 1) * periodMs;
      // What an operator's script does: signal through the pid file, trust the exit code.
      const r = await run('/usr/sbin/nginx', ['-p', `${prefix}/`, '-c', conf, '-s', 'reload']);
      if (r.code === 0) confirmed++;
      else failures++;
      const wait = slot - Date.now();
      if (wait > 0) await sleep(wait);
    }
    return { confirmed, failures, elapsed: Date.now() - t0 };
  };

  const results: ModeResult[] = [];
  const paceFor: Record<string, number> = {};
  // Interleaved so a drift of the machine during the run hits both reloaders alike.
  const modes: [ModeResult['reloader'], 'close' | 'keepalive'][] = [
    ['twinvip', 'close'],
    ['plain', 'close'],
    ['twinvip', 'keepalive'],
    ['plain', 'keepalive'],
  ];
  for (const [reloader, conn] of modes) {
    const reloadsBefore = c.applier.counters.reloads;
    const stop = startWrk(script, web, conn);
    await sleep(LEAD_MS);
    let loop: { confirmed: number; failures: number; elapsed: number; applyMs?: number[] };
    if (reloader === 'twinvip') {
      loop = await twinvipLoop();
      paceFor[conn] = loop.elapsed / CHANGES;
      if (c.applier.counters.reloads - reloadsBefore !== loop.confirmed) throw new Error('reload counter disagrees with confirmed applies');
    } else {
      loop = await plainLoop(paceFor[conn] ?? PERIOD_MS);
    }
    await sleep(TAIL_MS);
    const w = await stop();
    const failed = w.connect + w.read + w.write + w.timeout + w.status;
    const r: ModeResult = {
      mode: `${reloader}, ${conn === 'close' ? 'fresh connections' : 'keep-alive'}`,
      reloader,
      connections: conn === 'close' ? 'fresh' : 'keep-alive',
      changes: CHANGES,
      reloads_confirmed: loop.confirmed,
      apply_failures: loop.failures,
      mean_period_ms: Math.round(loop.elapsed / CHANGES),
      mean_apply_ms: loop.applyMs ? Math.round(loop.applyMs.reduce((a, b) => a + b, 0) / loop.applyMs.length) : null,
      requests: w.requests,
      failed,
      resets: w.read,
      connect_errors: w.connect,
      write_errors: w.write,
      timeouts: w.timeout,
      http_errors: w.status,
      rps: Math.round(w.requests / (w.duration_us / 1e6)),
      latency_max_ms: Math.round(w.latency_max_us / 100) / 10,
      latency_p99_ms: Math.round(w.latency_p99_us / 100) / 10,
    };
    results.push(r);
    console.log(`${r.mode}: ${r.requests} requests, ${r.failed} failed (${r.resets} read errors/resets, ${r.connect_errors} connect, ${r.write_errors} write, ${r.timeouts} timeouts, ${r.http_errors} HTTP >= 400); ${r.reloads_confirmed}/${CHANGES} reloads, period ${r.mean_period_ms} ms${r.mean_apply_ms !== null ? `, apply ${r.mean_apply_ms} ms` : ''}`);
  }
  if (c.applier.counters.rollbacks > 0) throw new Error(`${c.applier.counters.rollbacks} rollbacks during the benchmark`);

  const byMode = (rel: string, conn: string) => results.find((r) => r.reloader === rel && r.connections === conn)!;
  const kaT = byMode('twinvip', 'keep-alive');
  const kaP = byMode('plain', 'keep-alive');
  const per100k = (r: ModeResult) => (r.requests > 0 ? (r.resets / r.requests) * 1e5 : 0);
  const summary = {
    fresh_failed_twinvip: byMode('twinvip', 'fresh').failed,
    fresh_target_met: byMode('twinvip', 'fresh').failed === 0,
    keepalive_resets_per_100k_twinvip: Math.round(per100k(kaT) * 10) / 10,
    keepalive_resets_per_100k_plain: Math.round(per100k(kaP) * 10) / 10,
    keepalive_resets_per_reload_twinvip: Math.round((kaT.resets / CHANGES) * 100) / 100,
    keepalive_resets_per_reload_plain: Math.round((kaP.resets / CHANGES) * 100) / 100,
    keepalive_ratio_twinvip_to_plain: kaP.resets > 0 ? Math.round((kaT.resets / kaP.resets) * 100) / 100 : null,
  };
  console.log('\n| mode | requests | failed | resets (read errors) | connect/write/timeout/HTTP errors | reloads | period ms | req/s | p99 / max latency ms |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.mode} | ${r.requests} | ${r.failed} | ${r.resets} | ${r.connect_errors}/${r.write_errors}/${r.timeouts}/${r.http_errors} | ${r.reloads_confirmed}/${r.changes} | ${r.mean_period_ms} | ${r.rps} | ${r.latency_p99_ms} / ${r.latency_max_ms} |`);
  }
  console.log(`\n${JSON.stringify(summary)}`);
  const file = writeResult('reload-under-load', { info, params: { changes: CHANGES, period_ms: PERIOD_MS, connections: CONNECTIONS, wrk_threads: 1, worker_processes: 1 }, results, summary });
  console.log(`results: ${file}`);
});
