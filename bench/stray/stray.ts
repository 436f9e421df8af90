// Stray adverts on the LAN (issue 15), side by side: a twinvip pair in pair mode (serial heartbeat
// alive, the default), the same pair with `mixed_group: true` (RFC 3768 / keepalived rules: a
// third router may be in the group), and a keepalived 2.2.7 pair — on the same namespaces, VRRPv2,
// VRID 88, advert_int 1 s, priorities 150 / 100, one VIP. A third host `c` (10.88.0.50) sends
// crafted, well-formed VRRPv2 adverts for VRID 88 (correct checksum, TTL 255; the project's codec
// and raw socket, opened inside c's namespace):
//
//   case1   one advert, priority 254, an address list that is not ours (10.88.0.200)
//   case2   the same once a second for --seconds
//   case3   once a second for --seconds with OUR address list and priority 254 (the worst case,
//           which also moves keepalived)
//   case4   a neighbouring keepalived pair (k1 200, k2 100) configured on our VRID with another
//           VIP (10.88.0.200), running for --seconds
//   flood   --flood adverts (default 20,000) as fast as the send buffer takes them, foreign list
//
// Measured from `ip monitor address` in a and b (timestamped on arrival): ms without a VIP holder
// and ms with two holders, from the first stray advert until the VIP is back on a alone (at least
// 5 s after the last one), and the number of VIP moves. For twinvip also the receive counters
// (status --json: read, accepted, dropped by reason, kernel drops) and whether vrid-conflict was
// raised; the flood checks that they reconcile with what was sent.
// Run (root, after make build): node_modules/.bin/node bench/stray/run.mjs [--seconds 30] [--flood 20000] [--reps 1]
//   [--impls pair,mixed,keepalived] [--cases case1,case2,case3,case4,flood]
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
// @ts-expect-error plain JS lab shared with the other benchmarks
import { Lab, VipWatch, exec, median, sleep, waitFor } from '../lab.mjs';
import { requestOnce } from '../../src/control';
import { RogueSender, type RogueAdvert } from '../../test/integration/helpers/rogue-sender';
import type { Netns } from '../../test/integration/helpers/netns';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    reps: { type: 'string', default: '1' },
    flood: { type: 'string', default: '20000' },
    impls: { type: 'string', default: 'pair,mixed,keepalived' },
    cases: { type: 'string', default: 'case1,case2,case3,case4,flood' },
    out: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const REPS = Number(values.reps);
const FLOOD = Number(values.flood);
const IMPLS = values.impls!.split(',') as Impl[];
const CASES = values.cases!.split(',') as Case[];
const ROOT = process.cwd();
const BUNDLE = join(ROOT, 'dist/twinvip.js');
const VIP = '10.88.0.100';
const OTHER_VIP = '10.88.0.200';
const ROGUE = '10.88.0.50';
const VRID = 88;
const FOREIGN: RogueAdvert = { vrid: VRID, priority: 254, addresses: [OTHER_VIP] };
const OURS: RogueAdvert = { vrid: VRID, priority: 254, addresses: [VIP] };

type Impl = 'pair' | 'mixed' | 'keepalived';
type Case = 'case1' | 'case2' | 'case3' | 'case4' | 'flood';
type P = { child: { pid: number; kill(sig: string): void }; out: string; running: boolean; exited: Promise<unknown>; stop(graceMs?: number): Promise<void> };
interface VipEvent { t: number; role: string; present: boolean }

const lab = new Lab();
let serial: { a: string; b: string };

function twinvipConfig(role: 'a' | 'b', priority: number, mixed: boolean): string {
  const file = join(lab.dir, `twinvip-${role}.json`);
  writeFileSync(file, JSON.stringify({
    node: { name: `bench-${role}`, state_dir: lab.dir },
    control: { socket: join(lab.dir, `ctl-${role}.sock`) },
    logging: { level: 'info', format: 'text' },
    instances: { VI_1: { interface: `l${role}`, vrid: VRID, priority, advert_int: 1, vips: [`${VIP}/24`], mixed_group: mixed } },
    heartbeat: { serial: { device: serial[role], node_id: role === 'a' ? 1 : 2, key: 'bench-shared-key-0123456789', period_ms: 100, dead_periods: 5 } },
  }));
  return file;
}

async function keepalivedConfig(name: string, iface: string, priority: number, vip: string): Promise<string> {
  const conf = join(lab.dir, `keepalived-${name}.conf`);
  await writeFile(conf, `global_defs {\n  router_id bench_${name}\n  enable_script_security\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface ${iface}\n  virtual_router_id ${VRID}\n  priority ${priority}\n  advert_int 1\n  virtual_ipaddress {\n    ${vip}/24\n  }\n}\n`);
  return conf;
}

