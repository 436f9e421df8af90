// Failover benchmark: a twinvip pair, a keepalived 2.2.7 pair as configured out of the box
// (VRRPv2, advert_int 1 s) and a keepalived pair tuned for speed (VRRPv3, advert_int 0.1 s:
// ten adverts a second on the LAN), side by side in one run on the same namespaces (the order
// rotates per repetition), priorities 150/100. twinvip keeps advert_int 1 s and has its serial
// heartbeat (socat pty pair).
//
//   link-down   master loses its LAN link (ip link set down in its namespace) -> VIP on backup;
//               plus the client's neighbour entry moving to the backup's MAC (gratuitous ARP)
//   power-loss  master's daemon frozen (SIGSTOP), its link down, then SIGKILLed (both twinvip
//               channels go silent at once; no release can leave)
//   crash       the master's daemon SIGKILLed, the box (and its link) up; then, as systemd's
//               ExecStopPost= would, `twinvip cleanup` removes its VIPs (twinvip only)
//   stop        master stopped with SIGTERM (priority 0 / serial release) -> VIP on backup
//   preempt     after a link-down takeover, the old master's link comes back -> VIP on it again
//   path-cut    the master's bridge port disabled for CUT_MS while every link stays UP ->
//               total time both boxes hold the VIP (from the cut until CUT_MS + 3 s after healing)
//   mixed       link-down with a third router in the group (keepalived, priority 50, in its
//               own namespace): twinvip's pair declares `mixed_group`, so RFC skew applies
//
// Every run also records the time both boxes held the VIP (ip monitor), and the LAN packets per
// second each box sent before the fault (tcpdump in the client's namespace). Times come from
// `ip monitor` events in each namespace (see lab.mjs). Usage:
//   node bench/failover.mjs [--reps N] [--scenarios link-down,stop,...] [--impls twinvip,keepalived,keepalived-fast]
//                           [--period-ms 100] [--dead-periods 5] [--bundle FILE] [--out FILE]
// Needs root, `make build`, keepalived, socat, tcpdump.
import { writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab, LanCount, NeighWatch, VipWatch, exec, median, sleep, waitFor, writeTwinvipConfig } from './lab.mjs';
import { describeMachine } from './machine.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VIP = '10.88.0.100';
const CUT_MS = 5000;
const BOXES = { a: '10.88.0.1', b: '10.88.0.2', k: '10.88.0.3' };

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    scenarios: { type: 'string', default: 'link-down,power-loss,crash,stop,preempt,path-cut,mixed' },
    impls: { type: 'string', default: 'twinvip,keepalived,keepalived-fast' },
    'period-ms': { type: 'string', default: '100' },
    'dead-periods': { type: 'string', default: '5' },
    out: { type: 'string' },
    bundle: { type: 'string' },
  },
});
// --bundle: another build (e.g. a copy of dist/, so a rebuild during a long run changes nothing).
const BUNDLE = resolve(values.bundle ?? join(ROOT, 'dist/twinvip.js'));
const REPS = Number(values.reps);
const SCENARIOS = values.scenarios.split(',');
const PERIOD_MS = Number(values['period-ms']);
const DEAD_PERIODS = Number(values['dead-periods']);

const lab = new Lab();
let serial;

const twinvip = {
  name: 'twinvip',
  async start(role, priority, scenario) {
    const conf = await writeTwinvipConfig(lab, role, priority, VIP, serial, { mixedGroup: scenario === 'mixed', periodMs: PERIOD_MS, deadPeriods: DEAD_PERIODS });
    const p = lab.spawn(role, process.execPath, [BUNDLE, 'run', '-c', conf]);
    p.conf = conf;
    return p;
  },
  /** What systemd's ExecStopPost= runs after any exit of the unit (rootfs twinvip.service). */
  async cleanup(role, proc) {
    await exec('ip', ['netns', 'exec', lab.ns(role), process.execPath, BUNDLE, 'cleanup', '-c', proc.conf]);
  },
};

