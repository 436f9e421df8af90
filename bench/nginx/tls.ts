// Benchmark: HTTPS through twinvip's rendered config.
// 1. Reloads under HTTPS load: wrk with `Connection: close` (every request a new TCP connection
//    and a full TLS handshake) while 100 reloads go through the controller: 50 config changes
//    (an upstream weight) and 50 certificate rotations (a new pair renamed over the files, picked
//    up by the controller's look at the certificates). Counts failed fresh HTTPS connections.
// 2. Handshakes per second: the same server (TLS intermediate profile, HTTP/2, session cache,
//    a static file) rendered by twinvip and written by hand for plain Nginx, each its own master,
//    measured alternately with wrk (Connection: close => one full handshake per request).
// Loopback only; bounded in count and time; kills only the processes it started, by PID.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TLS_PROFILE_LINES } from '../../src/nginx/tls-profiles';
import { benchDir, freePort, machine, main, median, model, onCleanup, run, sleep, startController, startUpstream, staticRoot, timedLogger } from './lib';
import { writeResult } from './results';

const RELOADS = Number(process.env.NBENCH_CHANGES ?? 100);
const PERIOD_MS = Number(process.env.NBENCH_PERIOD_MS ?? 250);
const CONNECTIONS = Number(process.env.NBENCH_CONNECTIONS ?? 8);
const RUNS = Number(process.env.NBENCH_RUNS ?? 5);
const WINDOW_S = Number(process.env.NBENCH_TLS_WINDOW_S ?? 8);

const WRK_SCRIPT = `
local headers = { ["Connection"] = "close", ["Host"] = "www.example.net" }
request = function() return wrk.format("GET", "/static/app.css", headers) end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"latency_p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(99)))
end
`;

interface Wrk { requests: number; duration_us: number; connect: number; read: number; write: number; status: number; timeout: number; latency_p99_us: number }

function wrk(script: string, port: number, seconds: number | undefined): { stop: () => Promise<Wrk>; done: Promise<Wrk> } {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds ?? 600}s`, '--timeout', '5s', '-s', script, `https://127.0.0.1:${port}`];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const parse = async () => {
    await exited;
    const m = /WRKJSON (\{.*\})/.exec(out);
    if (!m) throw new Error(`wrk printed no summary:\n${out}`);
    return JSON.parse(m[1]!) as Wrk;
  };
  return {
    stop: async () => {
      child.kill('SIGINT');
      return parse();
    },
    done: parse(),
  };
}

function makePair(dir: string, name: string): { certificate: string; key: string } {
  const certificate = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', certificate, '-days', '90', '-subj', '/CN=www.example.net', '-addext', 'subjectAltName=DNS:www.example.net'], { stdio: 'ignore' });
  chmodSync(key, 0o600);
  return { certificate, key };
}

function install(from: { certificate: string; key: string }, to: { certificate: string; key: string }): void {
  copyFileSync(from.key, `${to.key}.new`);
  chmodSync(`${to.key}.new`, 0o600);
  copyFileSync(from.certificate, `${to.certificate}.new`);
  renameSync(`${to.key}.new`, to.key);
  renameSync(`${to.certificate}.new`, to.certificate);
}

/** The same server as an operator writes it for plain Nginx (no twinvip), on its own prefix. */
function handWritten(prefix: string, port: number, www: string, pair: { certificate: string; key: string }): string {
  const p = TLS_PROFILE_LINES.intermediate!;
  return `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  sendfile on;
  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port} ssl http2;
    server_name www.example.net;
    ssl_certificate ${pair.certificate};
    ssl_certificate_key ${pair.key};
    ssl_protocols ${p.protocols.join(' ')};
    ssl_ciphers ${p.ciphers};
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;
    location /static/ { root ${www}; }
  }
}
`;
}