function startKeepalived(role: string, conf: string): P {
  return lab.spawn(role, 'keepalived', ['-n', '-l', '-D', '-P', '-f', conf, '-p', join(lab.dir, `k-${role}.pid`), '-r', join(lab.dir, `v-${role}.pid`)]);
}

async function start(impl: Impl, role: 'a' | 'b', priority: number): Promise<P> {
  if (impl === 'keepalived') return startKeepalived(role, await keepalivedConfig(role, `l${role}`, priority, VIP));
  return lab.spawn(role, process.execPath, [BUNDLE, 'run', '-c', twinvipConfig(role, priority, impl === 'mixed')]);
}

async function holds(role: string, iface: string, vip: string): Promise<boolean> {
  const j = JSON.parse(await exec('ip', ['-n', lab.ns(role), '-j', 'addr', 'show', 'dev', iface])) as { addr_info?: { local: string }[] }[];
  return j.some((i) => (i.addr_info ?? []).some((x) => x.local === vip));
}
const vipOnAOnly = async () => (await holds('a', 'la', VIP)) && !(await holds('b', 'lb', VIP));

async function control(role: string, cmd: string): Promise<any> {
  const r = await requestOnce(join(lab.dir, `ctl-${role}.sock`), cmd, undefined, { timeoutMs: 5000 });
  if (!r.ok || r.response.status !== 'ok') throw new Error(`${cmd} of ${role} failed`);
  return r.response.data;
}
const counters = async (role: string): Promise<Record<string, number>> => (await control(role, 'status')).counters.vrrp ?? {};

/** ms in [from, to] during which `count(held)` is true, replaying the VIP events. */
function timeWhere(events: VipEvent[], initial: Record<string, boolean>, from: number, to: number, cond: (held: Record<string, boolean>) => boolean): number {
  const held = { ...initial };
  let t = from;
  let total = 0;
  for (const e of events.filter((x) => x.t >= from && x.t <= to)) {
    if (cond(held)) total += e.t - t;
    t = e.t;
    held[e.role] = e.present;
  }
  if (cond(held)) total += to - t;
  return Math.round(total);
}

/** A neighbouring keepalived pair on the bridge (ns k1, k2), same VRID, another VIP. */
async function attach(role: string, addr: string): Promise<void> {
  const n = await lab.addNs(role);
  const tmp = `${lab.prefix}t${role}`;
  const s = lab.ns('s');
  await exec('ip', ['-n', n, 'link', 'add', `l${role}`, 'type', 'veth', 'peer', 'name', tmp]);
  await exec('ip', ['-n', n, 'link', 'set', tmp, 'netns', s]);
  await exec('ip', ['-n', s, 'link', 'set', tmp, 'name', `pl${role}`]);
  await exec('ip', ['-n', s, 'link', 'set', `pl${role}`, 'master', 'br0', 'up']);
  await exec('ip', ['-n', n, 'link', 'set', `l${role}`, 'up']);
  await exec('ip', ['-n', n, 'addr', 'add', addr, 'dev', `l${role}`]);
}

