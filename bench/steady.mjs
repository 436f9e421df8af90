// Steady state of one MASTER over DURATION seconds, twinvip then keepalived, in the lab of
// lab.mjs (a backup runs too, so the master is in its normal pair): advert interval jitter as the
// peer's namespace captures it (tcpdump, kernel timestamps) and the master's resident memory and
// CPU time from /proc. twinvip runs with its serial heartbeat (10 frames/s) and nothing else
// (no telemetry, checks or MQTT exist yet): the figures are for the VRRP + heartbeat path only.
//
// Usage: node bench/steady.mjs [--seconds 60] [--out FILE]   (about 2 x (seconds + 10) s)
//   --no-serial      VRRP only (no serial heartbeat): the minimal configuration
//   --ab FILE        also runs the bundle FILE (e.g. a copy of the previous dist/) as `twinvip-b`
//   --rounds N       N rounds, the order of the builds alternating per round; keepalived once a
//                    round (unless --only-twinvip). The summary gives each build's median.
//   --keepalived-runtime 'CMD ARGS'  keepalived started by CMD ARGS (qemu-user and an arm64 build)
//   --features       issue 22's per-feature breakdown in one sitting: twinvip as configured (serial
//                    heartbeat, diagnosis), with TWINVIP_DIAGNOSE=off, also without the twin probe
//                    (heartbeat.probe.enabled false: the stall watch's period), and VRRP only (--no-serial,
//                    diagnosis off), order alternating per round, keepalived beside them; with
//                    --ab FILE also that build as configured (before/after in the same sitting).
//   --appliance      with --features: also "the real appliance": MQTT telemetry every 10 s to
//                    mosquitto in namespace c, two instances (VRIDs 88 and 89), a TCP check of the
//                    broker every 2 s tracked by VI_1, a console session open on the control socket
//                    (hello, then idle), serial heartbeat and diagnosis as configured.
//   --ab-node-flags='...'  also runs this build with these Node flags instead (`twinvip flags-b`),
//                    the order alternating per round: a flag A/B in one sitting.
//   --diagnose-ab    twinvip with its split-brain diagnosis (the default) and with
//                    TWINVIP_DIAGNOSE=off as two builds of the A/B (order alternating per round):
//                    issue 23's "diagnosis adds no measurable advert jitter". With --only-twinvip.
// CPU is also given as CPU seconds per hour (percent of one core x 36). It includes the CPU of
// children that ended meanwhile (cutime + cstime: arping, nft, ip...). Per thread (by name, from
// /proc/PID/task/*/stat and status): CPU and wake-ups (voluntary context switches) per second.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { Lab, Proc, exec, median, sleep, waitFor, writeTwinvipConfig } from './lab.mjs';
import { DAEMON_NODE_FLAGS } from '../scripts/node-flags.mjs';
import { describeMachine } from './machine.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VIP = '10.88.0.100';
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, out: { type: 'string' }, bundle: { type: 'string' }, 'only-twinvip': { type: 'boolean' }, 'node-flags': { type: 'string' }, 'period-ms': { type: 'string', default: '100' }, 'no-serial': { type: 'boolean' }, runtime: { type: 'string' }, 'keepalived-runtime': { type: 'string' }, ab: { type: 'string' }, rounds: { type: 'string', default: '1' }, 'diagnose-ab': { type: 'boolean' }, features: { type: 'boolean' }, appliance: { type: 'boolean' }, 'ab-node-flags': { type: 'string' } } });
// --bundle compares another build (e.g. a copy of the previous dist/) in the same run conditions.
const BUNDLE = resolve(values.bundle ?? join(ROOT, 'dist/twinvip.js'));
// The launcher's runtime flags by default; --node-flags='...' tries others ('' for none).
const NODE_FLAGS = values['node-flags'] !== undefined ? values['node-flags'].split(/\s+/).filter(Boolean) : DAEMON_NODE_FLAGS;
const SECONDS = Number(values.seconds);
const TICKS = 100; // USER_HZ on Linux

