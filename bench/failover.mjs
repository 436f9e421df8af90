// Failover benchmark: a twinvip pair and a keepalived 2.2.7 pair, side by side in one run on the
// same namespaces (alternating per repetition), VRRPv2, advert_int 1 s, priorities 150/100 —
// DESIGN.md's anchor scenarios. twinvip also has its serial heartbeat (socat pty pair) alive.
//
//   link-down   master loses its LAN link (ip link set down in its namespace) -> VIP on backup;
//               plus the client's neighbour entry moving to the backup's MAC (gratuitous ARP)
//   power-loss  master's link down and the process SIGKILLed (both twinvip channels go silent)
//   stop        master stopped with SIGTERM (priority 0 / serial release) -> VIP on backup
//   path-cut    the master's bridge port disabled for CUT_MS while every link stays UP ->
//               total time both boxes hold the VIP (from the cut until CUT_MS + 3 s after healing)
//
// Times come from `ip monitor` events in each namespace (see lab.mjs). Usage:
//   node bench/failover.mjs [--reps N] [--scenarios link-down,stop,...] [--out FILE]
// Needs root, `make build`, keepalived, socat. Takes about 8 minutes with 5 repetitions.
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab, NeighWatch, VipWatch, exec, median, sleep, waitFor, writeTwinvipConfig } from './lab.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = join(ROOT, 'dist/twinvip.js');
const VIP = '10.88.0.100';
const CUT_MS = 5000;

const { values } = parseArgs({
  options: { reps: { type: 'string', default: '5' }, scenarios: { type: 'string', default: 'link-down,power-loss,stop,path-cut' }, out: { type: 'string' } },
});
const REPS = Number(values.reps);
const SCENARIOS = values.scenarios.split(',');

const lab = new Lab();
let serial;

const twinvip = {
  name: 'twinvip',
  async start(role, priority) {
    const conf = await writeTwinvipConfig(lab, role, priority, VIP, serial);
    return lab.spawn(role, process.execPath, [BUNDLE, 'run', '-c', conf]);
  },
};

const keepalived = {
  name: 'keepalived',
  async start(role, priority) {
    const conf = join(lab.dir, `keepalived-${role}.conf`);
    await writeFile(conf, `global_defs {
  router_id bench_${role}
  enable_script_security
}
vrrp_instance VI_1 {
  state BACKUP
  interface l${role}
  virtual_router_id 88
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
}
`);
    return lab.spawn(role, 'keepalived', ['-n', '-l', '-D', '-P', '-f', conf, '-p', join(lab.dir, `k-${role}.pid`), '-r', join(lab.dir, `v-${role}.pid`)]);
  },
};

async function vipOn(role) {
  const j = JSON.parse(await exec('ip', ['-n', lab.ns(role), '-j', 'addr', 'show', 'dev', `l${role}`]));
  return j.some((i) => (i.addr_info ?? []).some((x) => x.local === VIP));
}