async function runCase(impl: Impl, c: Case, rogue: RogueSender): Promise<Record<string, unknown>> {
  const watch = new VipWatch(lab, ['a', 'b'], VIP);
  await sleep(100); // monitors subscribed
  const a = await start(impl, 'a', 150);
  const b = await start(impl, 'b', 100);
  const r: Record<string, unknown> = { impl, case: c };
  const neighbours: P[] = [];
  try {
    await waitFor(vipOnAOnly, `${impl}: VIP on a\n${a.out}`, 60_000, 50);
    if (impl !== 'keepalived') {
      await waitFor(async () => (await control('b', 'status')).instances[0]?.state === 'BACKUP', `${impl}: b BACKUP\n${b.out}`, 30_000, 100);
      // Pair mode is on once each box has the other's addresses from a heartbeat.
      for (const role of ['a', 'b']) {
        await waitFor(async () => (await control(role, 'heartbeat'))?.pair?.instances?.[0]?.twin_only === (impl === 'pair'), `${impl}: twin_only on ${role}`, 30_000, 100);
      }
    }
    await sleep(2000 + Math.random() * 1000); // the backup has heard adverts; a random phase
    await watch.sync(lab);
    const initial = { ...watch.state };
    const c0 = impl === 'keepalived' ? null : { a: await counters('a'), b: await counters('b') };
    const logFrom = { a: a.out.length, b: b.out.length };
    const t0 = performance.now();
    let last = t0;
    let neighbourWatch: VipWatch | undefined;
    if (c === 'case1') {
      rogue.send(FOREIGN);
      last = performance.now();
    } else if (c === 'case2' || c === 'case3') {
      const stop = rogue.every(1000, c === 'case2' ? FOREIGN : OURS);
      await sleep(SECONDS * 1000 - 500);
      stop();
      last = performance.now();
    } else if (c === 'case4') {
      neighbourWatch = new VipWatch(lab, ['k1', 'k2'], OTHER_VIP);
      await sleep(100);
      neighbours.push(startKeepalived('k1', await keepalivedConfig('k1', 'lk1', 200, OTHER_VIP)));
      neighbours.push(startKeepalived('k2', await keepalivedConfig('k2', 'lk2', 100, OTHER_VIP)));
      await waitFor(() => holds('k1', 'lk1', OTHER_VIP), 'k1 holds its VIP', 30_000, 50);
      const k1At = performance.now();
      await sleep(SECONDS * 1000);
      last = performance.now();
      // Their group: ms without a holder of their VIP once k1 first had it, and its moves.
      const kEvents = neighbourWatch.events.filter((e: VipEvent) => e.t >= k1At && e.t <= last);
      r.neighbour = {
        noHolderMs: timeWhere(neighbourWatch.events, { k1: true, k2: false }, k1At, last, (h) => !h.k1 && !h.k2),
        vipMoves: kEvents.length,
        k1BecameMaster: (neighbours[0]!.out.match(/Entering MASTER STATE/g) ?? []).length,
        k2BecameMaster: (neighbours[1]!.out.match(/Entering MASTER STATE/g) ?? []).length,
      };
    } else {
      const t = performance.now();
      r.sent = await rogue.flood(FLOOD, FOREIGN);
      last = performance.now();
      r.sendMs = Math.round(last - t);
    }
    // Until the VIP is back on a alone, and at least 5 s after the last stray advert.
    await sleep(Math.max(0, last + 5000 - performance.now()));
    await waitFor(vipOnAOnly, `${impl} ${c}: VIP back on a`, 30_000, 20);
    const back = performance.now();
    for (const k of neighbours) await k.stop(2000);
    await neighbourWatch?.stop();
    const end = Math.max(back, last + 5000);
    const moves = watch.events.filter((e: VipEvent) => e.t >= t0 && e.t <= end);
    r.noHolderMs = timeWhere(watch.events, initial, t0, end, (h) => !h.a && !h.b);
    r.twoHoldersMs = timeWhere(watch.events, initial, t0, end, (h) => !!h.a && !!h.b);
    r.vipMoves = moves.length;
    r.windowMs = Math.round(end - t0);
    const outA = a.out.slice(logFrom.a);
    const outB = b.out.slice(logFrom.b);
    if (impl === 'keepalived') {
      r.transitions = (outA + outB).match(/Entering (MASTER|BACKUP) STATE/g)?.length ?? 0;
      r.keepalivedDrops = (outA + outB).match(/not present in MASTER advert/g)?.length ?? 0;
    } else {
      const c1 = { a: await counters('a'), b: await counters('b') };
      const d = (role: 'a' | 'b', k: string) => (c1[role][k] ?? 0) - (c0![role][k] ?? 0);
      r.transitions = ((outA + outB).match(/VI_1: [A-Z]+ -> [A-Z]+ \(/g) ?? []).length;
      r.vridConflict = /VI_1: alarm vrid-conflict/.test(outA + outB);
      for (const [role, iface] of [['a', 'la'], ['b', 'lb']] as const) {
        const keys = Object.keys(c1[role]).filter((k) => k.startsWith(`${iface}.drop.`) || k.startsWith('VI_1.drop.') || k.startsWith('VI_1.warning.'));
        r[role] = {
          read: d(role, `${iface}.read`),
          accepted: d(role, `${iface}.accepted`),
          dropped: d(role, `${iface}.dropped`),
          kernelDrops: d(role, `${iface}.kernel_drops`),
          advertsSent: d(role, 'VI_1.advertsSent'),
          reasons: Object.fromEntries(keys.map((k) => [k, d(role, k)]).filter(([, n]) => n !== 0)),
          // Totals since start: every datagram read is counted once.
          readEqualsAcceptedPlusDropped: c1[role][`${iface}.read`] === (c1[role][`${iface}.accepted`] ?? 0) + (c1[role][`${iface}.dropped`] ?? 0),
        };
      }
      if (c === 'flood') {
        // What reached each box's socket is the flood plus the other box's adverts (the master's,
        // and the backup's own if it took over for a moment): read + kernel drops = that, the
        // kernel's drops counting lost adverts of the twin too.
        const ra = r.a as { read: number; kernelDrops: number; advertsSent: number };
        const rb = r.b as { read: number; kernelDrops: number; advertsSent: number };
        r.aReconciles = ra.read + ra.kernelDrops === (r.sent as number) + rb.advertsSent;
        r.bReconciles = rb.read + rb.kernelDrops === (r.sent as number) + ra.advertsSent;
      }
    }
    return r;
  } finally {
    for (const k of neighbours) await k.stop(2000);
    await a.stop(3000);
    await b.stop(3000);
    await watch.stop();
    // keepalived leaves its VIP behind when killed; twinvip removes it at start-up anyway.
    for (const role of ['a', 'b']) await exec('ip', ['-n', lab.ns(role), 'addr', 'del', `${VIP}/24`, 'dev', `l${role}`]).catch(() => {});
  }
}

const results: Record<string, unknown>[] = [];
const started = new Date();
try {
  await lab.build();
  serial = await lab.serialPair();
  await exec('ip', ['-n', lab.ns('c'), 'addr', 'add', `${ROGUE}/24`, 'dev', 'lc']);
  if (CASES.includes('case4')) {
    await attach('k1', '10.88.0.31/24');
    await attach('k2', '10.88.0.32/24');
  }
  const rogue = RogueSender.open({ name: lab.ns('c') } as Netns, 'lc', ROGUE);
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const c of CASES) {
        // Alternate which implementation goes first, as failover.mjs does.
        for (const impl of rep % 2 ? [...IMPLS].reverse() : IMPLS) {
          const r = { rep, ...(await runCase(impl, c, rogue)) };
          results.push(r);
          process.stderr.write(`${JSON.stringify(r)}\n`);
        }
      }
    }
  } finally {
    rogue.close();
  }
} finally {
  await lab.cleanup();
}

