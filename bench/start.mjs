// Start-up benchmark (issue 21): a restarted box re-joining its pair. Box b (priority 100) runs
// alone as MASTER; box a (priority 150) is started and its times are taken from its output
// (each line timestamped on arrival) and from `ip monitor address`:
//   first line   spawn -> the daemon's first log line (Node start, bundle and config load)
//   backup       spawn -> the instance in BACKUP with its sockets open (twinvip: "INIT -> BACKUP",
//                keepalived: "Entering BACKUP STATE")
//   preempt      spawn -> the VIP on a (the preferred box takes over again)
// twinvip and keepalived 2.2.7 (VRRPv2, advert 1 s) side by side, alternating per repetition.
// The floor of Node itself, spawned the same way (ip netns exec, in box a's namespace):
//   node-floor   `node -e` printing one line: spawn -> that line ("BACKUP" column)
//   node-worker  `node -e` starting one empty worker_thread that posts a message: spawn -> the
//                main thread's line after that message
//   node bench/start.mjs [--reps 5] [--phases] [--impls twinvip,keepalived,node-floor,node-worker] [--bundle FILE] [--bundles F1,F2] [--compile-cache] [--out FILE]
// --compile-cache: twinvip with NODE_COMPILE_CACHE as the image's unit sets it (a cache of this run,
// filled by the first start: that run is left out of the medians).
// Needs root, `make build`, keepalived, socat.
import { readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab, VipWatch, exec, median, sleep, waitFor, writeTwinvipConfig } from './lab.mjs';
import { describeMachine } from './machine.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VIP = '10.88.0.100';
const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    impls: { type: 'string', default: 'twinvip,keepalived' },
    bundle: { type: 'string' },
    // Other builds side by side with --bundle (e.g. a copy of main's dist/): twinvip#1, twinvip#2, ...
    bundles: { type: 'string' },
    // NODE_COMPILE_CACHE for twinvip (as the unit sets it): a directory made fresh by this run.
    'compile-cache': { type: 'boolean', default: false },
    out: { type: 'string' },
    // --cpu-prof DIR: each twinvip start of box a writes V8 CPU profiles (main thread and HA worker) to DIR.
    'cpu-prof': { type: 'string' },
    // --phases: box a's twinvip runs with TWINVIP_START_MARKS=1 (src/lib/start-marks.ts) and each
    // phase of its start (Node's bootstrap of each thread, config read/validated, worker spawned,
    // worker graph loaded, interfaces read, sockets open, BACKUP) is reported in ms from the spawn.
    phases: { type: 'boolean', default: false },
    // --chrt PRIO: also 'twinvip-rt', the same bundle started at SCHED_RR PRIO with reset on fork
    // (chrt -R -r PRIO), as the shipped unit starts it (CPUSchedulingPolicy=rr,
    // CPUSchedulingResetOnFork=yes): the exec and Node's bootstrap boosted too.
    chrt: { type: 'string' },
    // --noboost: also 'twinvip-noboost', the same bundle with TWINVIP_START_BOOST=0 (no real-time
    // priority during the start-up, src/ha/worker/start-boost.ts), side by side.
    noboost: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});
const BUNDLE = resolve(values.bundle ?? join(ROOT, 'dist/twinvip.js'));
const REPS = Number(values.reps);
const lab = new Lab();
let serial;

/** Arrival time of every output line of `proc`; `start-mark` lines go to out.marks (name -> epoch ms). */
function lines(proc, backup) {
  const out = [];
  out.marks = {};
  let buf = '';
  const on = (d) => {
    const t = performance.now();
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop();
    for (const line of parts) {
      const m = /^start-mark (\S+) ([\d.]+) /.exec(line);
      if (m) {
        out.marks[m[1]] ??= Number(m[2]);
        continue;
      }
      const l = { t, line };
      // CPU the process has used when its BACKUP line arrives (ip netns exec execs the daemon:
      // same PID); on a loaded machine the wall time mostly says how busy the others are.
      if (backup.test(line) && !out.some((x) => x.cpuMs !== undefined)) l.cpuMs = cpuMs(proc.child.pid);
      out.push(l);
    }
  };
  proc.child.stdout.on('data', on);
  proc.child.stderr.on('data', on);
  return out;
}