function keepalivedImpl(name, version, advertInt) {
  return {
    name,
    async start(role, priority) {
      const conf = join(lab.dir, `${name}-${role}.conf`);
      await writeFile(conf, `global_defs {
  router_id bench_${role}
  enable_script_security
  vrrp_version ${version}
}
vrrp_instance VI_1 {
  state BACKUP
  interface l${role}
  virtual_router_id 88
  priority ${priority}
  advert_int ${advertInt}
  virtual_ipaddress {
    ${VIP}/24
  }
}
`);
      return lab.spawn(role, 'keepalived', ['-n', '-l', '-D', '-P', '-f', conf, '-p', join(lab.dir, `k-${role}.pid`), '-r', join(lab.dir, `v-${role}.pid`)]);
    },
    async vrrpPid(role) {
      return Number((await readFile(join(lab.dir, `v-${role}.pid`), 'utf8').catch(() => '')).trim()) || undefined;
    },
  };
}

const IMPLS = {
  twinvip,
  keepalived: keepalivedImpl('keepalived', 2, 1),
  'keepalived-fast': keepalivedImpl('keepalived-fast', 3, 0.1),
};
const impls = values.impls.split(',').map((n) => {
  if (!IMPLS[n]) throw new Error(`unknown implementation ${n}: one of ${Object.keys(IMPLS).join(', ')}`);
  return IMPLS[n];
});

async function vipOn(role) {
  const j = JSON.parse(await exec('ip', ['-n', lab.ns(role), '-j', 'addr', 'show', 'dev', `l${role}`]));
  return j.some((i) => (i.addr_info ?? []).some((x) => x.local === VIP));
}