const lab = new Lab();
let serial;

const BROKER_IP = '10.88.0.9';
let broker;

/** mosquitto in namespace c (the appliance variant's MQTT broker), once per run. */
async function startBroker() {
  if (broker) return;
  const conf = join(lab.dir, 'mosquitto.conf');
  writeFileSync(conf, ['user root', `listener 1883 ${BROKER_IP}`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error'].join('\n') + '\n');
  broker = new Proc(spawn('ip', ['netns', 'exec', lab.ns('c'), 'mosquitto', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] }), 'mosquitto');
  lab.procs.push(broker);
}

/** A console session on the control socket: hello, then left open and idle (as an operator's). */
function openConsole(path) {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(sock);
    });
    sock.once('connect', () => sock.write(`${JSON.stringify({ id: 1, cmd: 'console', args: { hello: true } })}\n`));
    sock.once('error', reject);
    setTimeout(() => reject(new Error('console: no answer to hello')), 20_000).unref();
  });
}

const startTwinvip = (bundle, env, opts = {}) => async (role, priority) => {
  const conf = await writeTwinvipConfig(lab, role, priority, VIP, serial, { periodMs: Number(values['period-ms']), noSerial: values['no-serial'] || opts.noSerial });
  if (opts.probeOff) {
    // No twin probe: the stall threshold is the serial dead time (400 ms), not probe-based (90 ms),
    // so the stall watch beats every 100 ms (covered by the serial period) instead of every 22 ms.
    const c = JSON.parse(readFileSync(conf, 'utf8'));
    c.heartbeat.probe = { enabled: false };
    writeFileSync(conf, JSON.stringify(c));
  }
  if (opts.appliance) {
    await startBroker();
    const c = JSON.parse(readFileSync(conf, 'utf8'));
    c.mqtt = { enabled: true, url: `mqtt://${BROKER_IP}:1883`, telemetry_interval: 10 };
    c.node.state_dir = join(lab.dir, `state-${role}`);
    c.checks = { broker: { type: 'tcp', host: BROKER_IP, port: 1883, interval: 2 } };
    c.instances.VI_1.track_checks = ['broker'];
    c.instances.VI_2 = { interface: `l${role}`, vrid: 89, priority, advert_int: 1, vips: ['10.88.0.101/24'] };
    writeFileSync(conf, JSON.stringify(c));
  }
  // --runtime 'CMD ARGS...': another Node.js, e.g. the arm64 image's under qemu-user
  // ('qemu-aarch64-static -L /usr/aarch64-linux-gnu out/stage-linux-arm64/opt/twinvip/runtime/node').
  const [cmd, ...pre] = values.runtime ? values.runtime.split(/\s+/) : [process.execPath];
  return lab.spawn(role, cmd, [...pre, ...(opts.nodeFlags ?? NODE_FLAGS), bundle, 'run', '-c', conf], env);
};

async function startKeepalived(role, priority) {
  const conf = join(lab.dir, `keepalived-${role}.conf`);
  await writeFile(conf, `global_defs {\n  router_id bench_${role}\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface l${role}\n  virtual_router_id 88\n  priority ${priority}\n  advert_int 1\n  virtual_ipaddress {\n    ${VIP}/24\n  }\n}\n`);
  // --keepalived-runtime 'CMD ARGS...': keepalived run by another program, e.g. Debian's
  // keepalived:arm64 under qemu-user ('qemu-aarch64-static -L SYSROOT SYSROOT/usr/sbin/keepalived').
  const [cmd, ...pre] = values['keepalived-runtime'] ? values['keepalived-runtime'].split(/\s+/) : ['keepalived'];
  return lab.spawn(role, cmd, [...pre, '-n', '-l', '-D', '-P', '-f', conf, '-p', join(lab.dir, `k-${role}.pid`), '-r', join(lab.dir, `v-${role}.pid`)]);
}