const twinvipImpl = (bundle, rt, noboost) => ({
  backup: / -> BACKUP\b/,
  async start(role, priority) {
    const conf = await writeTwinvipConfig(lab, role, priority, VIP, serial);
    const env = {
      ...(values['compile-cache'] ? { NODE_COMPILE_CACHE: join(lab.dir, 'compile-cache') } : {}),
      ...(values.phases && role === 'a' ? { TWINVIP_START_MARKS: '1' } : {}),
      ...(noboost ? { TWINVIP_START_BOOST: '0' } : {}),
    };
    const prof = values['cpu-prof'] && role === 'a' ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values['cpu-prof'])}`] : [];
    const argv = [...prof, '--max-semi-space-size=1', bundle, 'run', '-c', conf];
    const e = Object.keys(env).length ? env : undefined;
    return rt && role === 'a' ? lab.spawn(role, 'chrt', ['-R', '-r', rt, process.execPath, ...argv], e) : lab.spawn(role, process.execPath, argv, e);
  },
});
/** utime + stime of `pid` and its threads, in ms (/proc/PID/stat fields 14 and 15, clock ticks of 10 ms). */
function cpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return undefined;
  }
}

const IMPLS = {
  twinvip: twinvipImpl(BUNDLE),
  ...(values.chrt ? { 'twinvip-rt': twinvipImpl(BUNDLE, values.chrt) } : {}),
  ...(values.noboost ? { 'twinvip-noboost': twinvipImpl(BUNDLE, undefined, true) } : {}),
  ...Object.fromEntries((values.bundles ?? '').split(',').filter(Boolean).map((b, i) => [`twinvip#${i + 1}`, twinvipImpl(resolve(b))])),
  keepalived: {
    backup: /Entering BACKUP STATE/,
    async start(role, priority) {
      const conf = join(lab.dir, `keepalived-${role}.conf`);
      await writeFile(conf, `global_defs {\n  router_id bench_${role}\n  enable_script_security\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface l${role}\n  virtual_router_id 88\n  priority ${priority}\n  advert_int 1\n  virtual_ipaddress {\n    ${VIP}/24\n  }\n}\n`);
      return lab.spawn(role, 'keepalived', ['-n', '-l', '-D', '-P', '-f', conf, '-p', join(lab.dir, `k-${role}.pid`), '-r', join(lab.dir, `v-${role}.pid`)]);
    },
  },
};

/** Node's own start, in the namespace of box a (no twin, no VIP): spawn -> the line `up`. */
const FLOOR = {
  'node-floor': "console.log('up')",
  'node-worker': "const { Worker } = require('node:worker_threads'); new Worker('require(\\'node:worker_threads\\').parentPort.postMessage(1)', { eval: true }).once('message', () => { console.log('up'); process.exit(0); });",
};
async function runFloor(name) {
  const t0 = performance.now();
  const p = lab.spawn('a', process.execPath, ['--max-semi-space-size=1', '-e', FLOOR[name]]);
  const out = lines(p, /^up$/);
  await waitFor(() => out.some((l) => l.line === 'up'), `${name}: up`, 30_000, 2).catch((e) => {
    throw new Error(`${e.message}\n${p.out}`);
  });
  const up = out.find((l) => l.line === 'up');
  await p.stop(2000);
  const ms = Math.round(up.t - t0);
  return { impl: name, firstLineMs: ms, backupMs: ms, firstToBackupMs: 0, cpuToBackupMs: up.cpuMs ?? null, preemptMs: null };
}