async function runOnce(impl, scenario) {
  const roles = scenario === 'mixed' ? ['a', 'b', 'k'] : ['a', 'b'];
  const watch = new VipWatch(lab, roles, VIP);
  const neigh = new NeighWatch(lab, 'c', VIP);
  const lan = new LanCount(lab, 'c', Object.values(BOXES));
  await sleep(100); // monitors subscribed
  const a = await impl.start('a', 150, scenario);
  const b = await impl.start('b', 100, scenario);
  // The third router of a mixed group is keepalived whatever the pair runs (a migration).
  const k = scenario === 'mixed' ? await (impl === twinvip ? IMPLS.keepalived : impl).start('k', 50, scenario) : undefined;
  const r = { impl: impl.name, scenario };
  try {
    await waitFor(async () => (await vipOn('a')) && !(await vipOn('b')), `${impl.name}: VIP on a\n${a.out}`, 30_000, 50);
    // The backup has heard several adverts (and serial heartbeats); the random part spreads the
    // fault over the advert period, as a real fault would be (a fixed delay would always hit
    // just after an advert and report the worst case).
    const steadyFrom = Date.now();
    await sleep(2000 + Math.random() * 1000);
    await watch.sync(lab);
    await exec('ip', ['netns', 'exec', lab.ns('c'), 'ping', '-c', '1', '-W', '1', VIP]).catch(() => {});
    r.lanPps = round1(lan.rate(steadyFrom, Date.now()));
    const macB = await lab.mac('b');
    const initial = { ...watch.state };
    let t0 = performance.now();
    if (scenario === 'link-down' || scenario === 'mixed' || scenario === 'preempt') {
      await exec('ip', ['-n', lab.ns('a'), 'link', 'set', 'la', 'down']);
    } else if (scenario === 'power-loss') {
      // The box does nothing more from the fault on: its daemon (and keepalived's VRRP child) is
      // frozen at once, then its link goes down and it dies. Link down first (before 2026-12-03
      // 14:10) let twinvip see its link fall during the `ip` child's start-up and hand over by a
      // serial release, which is a handover, not a power loss (runs with cause "twin released").
      const vrrpPid = impl.vrrpPid ? await impl.vrrpPid('a') : undefined;
      t0 = performance.now();
      a.signal('SIGSTOP');
      if (vrrpPid) process.kill(vrrpPid, 'SIGSTOP');
      await exec('ip', ['-n', lab.ns('a'), 'link', 'set', 'la', 'down']);
      if (vrrpPid) process.kill(vrrpPid, 'SIGKILL');
      a.signal('SIGKILL');
    } else if (scenario === 'crash') {
      // keepalived's VRRP engine is its child process (-r pid file), which turns its parent's
      // death into a graceful stop (priority 0): a crash is the engine and its parent dying.
      if (impl.vrrpPid) {
        const pid = await impl.vrrpPid('a');
        if (pid) process.kill(pid, 'SIGKILL');
      }
      a.signal('SIGKILL');
      if (impl.cleanup) void a.exited.then(() => impl.cleanup('a', a)).catch((e) => process.stderr.write(`cleanup: ${e.message}\n`));
    } else if (scenario === 'stop') {
      a.signal('SIGTERM');
    } else if (scenario === 'path-cut') {
      await exec('bridge', ['-n', lab.ns('s'), 'link', 'set', 'dev', 'pla', 'state', '0']);
      await sleep(CUT_MS);
      await exec('bridge', ['-n', lab.ns('s'), 'link', 'set', 'dev', 'pla', 'state', '3']);
      const healed = performance.now();
      await sleep(3000);
      const end = performance.now();
      r.dualMasterMs = Math.round(watch.overlapMs(t0, end, pick(initial, ['a', 'b'])));
      const resolvedAt = watch.events.filter((e) => e.t >= healed && !e.present).at(0)?.t;
      r.resolveAfterHealMs = r.dualMasterMs > 0 && resolvedAt ? Math.round(resolvedAt - healed) : null;
      r.backupTookVip = watch.appearedAfter('b', t0) !== undefined;
      return r;
    }
    // b's output as it is when the wait gives up (a template here would be taken before the wait).
    await waitFor(() => watch.appearedAfter('b', t0) !== undefined, `${impl.name} ${scenario}: VIP on b`, 20_000, 10).catch((e) => {
      throw new Error(`${e.message} (fault at ${new Date(performance.timeOrigin + t0).toISOString()})\n--- b ---\n${b.out}\n--- a ---\n${a.out.slice(-3000)}`);
    });
    const tb = watch.appearedAfter('b', t0);
    r.failoverMs = Math.round(tb - t0);
    if (scenario === 'link-down') {
      await waitFor(() => neigh.movedTo(macB, t0) !== undefined, 'client neighbour entry moves', 8000, 10).catch(() => {});
      const tn = neigh.movedTo(macB, t0);
      r.neighMs = tn === undefined ? null : Math.round(tn - t0);
      r.neighAfterVipMs = tn === undefined ? null : Math.round((tn - tb) * 10) / 10;
    }
    if (impl === twinvip) r.cause = lastCause(b.out, 'BACKUP -> MASTER');
    if (scenario === 'preempt') {
      // The old master's link comes back once the takeover has settled.
      await sleep(1500);
      const before = { ...watch.state };
      t0 = performance.now();
      await exec('ip', ['-n', lab.ns('a'), 'link', 'set', 'la', 'up']);
      await waitFor(() => watch.appearedAfter('a', t0) !== undefined, `${impl.name} preempt: VIP back on a\n${a.out}`, 20_000, 10);
      r.preemptMs = Math.round(watch.appearedAfter('a', t0) - t0);
      await waitFor(() => !watch.state.b, `${impl.name} preempt: VIP off b`, 20_000, 10).catch(() => {});
      r.dualMasterMs = Math.round(watch.overlapMs(t0, performance.now(), pick(before, ['a', 'b'])));
      if (impl === twinvip) r.cause = lastCause(a.out, 'BACKUP -> MASTER');
      return r;
    }
    // Dual-master time: both boxes holding the VIP while the old master could still answer for
    // it (power loss takes the old master's link down, so its leftover address answers nobody).
    await sleep(scenario === 'crash' ? 1500 : 300);
    if (scenario !== 'power-loss') r.dualMasterMs = Math.round(watch.overlapMs(t0, performance.now(), pick(initial, ['a', 'b'])));
    return r;
  } finally {
    await a.stop(2000);
    await b.stop(2000);
    await k?.stop(2000);
    await watch.stop();
    await neigh.stop();
    await lan.stop();
    await exec('ip', ['-n', lab.ns('a'), 'link', 'set', 'la', 'up']).catch(() => {});
    // keepalived leaves its VIP behind after SIGKILL; twinvip would remove it at start-up anyway.
    for (const role of roles) await exec('ip', ['-n', lab.ns(role), 'addr', 'del', `${VIP}/24`, 'dev', `l${role}`]).catch(() => {});
    await exec('ip', ['-n', lab.ns('c'), 'neigh', 'flush', 'dev', 'lc']).catch(() => {});
  }
}