/** The process and its descendants (keepalived forks a VRRP child). */
function family(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const kids = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (kids) out.push(...kids.split(/\s+/).map(Number));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Per thread of pid: name, CPU ticks (utime + stime) and voluntary context switches (wake-ups). */
function threads(pid) {
  const out = new Map();
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const st = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      out.set(tid, { name, ticks: Number(f[11]) + Number(f[12]), wakeups: Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1] ?? 0) });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Per thread name (threads of one name summed, e.g. V8's workers): CPU % of one core and wake-ups per second between two threads() samples. */
function perThread(t0, t1, seconds) {
  const by = {};
  for (const [tid, b] of t1) {
    const a = t0.get(tid) ?? { ticks: 0, wakeups: 0 };
    const x = (by[b.name] ??= { threads: 0, cpu_percent: 0, wakeups_per_s: 0 });
    x.threads++;
    x.cpu_percent += ((b.ticks - a.ticks) / TICKS / seconds) * 100;
    x.wakeups_per_s += (b.wakeups - a.wakeups) / seconds;
  }
  for (const x of Object.values(by)) {
    x.cpu_percent = +x.cpu_percent.toFixed(2);
    x.wakeups_per_s = +x.wakeups_per_s.toFixed(1);
  }
  return by;
}

function sample(pids) {
  let cpuTicks = 0;
  let childTicks = 0;
  let rssKb = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuTicks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      childTicks += Number(f[13]) + Number(f[14]);
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      rssKb += m ? Number(m[1]) : 0;
    } catch {
      /* gone */
    }
  }
  return { cpuTicks, childTicks, rssKb };
}

