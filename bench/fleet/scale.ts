// `twinvip fleet` against a simulated fleet of 2,000 pairs (4,000 boxes) on one mosquitto on
// loopback (issue "fleet operations" targets: status converges within 5 s of start; a
// split-brain is flagged within 1 s of the second MASTER being published; 0 false alarms over a
// 5-minute run with normal failovers; the tool's RSS recorded).
//   convergence  `twinvip fleet status --json` from spawn to exit (node start-up included), with
//                every pair in its report; max RSS from /usr/bin/time
//   detection    `twinvip fleet watch --json` running; one pair's second box published MASTER;
//                time until the watch prints the split-brain alarm (its 500 ms grace included)
//   soak         the watch running while the fleet hands instances over (one every --every ms,
//                the new MASTER's state published 0-300 ms before the old one's BACKUP): alarms
//                raised = false alarms
// Run: node bench/fleet/run.mjs scale [--pairs 2000] [--soak 300] [--reps 5]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { freePort, Mosquitto } from '../../test/integration/mqtt/broker';
import { FleetSim } from '../../test/integration/mqtt/fleet-sim';

const { values } = parseArgs({ options: { pairs: { type: 'string', default: '2000' }, soak: { type: 'string', default: '300' }, reps: { type: 'string', default: '5' }, every: { type: 'string', default: '100' } } });
const PAIRS = Number(values.pairs);
const SOAK_S = Number(values.soak);
const REPS = Number(values.reps);
const EVERY_MS = Number(values.every);
const BUNDLE = join(process.cwd(), 'dist/twinvip.js');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'tvscale-'));
const broker = new Mosquitto({ dir, port: await freePort() });
const children: ChildProcess[] = [];
let sim: FleetSim | undefined;

async function statusRun(): Promise<{ ms: number; pairs: number; rssKb: number; code: number | null }> {
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, BUNDLE, 'fleet', 'status', '--json', '--no-publish', '--broker', broker.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const ms = performance.now() - t0;
  const report = JSON.parse(out) as { pairs: unknown[] };
  return { ms: Math.round(ms), pairs: report.pairs.length, rssKb: Number(/maxrss_kb=(\d+)/.exec(err)?.[1] ?? NaN), code };
}

/** A running `fleet watch --json`: its events with the time each line arrived here. */
function startWatch(): { child: ChildProcess; events: { at: number; e: Record<string, any> }[]; synced: Promise<number> } {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BUNDLE, 'fleet', 'watch', '--json', '--broker', broker.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const events: { at: number; e: Record<string, any> }[] = [];
  let resolveSynced!: (ms: number) => void;
  const synced = new Promise<number>((r) => (resolveSynced = r));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const at = performance.now();
    try {
      const e = JSON.parse(line) as Record<string, any>;
      events.push({ at, e });
      if (e.event === 'synced') resolveSynced(at - t0);
    } catch {
      /* not an event */
    }
  });
  return { child, events, synced };
}

function rssKb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function waitEvent(events: { at: number; e: Record<string, any> }[], pred: (e: Record<string, any>) => boolean, timeoutMs: number): Promise<number> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const hit = events.find((x) => pred(x.e));
    if (hit) return hit.at;
    if (performance.now() > end) throw new Error('event not seen in time');
    await sleep(5);
  }
}