const machine = { arch: process.arch, uname_m: (await exec('uname', ['-m'])).trim(), nproc: cpus().length, cpu: cpus()[0]?.model, node: process.version, load: (await exec('cat', ['/proc/loadavg'])).trim() };
const summary: Record<string, unknown>[] = [];
for (const c of CASES) {
  for (const impl of IMPLS) {
    const rs = results.filter((r) => r.case === c && r.impl === impl);
    const of = (k: string) => rs.map((r) => r[k] as number);
    summary.push({ case: c, impl, runs: rs.length, noHolderMs: median(of('noHolderMs')), noHolderMsEach: of('noHolderMs'), twoHoldersMs: median(of('twoHoldersMs')), vipMoves: median(of('vipMoves')), vipMovesEach: of('vipMoves') });
  }
}
const report = { date: started.toISOString(), machine, seconds: SECONDS, flood: FLOOD, reps: REPS, summary, runs: results };
const out = values.out ?? join(ROOT, 'bench/results', `stray-${started.toISOString().slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`stray-advert benchmark ${report.date} on ${machine.uname_m}, ${machine.nproc} CPU(s), load ${machine.load}; --seconds ${SECONDS}, --flood ${FLOOD}`);
console.log('| case | implementation | ms without a VIP holder | ms with two holders | VIP moves | transitions | counted (twinvip) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  const a = r.a as { reasons: Record<string, number>; read: number; kernelDrops: number } | undefined;
  const b = r.b as { reasons: Record<string, number>; read: number; kernelDrops: number } | undefined;
  const counted = a && b ? `a ${JSON.stringify(a.reasons)} read ${a.read} kernel ${a.kernelDrops}; b ${JSON.stringify(b.reasons)} read ${b.read} kernel ${b.kernelDrops}` : `${r.keepalivedDrops ?? 0} "not present in MASTER advert" log lines`;
  console.log(`| ${r.case} | ${r.impl} | ${r.noHolderMs} | ${r.twoHoldersMs} | ${r.vipMoves} | ${r.transitions} | ${counted} |`);
}
console.log(`\nmedians of ${REPS}:`);
console.log('| case | implementation | ms without a VIP holder (each run) | ms with two holders | VIP moves (each run) |');
console.log('|---|---|---|---|---|');
for (const x of summary) console.log(`| ${x.case} | ${x.impl} | ${x.noHolderMs} (${(x.noHolderMsEach as number[]).join(', ')}) | ${x.twoHoldersMs} | ${x.vipMoves} (${(x.vipMovesEach as number[]).join(', ')}) |`);
console.log(`written to ${out}`);