async function runOnce(name) {
  if (Object.hasOwn(FLOOR, name)) return runFloor(name);
  const impl = IMPLS[name];
  const watch = new VipWatch(lab, ['a', 'b'], VIP);
  await sleep(100);
  const b = await impl.start('b', 100);
  const r = { impl: name };
  let a;
  try {
    await waitFor(() => watch.state.b, `${name}: VIP on b`, 30_000, 20).catch((e) => {
      throw new Error(`${e.message}\n${b.out}`);
    });
    await sleep(1500);
    const t0 = performance.now();
    a = await impl.start('a', 150);
    const out = lines(a, impl.backup);
    await waitFor(() => watch.appearedAfter('a', t0) !== undefined, `${name}: VIP on a`, 30_000, 10);
    r.preemptMs = Math.round(watch.appearedAfter('a', t0) - t0);
    const first = out[0];
    const backup = out.find((l) => impl.backup.test(l.line));
    r.firstLineMs = first ? Math.round(first.t - t0) : null;
    r.backupMs = backup ? Math.round(backup.t - t0) : null;
    r.firstToBackupMs = first && backup ? Math.round(backup.t - first.t) : null;
    // keepalived's BACKUP comes from its VRRP child, a process of its own: not comparable.
    r.cpuToBackupMs = name.startsWith('twinvip') ? backup?.cpuMs ?? null : null;
    // Phases, ms from the spawn (both clocks are the wall clock: epoch ms).
    if (Object.keys(out.marks).length) r.phases = Object.fromEntries(Object.entries(out.marks).map(([k, v]) => [k, Math.round(v - (performance.timeOrigin + t0))]));
    if (values.verbose) process.stderr.write(`--- ${name}\n${out.map((l) => `${Math.round(l.t - t0)} ${l.line}`).join('\n')}\n`);
    return r;
  } finally {
    await a?.stop(2000);
    await b.stop(2000);
    await watch.stop();
    // keepalived leaves its VIP after an unclean exit; start each run from a clean LAN.
    for (const role of ['a', 'b']) await exec('ip', ['-n', lab.ns(role), 'addr', 'del', `${VIP}/24`, 'dev', `l${role}`]).catch(() => {});
  }
}

const runs = [];
try {
  await lab.build(['a', 'b']);
  serial = await lab.serialPair();
  const names = [...values.impls.split(','), ...Object.keys(IMPLS).filter((n) => n.startsWith('twinvip#') || n === 'twinvip-rt' || n === 'twinvip-noboost')];
  // A warm-up start of each twinvip build, not counted (fills the compile cache when asked).
  if (values['compile-cache']) for (const n of names.filter((x) => x.startsWith('twinvip'))) await runOnce(n);
  for (let i = 0; i < REPS; i++) {
    for (const n of i % 2 ? [...names].reverse() : names) {
      const r = await runOnce(n);
      r.loadavg = loadavg()[0];
      runs.push(r);
      console.log(JSON.stringify(r));
    }
  }
} finally {
  await lab.cleanup();
}
const summary = {};
for (const n of [...new Set(runs.map((r) => r.impl))]) {
  const mine = runs.filter((r) => r.impl === n);
  summary[n] = Object.fromEntries(['firstLineMs', 'backupMs', 'firstToBackupMs', 'cpuToBackupMs', 'preemptMs'].map((k) => [k, median(mine.map((r) => r[k]))]));
}
for (const n of Object.keys(summary)) {
  const withPhases = runs.filter((r) => r.impl === n && r.phases);
  if (!withPhases.length) continue;
  const names = [...new Set(withPhases.flatMap((r) => Object.keys(r.phases)))];
  summary[n].phases = Object.fromEntries(names.map((k) => [k, median(withPhases.map((r) => r.phases[k]).filter((v) => v !== undefined))]).sort((a, b) => a[1] - b[1]));
}
console.log(`start, medians of ${REPS} (ms from spawn):`);
for (const [n, s] of Object.entries(summary)) {
  console.log(`  ${n}: first line ${s.firstLineMs}, BACKUP ${s.backupMs} (first line -> BACKUP ${s.firstToBackupMs}; CPU until BACKUP ${s.cpuToBackupMs}), VIP back (preempt) ${s.preemptMs}`);
  if (s.phases) console.log(`    phases (median ms from spawn): ${Object.entries(s.phases).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
const outFile = values.out ?? join(ROOT, 'bench/results', `start-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), machine: await describeMachine(), bundle: BUNDLE, bundles: values.bundles, compileCache: values['compile-cache'], runs, summary }, null, 2));
console.log(`written ${outFile}`);