function pick(o, keys) {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

function round1(x) {
  return x === null ? null : Math.round(x * 10) / 10;
}

function lastCause(out, what) {
  return [...out.matchAll(new RegExp(`VI_1: ${what} \\(([^)]*)\\)`, 'g'))].at(-1)?.[1] ?? null;
}

const results = [];
const started = new Date();
try {
  await lab.build(['a', 'b', 'c', 'k']);
  serial = await lab.serialPair();
  for (const scenario of SCENARIOS) {
    for (let i = 0; i < REPS; i++) {
      // Rotate the order, so no implementation always runs first (or right after another).
      const order = impls.map((_, j) => impls[(i + j) % impls.length]);
      for (const impl of order) {
        const r = await runOnce(impl, scenario);
        results.push(r);
        process.stderr.write(`${JSON.stringify(r)}\n`);
      }
    }
  }
} finally {
  await lab.cleanup();
}

const KEYS = {
  'path-cut': ['dualMasterMs', 'resolveAfterHealMs'],
  'link-down': ['failoverMs', 'neighMs', 'neighAfterVipMs', 'dualMasterMs'],
  preempt: ['failoverMs', 'preemptMs', 'dualMasterMs'],
  'power-loss': ['failoverMs'],
};
const summary = [];
for (const scenario of SCENARIOS) {
  const of = (impl, key) => median(results.filter((r) => r.impl === impl && r.scenario === scenario).map((r) => r[key]));
  for (const key of [...(KEYS[scenario] ?? ['failoverMs', 'dualMasterMs']), 'lanPps']) {
    const row = { scenario, metric: key };
    for (const impl of impls) row[impl.name] = of(impl.name, key);
    summary.push(row);
  }
}
const causes = [...new Set(results.filter((r) => r.cause).map((r) => `${r.scenario}: ${r.cause}`))];
const machine = await describeMachine();
const report = { date: started.toISOString(), machine, reps: REPS, cutMs: CUT_MS, serial: { periodMs: PERIOD_MS, deadPeriods: DEAD_PERIODS }, summary, causes, runs: results };
const out = values.out ?? join(ROOT, 'bench/results', `failover-${started.toISOString().slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
const names = impls.map((i) => i.name);
console.log(`failover benchmark ${report.date} on ${machine.uname_m}, ${machine.nproc} CPU(s), load ${machine.loadavg}, ${REPS} repetitions (medians, ms; lanPps: packets/s both boxes send)`);
console.log(`| scenario | metric | ${names.join(' | ')} |`);
console.log(`|---|---|${names.map(() => '---').join('|')}|`);
for (const s of summary) console.log(`| ${s.scenario} | ${s.metric} | ${names.map((n) => s[n] ?? '-').join(' | ')} |`);
console.log(`twinvip takeover causes: ${causes.join('; ')}`);
console.log(`written to ${out}`);
