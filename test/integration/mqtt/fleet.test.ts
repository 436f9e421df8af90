// `twinvip fleet` against a real mosquitto on loopback: a simulated fleet (fleet-sim.ts) plus real
// daemons (in process, the MQTT part) on the same broker. The tool groups the boxes into pairs,
// exits 1 while a pair is unhealthy, publishes retained fleet alarms and clears them; `watch`
// flags a split-brain and not a handover whose messages cross; a box subscribes only to its own
// request topics, however many other boxes share the broker.
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, NODE, runCli, SpawnedProcess } from '../../helpers/bundle';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { waitFor } from '../../helpers/wait';
import { freePort, Mosquitto, Recorder } from './broker';
import { FleetSim } from './fleet-sim';
import { startDaemon } from './harness';

let dir: TempDir;
let broker: Mosquitto;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = makeTempDir('tvfleet-');
  broker = new Mosquitto({ dir: dir.path, port: await freePort(), logSubscriptions: true });
  await broker.start();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
afterAll(async () => {
  await broker?.stop();
  dir?.remove();
});

async function sim(pairs: number, root: string): Promise<FleetSim> {
  const s = new FleetSim({ url: broker.url, pairs, root });
  await s.start();
  cleanups.push(async () => {
    await s.clear();
    await s.stop();
  });
  return s;
}

async function status(root: string, ...extra: string[]): Promise<{ code: number | null; report: any; stderr: string }> {
  const r = await runCli(['fleet', 'status', '--json', '--broker', broker.url, '--root', root, '--alarms', `${root}fleet/`, ...extra], { timeoutMs: 30_000 });
  let report: any;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    report = undefined;
  }
  return { code: r.code, report, stderr: r.stderr };
}