async function runOnce(impl, scenario) {
  const watch = new VipWatch(lab, ['a', 'b'], VIP);
  const neigh = new NeighWatch(lab, 'c', VIP);
  await sleep(100); // monitors subscribed
  const a = await impl.start('a', 150);
  const b = await impl.start('b', 100);
  const r = { impl: impl.name, scenario };
  try {
    await waitFor(async () => (await vipOn('a')) && !(await vipOn('b')), `${impl.name}: VIP on a\n${a.out}`, 30_000, 50);
    // The backup has heard several adverts (and serial heartbeats); the random part spreads the
    // fault over the advert period, as a real fault would be (a fixed delay would always hit
    // just after an advert and report the worst case).
    await sleep(2000 + Math.random() * 1000);
    await watch.sync(lab);
    await exec('ip', ['netns', 'exec', lab.ns('c'), 'ping', '-c', '1', '-W', '1', VIP]).catch(() => {});
    const macB = await lab.mac('b');
    const t0 = performance.now();
    if (scenario === 'link-down') {
      await exec('ip', ['-n', lab.ns('a'), 'link', 'set', 'la', 'down']);
    } else if (scenario === 'power-loss') {
      await exec('ip', ['-n', lab.ns('a'), 'link', 'set', 'la', 'down']);
      a.signal('SIGKILL');
    } else if (scenario === 'stop') {
      a.signal('SIGTERM');
    } else if (scenario === 'path-cut') {
      const initial = { ...watch.state };
      await exec('bridge', ['-n', lab.ns('s'), 'link', 'set', 'dev', 'pla', 'state', '0']);
      await sleep(CUT_MS);
      await exec('bridge', ['-n', lab.ns('s'), 'link', 'set', 'dev', 'pla', 'state', '3']);
      const healed = performance.now();
      await sleep(3000);
      const end = performance.now();
      r.dualMasterMs = Math.round(watch.overlapMs(t0, end, initial));
      const resolvedAt = watch.events.filter((e) => e.t >= healed && !e.present).at(0)?.t;
      r.resolveAfterHealMs = r.dualMasterMs > 0 && resolvedAt ? Math.round(resolvedAt - healed) : null;
      r.backupTookVip = watch.appearedAfter('b', t0) !== undefined;
      return r;
    }
    await waitFor(() => watch.appearedAfter('b', t0) !== undefined, `${impl.name} ${scenario}: VIP on b\n${b.out}`, 20_000, 10);
    r.failoverMs = Math.round(watch.appearedAfter('b', t0) - t0);
    if (scenario === 'link-down') {
      await waitFor(() => neigh.movedTo(macB, t0) !== undefined, 'client neighbour entry moves', 8000, 10).catch(() => {});
      const tn = neigh.movedTo(macB, t0);
      r.neighMs = tn === undefined ? null : Math.round(tn - t0);
      r.neighAfterVipMs = tn === undefined ? null : Math.round((tn - watch.appearedAfter('b', t0)) * 10) / 10;
    }
    if (impl === twinvip) r.cause = [...b.out.matchAll(/VI_1: BACKUP -> MASTER \(([^)]*)\)/g)].at(-1)?.[1] ?? null;
    return r;
  } finally {
    await a.stop(2000);
    await b.stop(2000);
    await watch.stop();
    await neigh.stop();
    await exec('ip', ['-n', lab.ns('a'), 'link', 'set', 'la', 'up']).catch(() => {});
    // keepalived leaves its VIP behind after SIGKILL; twinvip would remove it at start-up anyway.
    for (const role of ['a', 'b']) await exec('ip', ['-n', lab.ns(role), 'addr', 'del', `${VIP}/24`, 'dev', `l${role}`]).catch(() => {});
    await exec('ip', ['-n', lab.ns('c'), 'neigh', 'flush', 'dev', 'lc']).catch(() => {});
  }
}

const results = [];
const started = new Date();
try {
  await lab.build();
  serial = await lab.serialPair();
  for (const scenario of SCENARIOS) {
    for (let i = 0; i < REPS; i++) {
      for (const impl of i % 2 ? [keepalived, twinvip] : [twinvip, keepalived]) {
        const r = await runOnce(impl, scenario);
        results.push(r);
        process.stderr.write(`${JSON.stringify(r)}\n`);
      }
    }
  }
} finally {
  await lab.cleanup();
}

const summary = [];
for (const scenario of SCENARIOS) {
  const of = (impl, key) => median(results.filter((r) => r.impl === impl && r.scenario === scenario).map((r) => r[key]));
  const keys = scenario === 'path-cut' ? ['dualMasterMs', 'resolveAfterHealMs'] : scenario === 'link-down' ? ['failoverMs', 'neighMs', 'neighAfterVipMs'] : ['failoverMs'];
  for (const key of keys) {
    const t = of('twinvip', key);
    const k = of('keepalived', key);
    summary.push({ scenario, metric: key, twinvip: t, keepalived: k, ratio: t !== null && k !== null && t > 0 && key !== 'neighAfterVipMs' ? Math.round((k / t) * 100) / 100 : null });
  }
}
const causes = [...new Set(results.filter((r) => r.cause).map((r) => `${r.scenario}: ${r.cause}`))];
const machine = { arch: process.arch, uname_m: (await exec('uname', ['-m'])).trim(), nproc: cpus().length, cpu: cpus()[0]?.model, node: process.version };
const report = { date: started.toISOString(), machine, reps: REPS, cutMs: CUT_MS, summary, causes, runs: results };
const out = values.out ?? join(ROOT, 'bench/results', `failover-${started.toISOString().slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`failover benchmark ${report.date} on ${machine.uname_m}, ${machine.nproc} CPU(s), ${REPS} repetitions (medians, ms)`);
console.log('| scenario | metric | twinvip | keepalived | keepalived / twinvip |');
console.log('|---|---|---|---|---|');
for (const s of summary) console.log(`| ${s.scenario} | ${s.metric} | ${s.twinvip ?? '-'} | ${s.keepalived ?? '-'} | ${s.ratio ?? '-'} |`);
console.log(`twinvip takeover causes: ${causes.join('; ')}`);
console.log(`written to ${out}`);