const result: Record<string, unknown> = {};
try {
  await broker.start();
  sim = new FleetSim({ url: broker.url, pairs: PAIRS, connections: 8 });
  const p0 = performance.now();
  await sim.start();
  result.publish_fleet_ms = Math.round(performance.now() - p0);

  const runs = [];
  for (let i = 0; i < REPS; i++) runs.push(await statusRun());
  result.status = { runs, median_ms: median(runs.map((r) => r.ms)), max_rss_mb: +(Math.max(...runs.map((r) => r.rssKb)) / 1024).toFixed(1), all_pairs: runs.every((r) => r.pairs === PAIRS), exit_codes: [...new Set(runs.map((r) => r.code))] };

  const w = startWatch();
  const syncedMs = await w.synced;
  const detections: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const pair = `site-${String(i * 7 + 1).padStart(4, '0')}`;
    const t0 = performance.now();
    await sim.update(`${pair}-b`, (b) => (b.instances.VI_1 = 'MASTER'));
    const t1 = await waitEvent(w.events, (e) => e.event === 'raised' && e.kind === 'split-brain' && e.pair === pair, 10_000);
    detections.push(Math.round(t1 - t0));
    await sim.update(`${pair}-b`, (b) => (b.instances.VI_1 = 'BACKUP'));
    await waitEvent(w.events, (e) => e.event === 'cleared' && e.pair === pair, 10_000);
  }
  result.detection = { runs_ms: detections, median_ms: median(detections), max_ms: Math.max(...detections), grace_ms: 500, watch_synced_ms: Math.round(syncedMs) };

  // Soak: routine handovers all over the fleet; any alarm raised is a false one.
  const before = w.events.filter((x) => x.e.event === 'raised').length;
  const soakEnd = performance.now() + SOAK_S * 1000;
  let handovers = 0;
  let crossMax = 0;
  /** The crossing as it really happened (the machine is loaded): at or over the grace, an alarm is right. */
  let realMax = 0;
  let overGrace = 0;
  /** Pair/instance of each handover whose crossing really lasted the grace or longer. */
  const slow = new Set<string>();
  const inflight = new Set<Promise<void>>();
  // One handover at a time per pair, as a real pair does (two overlapping handovers of one
  // instance would leave it genuinely with two holders or none).
  const busy = new Set<string>();
  while (performance.now() < soakEnd) {
    const pair = `site-${String(Math.floor(Math.random() * PAIRS)).padStart(4, '0')}`;
    if (busy.has(pair)) continue;
    busy.add(pair);
    const cross = Math.floor(Math.random() * 301);
    crossMax = Math.max(crossMax, cross);
    const instance = Math.random() < 0.5 ? 'VI_1' : 'VI_2';
    const p = sim.handover(pair, instance, cross).then((real) => {
      realMax = Math.max(realMax, real);
      if (real >= 500) {
        overGrace++;
        slow.add(`${pair}/${instance}`);
      }
    }).finally(() => {
      inflight.delete(p);
      busy.delete(pair);
    });
    inflight.add(p);
    handovers++;
    await sleep(EVERY_MS);
  }
  await Promise.all(inflight);
  await sleep(1500);
  const raisedInSoak = w.events.filter((x) => x.e.event === 'raised').slice(before);
  // An alarm for a handover that really left both boxes MASTER for the grace or longer is right.
  const falseAlarms = raisedInSoak.filter((x) => !(x.e.kind === 'split-brain' && slow.has(`${x.e.pair}/${x.e.instance}`)));
  result.soak = { seconds: SOAK_S, handovers, cross_ms_max: crossMax, real_cross_ms_max: Math.round(realMax), real_crossings_over_grace: overGrace, alarms_raised: raisedInSoak.length, false_alarms: falseAlarms.length, examples: raisedInSoak.slice(0, 5).map((x) => x.e), watch_rss_mb: +(rssKb(w.child.pid!) / 1024).toFixed(1) };
} finally {
  for (const c of children) if (c.exitCode === null && c.pid) c.kill('SIGTERM');
  await sim?.stop().catch(() => {});
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
const machine = { nproc: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadavg: readFileSync('/proc/loadavg', 'utf8').trim() };
const report = { date: new Date().toISOString(), machine, pairs: PAIRS, boxes: 2 * PAIRS, ...result };
const out = join('bench/results', `fleet-scale-${report.date.slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
const s = result.status as any;
const d = result.detection as any;
const k = result.soak as any;
console.log(`fleet at scale, ${report.date}, ${PAIRS} pairs (${2 * PAIRS} boxes), ${machine.nproc} CPU(s), load ${machine.loadavg}`);
console.log(`| measure | result | target |`);
console.log(`|---|---|---|`);
console.log(`| fleet status, spawn to exit (median of ${REPS}) | ${s.median_ms} ms (runs ${s.runs.map((r: any) => r.ms).join(', ')}), all pairs: ${s.all_pairs} | <= 5000 ms |`);
console.log(`| fleet status max RSS | ${s.max_rss_mb} MB | recorded |`);
console.log(`| split-brain: second MASTER published -> alarm printed (median / max of ${REPS}) | ${d.median_ms} / ${d.max_ms} ms (grace 500 ms) | <= 1000 ms |`);
console.log(`| soak: ${k.seconds} s, ${k.handovers} handovers (messages crossing up to ${k.cross_ms_max} ms planned, ${k.real_cross_ms_max} ms real; ${k.real_crossings_over_grace} really crossed by >= 500 ms) | ${k.alarms_raised} alarm(s) raised, ${k.false_alarms} not explained by a real crossing >= 500 ms (false) | 0 false |`);
console.log(`| fleet watch RSS after the soak (VmHWM) | ${k.watch_rss_mb} MB | recorded |`);
console.log(`written to ${out}`);