describe('twinvip fleet', () => {
  it('status: one line per pair; split-brain, offline, drift flagged, exit 1, retained alarms; all cleared when healed', async () => {
    const root = 'fs1/';
    // Nothing under the root yet: a check that sees no box does not say OK.
    const empty = await status(root);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/no box under fs1\/ \(wrong --root/);
    const s = await sim(50, root);
    const healthy = await status(root);
    expect(healthy.code, healthy.stderr).toBe(0);
    expect(healthy.report).toMatchObject({ boxes: 100, healthy: true });
    expect(healthy.report.pairs).toHaveLength(50);
    expect(healthy.report.pairs[0]).toMatchObject({ id: 'site-0000', instances: [{ name: 'VI_1', holders: ['site-0000-a'] }, { name: 'VI_2', holders: ['site-0000-b'] }] });

    await s.update('site-0003-b', (b) => (b.instances.VI_1 = 'MASTER'));
    await s.setOnline('site-0007-a', false);
    await s.update('site-0011-b', (b) => (b.shared = 'deadbeef0000'));
    await s.update('site-0012-a', (b) => (b.version = '1.1.0'));
    // Split-brain needs the grace to pass in the tool's own view: with --split-grace 0 a one-shot
    // status flags what it sees at once.
    const bad = await status(root, '--split-grace', '0');
    expect(bad.code).toBe(1);
    const problems = bad.report.problems.map((p: any) => `${p.pair} ${p.kind} ${p.instance ?? p.node ?? ''}`.trim()).sort();
    expect(problems).toEqual(['site-0003 split-brain VI_1', 'site-0007 offline site-0007-a', 'site-0011 config-drift', 'site-0012 version-drift']);
    // The text form: one line per pair (plus a header), the problems indented under theirs.
    const text = await runCli(['fleet', 'status', '--problems', '--no-publish', '--split-grace', '0', '--broker', broker.url, '--root', root], { timeoutMs: 30_000 });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^50 pair\(s\), 100 box\(es\), 4 with problems/);
    expect(text.stdout).toMatch(/^BAD  site-0003  \[site-0003-a up v1\.0\.0 cfg:c0ffee000001 seen:\d+s \| site-0003-b up .*\]  VI_1:site-0003-a\+site-0003-b VI_2:site-0003-b$/m);
    expect(text.stdout).toMatch(/^ {4}! split-brain: VI_1: site-0003-a and site-0003-b both MASTER for /m);
    expect(text.stdout).toMatch(/^ {4}! offline: site-0007-a offline/m);

    // The alarms, retained under the tool's prefix: another tool sees them.
    const rec = await Recorder.open(broker.url, `${root}fleet/alarm/#`);
    cleanups.push(() => rec.close());
    await waitFor(() => rec.messages.length >= 4, { what: '4 retained fleet alarms' });
    expect(rec.messages.map((m) => m.topic).sort()).toEqual([
      `${root}fleet/alarm/site-0003/split-brain/VI_1`, `${root}fleet/alarm/site-0007/offline/site-0007-a`, `${root}fleet/alarm/site-0011/config-drift`, `${root}fleet/alarm/site-0012/version-drift`,
    ]);
    expect(JSON.parse(rec.messages.find((m) => m.topic.endsWith('split-brain/VI_1'))!.text)).toMatchObject({ kind: 'split-brain', pair: 'site-0003', instance: 'VI_1', severity: 'critical' });

    await s.update('site-0003-b', (b) => (b.instances.VI_1 = 'BACKUP'));
    await s.setOnline('site-0007-a', true);
    await s.update('site-0011-b', (b) => (b.shared = 'c0ffee000001'));
    await s.update('site-0012-a', (b) => (b.version = '1.0.0'));
    const healed = await status(root);
    expect(healed.code, JSON.stringify(healed.report?.problems)).toBe(0);
    // Cleared: an empty retained message each, so a fresh subscriber sees none.
    await waitFor(() => rec.messages.filter((m) => m.text === '').length >= 4, { what: '4 alarms cleared' });
    const fresh = await Recorder.open(broker.url, [`${root}fleet/alarm/#`, `${root}fleet/probe`]);
    cleanups.push(() => fresh.close());
    fresh.client.publish(`${root}fleet/probe`, 'x');
    await fresh.wait((m) => m.topic === `${root}fleet/probe`, 'probe back');
    expect(fresh.messages.filter((m) => m.topic.includes('/alarm/'))).toEqual([]);
  });

  it('watch: a split-brain is raised after its grace and cleared; a handover whose messages cross is not', async () => {
    const root = 'fs2/';
    const s = await sim(20, root);
    const w = new SpawnedProcess(spawn(NODE, [BUNDLE, 'fleet', 'watch', '--json', '--broker', broker.url, '--root', root, '--alarms', `${root}fleet/`], { stdio: ['ignore', 'pipe', 'pipe'] }));
    cleanups.push(() => w.stop().then(() => undefined));
    const events = () => w.lines.filter((l) => l.json).map((l) => l.json as Record<string, any>);
    await waitFor(() => events().some((e) => e.event === 'synced'), { what: () => `watch synced: ${w.transcript()} ${w.stderr}` });
    expect(events().find((e) => e.event === 'synced')).toMatchObject({ pairs: 20, boxes: 40 });

    // Ten handovers, each with the new MASTER published 150 ms before the old one's BACKUP.
    for (let i = 0; i < 10; i++) await s.handover(`site-${String(i).padStart(4, '0')}`, 'VI_1', 150);
    // A real split-brain: both MASTER and staying so.
    const t0 = Date.now();
    await s.update('site-0015-b', (b) => (b.instances.VI_1 = 'MASTER'));
    await waitFor(() => events().some((e) => e.event === 'raised'), { what: () => `split-brain raised: ${w.transcript()}` });
    const raised = events().filter((e) => e.event === 'raised');
    expect(raised).toEqual([expect.objectContaining({ kind: 'split-brain', pair: 'site-0015', instance: 'VI_1' })]);
    expect(Date.parse(raised[0]!.at) - t0).toBeGreaterThanOrEqual(500 - 20);
    await s.update('site-0015-a', (b) => (b.instances.VI_1 = 'BACKUP'));
    await waitFor(() => events().some((e) => e.event === 'cleared'), { what: () => `split-brain cleared: ${w.transcript()}` });
    // Nothing else was ever raised: no handover looked like split-brain.
    expect(events().filter((e) => e.event === 'raised')).toHaveLength(1);
  });

  it('real boxes join the view; a box subscribes only to its own request topics, whatever else is on the broker', async () => {
    const root = 'twinvip/';
    await sim(200, root);
    const a = await startDaemon(dir.path, 'gw-a', { url: broker.url, allow_plaintext_commands: true, commands: { enabled: true, unsigned: ['status'] } }, { inventory: false }, { node: { name: 'gw-a', state_dir: `${dir.path}/state-gw-a`, twin: 'gw-b' } });
    cleanups.push(() => a.stop());
    const b = await startDaemon(dir.path, 'gw-b', { url: broker.url }, { inventory: false }, { node: { name: 'gw-b', state_dir: `${dir.path}/state-gw-b`, twin: 'gw-a' } });
    cleanups.push(() => b.stop());
    await waitFor(() => a.ext.connected && b.ext.connected, { what: 'both boxes connected', timeoutMs: 20_000 });
    a.daemon.bus.emit('transition', { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'test', at: Date.now() });
    b.daemon.bus.emit('transition', { instance: 'VI_1', from: 'INIT', to: 'BACKUP', cause: 'test', at: Date.now() });
    await waitFor(async () => (await status(root)).report?.pairs.some((p: any) => p.id === 'gw-a~gw-b' && p.healthy), { what: 'the real pair healthy in fleet status', timeoutMs: 30_000 });
    const r = (await status(root)).report;
    expect(r.boxes).toBe(402);
    expect(r.pairs.find((p: any) => p.id === 'gw-a~gw-b')).toMatchObject({ boxes: [{ node: 'gw-a', online: true }, { node: 'gw-b', online: true }], instances: [{ name: 'VI_1', holders: ['gw-a'] }] });

    // Split-brain on the real pair shows.
    b.daemon.bus.emit('transition', { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'test', at: Date.now() });
    await waitFor(async () => (await status(root, '--split-grace', '0')).report?.problems.some((p: any) => p.kind === 'split-brain' && p.pair === 'gw-a~gw-b'), { what: 'split-brain of the real pair', timeoutMs: 30_000 });

    // What the boxes subscribed to, from the broker's own log: their request topics, nothing else.
    const subs = broker.log.split('\n').filter((l) => /twinvip-gw-[ab] \d+ /.test(l) || /Received SUBSCRIBE from twinvip-gw-[ab]/.test(l));
    const filters = broker.subscriptions().filter((x) => x.client.startsWith('twinvip-gw-')).map((x) => `${x.client} ${x.filter}`);
    expect(filters, subs.join('\n')).toEqual(['twinvip-gw-a twinvip/gw-a/request/+']);
    expect(a.daemon.counters.snapshot().mqtt?.requests).toBe(0);
  });
});