/** The main process's /proc/PID/smaps_rollup in MB: where its resident memory is (anonymous = heaps, file = code). */
function smapsRollup(pid) {
  const out = {};
  try {
    for (const m of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').matchAll(/^(Rss|Pss|Pss_Anon|Pss_File|Anonymous|Shared_Clean|Private_Clean|Private_Dirty):\s+(\d+) kB/gm)) {
      out[m[1]] = +(Number(m[2]) / 1024).toFixed(1);
    }
  } catch {
    /* gone */
  }
  return out;
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function measure(name, start, opts = {}) {
  const a = await start('a', 150);
  const b = await start('b', 100);
  let session;
  try {
    await waitFor(async () => {
      const j = JSON.parse(await exec('ip', ['-n', lab.ns('a'), '-j', 'addr', 'show', 'dev', 'la']));
      return j.some((i) => (i.addr_info ?? []).some((x) => x.local === VIP));
    }, `${name} master`, values.runtime || values['keepalived-runtime'] ? 180_000 : 30_000, 100).catch((e) => {
      throw new Error(`${e.message}\n--- a:\n${a.out.slice(-1500)}\n--- b:\n${b.out.slice(-800)}`);
    });
    await sleep(3000);
    if (opts.appliance) session = await openConsole(join(lab.dir, 'ctl-a.sock'));
    // ip netns exec replaces itself with the command (execvp), so the PID we hold is the daemon's.
    const pids = family(a.child.pid);
    const dump = new Proc(spawn('ip', ['netns', 'exec', lab.ns('b'), 'tcpdump', '-i', 'lb', '-n', '-tt', '-l', '--immediate-mode', 'ip proto 112 and src 10.88.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] }), 'tcpdump');
    lab.procs.push(dump);
    await sleep(1000);
    const s0 = sample(pids);
    const th0 = threads(pids[0]);
    const rss = [];
    for (let i = 0; i < SECONDS; i++) {
      await sleep(1000);
      rss.push(sample(pids).rssKb);
    }
    const s1 = sample(pids);
    const th1 = threads(pids[0]);
    const smaps = smapsRollup(pids[0]);
    await dump.stop();
    const times = [...dump.out.matchAll(/^(\d+\.\d+) IP /gm)].map((m) => Number(m[1]));
    const gaps = times.slice(1).map((t, i) => (t - times[i]) * 1000);
    if (gaps.length < 10) throw new Error(`${name}: only ${times.length} adverts captured\n${dump.out.slice(0, 500)}`);
    const dev = gaps.map((g) => Math.abs(g - 1000));
    return {
      impl: name,
      pids: pids.length,
      adverts: times.length,
      interval_ms: { p50: +pct(gaps, 50).toFixed(2), p99: +pct(gaps, 99).toFixed(2), min: +Math.min(...gaps).toFixed(2), max: +Math.max(...gaps).toFixed(2) },
      jitter_ms: { p50: +pct(dev, 50).toFixed(2), p99: +pct(dev, 99).toFixed(2), max: +Math.max(...dev).toFixed(2) },
      rss_mb: { median: +(pct(rss, 50) / 1024).toFixed(1), max: +(Math.max(...rss) / 1024).toFixed(1) },
      smaps_rollup_main_mb: smaps,
      cpu_percent_of_one_core: +(((s1.cpuTicks - s0.cpuTicks) / TICKS / SECONDS) * 100).toFixed(2),
      cpu_s_per_hour: +(((s1.cpuTicks - s0.cpuTicks) / TICKS / SECONDS) * 3600).toFixed(1),
      children_cpu_percent: +(((s1.childTicks - s0.childTicks) / TICKS / SECONDS) * 100).toFixed(2),
      threads: perThread(th0, th1, SECONDS),
    };
  } finally {
    session?.destroy();
    await a.stop();
    await b.stop();
    for (const role of ['a', 'b']) await exec('ip', ['-n', lab.ns(role), 'addr', 'del', `${VIP}/24`, 'dev', `l${role}`]).catch(() => {});
  }
}

const date = new Date();
const results = [];
try {
  await lab.build();
  serial = await lab.serialPair();
  const builds = values.features
    ? [
        { name: 'twinvip serial+diagnosis', bundle: BUNDLE },
        { name: 'twinvip serial, diagnosis off', bundle: BUNDLE, env: { TWINVIP_DIAGNOSE: 'off' } },
        { name: 'twinvip serial, diagnosis off, twin probe off', bundle: BUNDLE, env: { TWINVIP_DIAGNOSE: 'off' }, opts: { probeOff: true } },
        { name: 'twinvip VRRP only', bundle: BUNDLE, env: { TWINVIP_DIAGNOSE: 'off' }, opts: { noSerial: true } },
        ...(values.ab ? [{ name: 'twinvip-b serial+diagnosis', bundle: resolve(values.ab) }] : []),
        ...(values.appliance ? [{ name: 'twinvip appliance', bundle: BUNDLE, opts: { appliance: true } }] : []),
        ...(values.appliance && values.ab ? [{ name: 'twinvip-b appliance', bundle: resolve(values.ab), opts: { appliance: true } }] : []),
      ]
    : values['diagnose-ab']
    ? [{ name: 'twinvip diagnosis on', bundle: BUNDLE }, { name: 'twinvip diagnosis off', bundle: BUNDLE, env: { TWINVIP_DIAGNOSE: 'off' } }]
    : [
        { name: 'twinvip', bundle: BUNDLE },
        ...(values.ab ? [{ name: 'twinvip-b', bundle: resolve(values.ab) }] : []),
        ...(values['ab-node-flags'] !== undefined ? [{ name: 'twinvip flags-b', bundle: BUNDLE, opts: { nodeFlags: values['ab-node-flags'].split(/\s+/).filter(Boolean) } }] : []),
      ];
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const b of round % 2 ? [...builds].reverse() : builds) results.push({ round, bundle: b.bundle, ...(await measure(b.name, startTwinvip(b.bundle, b.env, b.opts), b.opts)) });
    if (!values['only-twinvip']) results.push({ round, ...(await measure('keepalived', startKeepalived)) });
  }
} finally {
  await lab.cleanup();
}
const machine = await describeMachine();
machine.loadavg_end = readFileSync('/proc/loadavg', 'utf8').trim();
const summary = {};
for (const impl of [...new Set(results.map((r) => r.impl))]) {
  const rs = results.filter((r) => r.impl === impl);
  const med = (f) => {
    const m = median(rs.map(f));
    return m === null ? null : +m.toFixed(2);
  };
  summary[impl] = { runs: rs.length, interval_ms_median: { p50: med((r) => r.interval_ms.p50), p99: med((r) => r.interval_ms.p99), max: med((r) => r.interval_ms.max) }, jitter_ms_median: { p50: med((r) => r.jitter_ms.p50), p99: med((r) => r.jitter_ms.p99), max: med((r) => r.jitter_ms.max) }, rss_mb_median: med((r) => r.rss_mb.median), anonymous_mb_median: med((r) => r.smaps_rollup_main_mb.Anonymous ?? NaN), cpu_percent_median: med((r) => r.cpu_percent_of_one_core), cpu_s_per_hour_median: med((r) => r.cpu_s_per_hour), rss_each: rs.map((r) => r.rss_mb.median), cpu_each: rs.map((r) => r.cpu_percent_of_one_core) };
}
const report = { date: date.toISOString(), machine, seconds: SECONDS, bundle: BUNDLE, ab: values.ab ? resolve(values.ab) : undefined, no_serial: !!values['no-serial'], node_flags: NODE_FLAGS, results, summary };
const out = values.out ?? join(ROOT, 'bench/results', `steady-${date.toISOString().slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`steady state ${report.date} on ${machine.uname_m}, ${machine.nproc} CPU(s), ${SECONDS} s per daemon (master of a pair)`);
console.log('| daemon | adverts | interval p50 / p99 / max ms | jitter p50 / p99 / max ms | RSS median / max MB | CPU % of one core |');
console.log('|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.impl} | ${r.adverts} | ${r.interval_ms.p50} / ${r.interval_ms.p99} / ${r.interval_ms.max} | ${r.jitter_ms.p50} / ${r.jitter_ms.p99} / ${r.jitter_ms.max} | ${r.rss_mb.median} / ${r.rss_mb.max} | ${r.cpu_percent_of_one_core} |`);
}
console.log('| daemon | thread | n | CPU % of one core | wake-ups/s |');
console.log('|---|---|---|---|---|');
for (const r of results) {
  for (const [name, t] of Object.entries(r.threads).sort((x, y) => y[1].cpu_percent - x[1].cpu_percent)) console.log(`| ${r.impl} | ${name} | ${t.threads} | ${t.cpu_percent} | ${t.wakeups_per_s} |`);
  console.log(`| ${r.impl} | (children that ended) | | ${r.children_cpu_percent} | |`);
}
for (const r of results) console.log(`${r.impl} smaps_rollup (main process, MB): ${JSON.stringify(r.smaps_rollup_main_mb)}`);
console.log('| daemon | runs | RSS median of medians MB (each) | Anonymous MB | CPU % median (each) | CPU s per hour |');
console.log('|---|---|---|---|---|---|');
for (const [impl, x] of Object.entries(summary)) console.log(`| ${impl} | ${x.runs} | ${x.rss_mb_median} (${x.rss_each.join(', ')}) | ${x.anonymous_mb_median} | ${x.cpu_percent_median} (${x.cpu_each.join(', ')}) | ${x.cpu_s_per_hour_median} |`);
if (values['diagnose-ab']) {
  console.log('| diagnosis | runs | interval p50 / p99 / max ms (median of runs) | jitter p50 / p99 / max ms (median of runs) | CPU % median |');
  console.log('|---|---|---|---|---|');
  for (const [impl, x] of Object.entries(summary)) {
    console.log(`| ${impl.replace('twinvip diagnosis ', '')} | ${x.runs} | ${x.interval_ms_median.p50} / ${x.interval_ms_median.p99} / ${x.interval_ms_median.max} | ${x.jitter_ms_median.p50} / ${x.jitter_ms_median.p99} / ${x.jitter_ms_median.max} | ${x.cpu_percent_median} |`);
  }
}
console.log(`written to ${out}`);