main(async () => {
  const info = await machine();
  if (info.wrk === 'absent') throw new Error('wrk is not installed (Debian: apt-get install -y wrk)');
  const dir = benchDir('tls');
  const www = staticRoot(dir);
  const script = join(dir, 'tls.lua');
  writeFileSync(script, WRK_SCRIPT);
  const certs = join(dir, 'certs');
  mkdirSync(certs);
  const live = makePair(certs, 'live');
  const spares = [makePair(certs, 'spare0'), makePair(certs, 'spare1')];
  const api = await startUpstream('api');
  const port = await freePort();
  const prefix = join(dir, 'prefix');
  const status = await freePort();
  const mk = (weight: number) =>
    model({
      prefix,
      status: { port: status },
      reload: { min_interval: 0.05, verify_timeout: 5 },
      certificates: { poll_interval: 3600 },
      upstreams: { api: { servers: [{ address: '127.0.0.1', port: api.port, weight }], keepalive: 8 } },
      http: [{
        listen: [{ address: '127.0.0.1', port }],
        server_names: ['www.example.net'],
        tls: { certificate_file: live.certificate, key_file: live.key },
        locations: [
          { type: 'static', path: '/static/', root: www },
          { type: 'proxy', path: '/api/', upstream: 'api' },
        ],
      }],
    });
  const { log } = timedLogger();
  let weight = 1;
  const c = await startController(mk(weight), log);

  // 1. 100 reloads (50 config changes, 50 rotations) under fresh-connection HTTPS load.
  const reloadsBefore = c.applier.counters.reloads;
  const load = wrk(script, port, undefined);
  await sleep(1000);
  let confirmed = 0;
  const applyMs: number[] = [];
  const t0 = Date.now();
  for (let i = 0; i < RELOADS; i++) {
    const slot = t0 + (i + 1) * PERIOD_MS;
    if (i % 2 === 0) {
      weight = (weight % 1000) + 1;
      const r = await c.update(mk(weight));
      if (r.ok && r.reloaded) confirmed++;
      applyMs.push(r.durationMs);
    } else {
      install(spares[(i >> 1) % 2]!, live);
      const r = await c.lookAtCertificates('benchmark rotation');
      if (r?.ok && r.reloaded) confirmed++;
      if (r) applyMs.push(r.durationMs);
    }
    const wait = slot - Date.now();
    if (wait > 0) await sleep(wait);
  }
  const elapsed = Date.now() - t0;
  await sleep(1000);
  const w = await load.stop();
  const reloadResult = {
    reloads: RELOADS,
    reloads_confirmed: confirmed,
    nginx_reloads: c.applier.counters.reloads - reloadsBefore,
    rotations: c.certificateCounters.rotations,
    mean_period_ms: Math.round(elapsed / RELOADS),
    mean_apply_ms: Math.round(applyMs.reduce((a, b) => a + b, 0) / Math.max(1, applyMs.length)),
    requests: w.requests,
    failed: w.connect + w.read + w.write + w.timeout + w.status,
    errors: { connect: w.connect, read: w.read, write: w.write, timeout: w.timeout, http: w.status },
    handshakes_per_s: Math.round(w.requests / (w.duration_us / 1e6)),
    latency_p99_ms: Math.round(w.latency_p99_us / 100) / 10,
  };
  console.log('reloads under HTTPS load:', JSON.stringify(reloadResult));

  // 2. Handshakes per second, twinvip's rendered config vs the hand-written one.
  const plainDir = join(dir, 'plain');
  mkdirSync(plainDir);
  const plainPort = await freePort();
  const plainPair = makePair(certs, 'plain');
  install(plainPair, live); // both serve the same key type and size
  await c.lookAtCertificates('same pair as plain');
  writeFileSync(join(plainDir, 'nginx.conf'), handWritten(plainDir, plainPort, www, plainPair));
  const t = await run('/usr/sbin/nginx', ['-t', '-p', `${plainDir}/`, '-c', join(plainDir, 'nginx.conf')]);
  if (t.code !== 0) throw new Error(`hand-written config refused: ${t.out}`);
  const master = spawn('/usr/sbin/nginx', ['-p', `${plainDir}/`, '-c', join(plainDir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  onCleanup(() => {
    if (master.exitCode === null && master.signalCode === null) master.kill('SIGQUIT');
  });
  await sleep(1000);
  const rates = { twinvip: [] as number[], plain: [] as number[] };
  const failed = { twinvip: 0, plain: 0 };
  for (let i = 0; i < RUNS; i++) {
    for (const which of (i % 2 === 0 ? ['twinvip', 'plain'] : ['plain', 'twinvip']) as ('twinvip' | 'plain')[]) {
      const r = await wrk(script, which === 'twinvip' ? port : plainPort, WINDOW_S).done;
      rates[which].push(Math.round(r.requests / (r.duration_us / 1e6)));
      failed[which] += r.connect + r.read + r.write + r.timeout + r.status;
    }
  }
  const handshakes = {
    runs: RUNS,
    window_s: WINDOW_S,
    connections: CONNECTIONS,
    twinvip_per_run: rates.twinvip,
    plain_per_run: rates.plain,
    twinvip_median: median(rates.twinvip),
    plain_median: median(rates.plain),
    ratio: Math.round((median(rates.twinvip) / median(rates.plain)) * 100) / 100,
    failed,
  };
  console.log('TLS handshakes/s:', JSON.stringify(handshakes));
  const sample = readFileSync(c.applier.paths.conf, 'utf8');
  const file = writeResult('tls', { info, reload: reloadResult, handshakes, rendered_server_tls_lines: sample.split('\n').filter((l) => /ssl_|listen .*ssl/.test(l)).map((l) => l.trim()) });
  console.log(`written ${file}`);
});
