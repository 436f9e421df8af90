// Handover without skew (issue 21) on two real daemons, a bridged LAN and a socat serial cable:
// a master that gives an instance up (its LAN link goes down: FAULT; a graceful stop) removes its
// VIPs, then says so over serial, and the twin — the only other router of the VRID — becomes
// MASTER at once ("twin released"), not after Skew_Time. Each case is watched by `ip monitor`
// in both boxes: the VIP is never on both. Times are the benchmark's business (bench/failover).
import { expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { type Box, PairLab, pairLabHooks, VIP } from './pair-lab';
import { AddrMonitor, overlapMs, presence } from './vip-watch';
import { describeRequiring } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

let p: PairLab;

/** How long each stay in BACKUP lasted (ms), by the log's timestamps: FAULT -> BACKUP to the next transition. */
function upPhases(log: string): number[] {
  const out: number[] = [];
  let since: number | null = null;
  for (const m of log.matchAll(/^(\S+) \w+ +VI_1: (\w+) -> (\w+)/gm)) {
    const at = Date.parse(m[1]!);
    if (since !== null) out.push(at - since);
    since = m[2] === 'FAULT' && m[3] === 'BACKUP' ? at : null;
  }
  return out;
}

async function masterIs(box: Box, other: Box): Promise<void> {
  await p.masterIs(box, other);
  await p.waitFor(async () => (await p.hasVip(box)) && !(await p.hasVip(other)), `VIP on ${box.id} only`);
  await p.waitFor(async () => (await p.heartbeat(other))?.serial.ok && (await p.heartbeat(box))?.peer?.instances[0]?.state === 'BACKUP', () => `serial up, ${box.id} sees ${other.id} BACKUP${p.logs()}`);
}

/** Runs `fault` with both boxes' address monitors listening; returns the dual-VIP time in ms. */
async function watched(from: Box, to: Box, fault: () => Promise<void>, until: () => Promise<boolean>): Promise<number> {
  const monFrom = await AddrMonitor.start(p, from.ns);
  const monTo = await AddrMonitor.start(p, to.ns);
  const t0 = Date.now();
  await fault();
  await p.waitFor(until, () => `takeover by ${to.id}${p.logs()}`);
  await p.waitFor(async () => !(await p.hasVip(from)) && (await p.hasVip(to)), `VIP moved to ${to.id}`);
  await monFrom.sync();
  await monTo.sync();
  const t1 = Date.now();
  return overlapMs(presence(true, monFrom.eventsFor(VIP), t0, t1), presence(false, monTo.eventsFor(VIP), t0, t1));
}

pairLabHooks(() => PairLab.startPair(), (lab) => (p = lab));

describeRequiring(NetnsLab.prerequisites, 'handover without skew: the twin is the only other router', () => {
  it("link down on the master: FAULT, VIPs removed, release over serial, the twin MASTER at once ('twin released'); never on both", async () => {
    await masterIs(p.a, p.b);
    const before = p.b.log().length;
    const overlap = await watched(p.a, p.b, () => p.a.ns.run('ip', ['link', 'set', 'dev', 'la', 'down']).then(() => undefined), async () => (await p.state(p.b)) === 'MASTER');
    try {
      // The twin does not ask for the instance back while its link is down.
      expect(p.b.log().slice(before)).toMatch(/VI_1: BACKUP -> MASTER \(twin released, over the serial channel, no other router on the VRID: no skew\)/);
      expect(p.a.log()).toMatch(/VI_1: MASTER -> FAULT .*release sent to the twin over serial/);
      expect(overlap).toBe(0);
    } finally {
      await p.a.ns.run('ip', ['link', 'set', 'dev', 'la', 'up']);
    }
    await masterIs(p.a, p.b);
  }, patience(120_000));

  it("preempt in one exchange: the returning master asks over serial after its hold-down, the twin steps down ('peer claim'), releases, and it is MASTER at once; never on both", async () => {
    await masterIs(p.a, p.b);
    await p.a.ns.run('ip', ['link', 'set', 'dev', 'la', 'down']);
    try {
      await p.waitFor(async () => (await p.state(p.b)) === 'MASTER' && (await p.hasVip(p.b)), () => `b MASTER${p.logs()}`);
    } finally {
      // the link comes back below, watched
    }
    const beforeA = p.a.log().length;
    const beforeB = p.b.log().length;
    const overlap = await watched(p.b, p.a, () => p.a.ns.run('ip', ['link', 'set', 'dev', 'la', 'up']).then(() => undefined), async () => (await p.state(p.a)) === 'MASTER');
    expect(p.b.log().slice(beforeB)).toMatch(/VI_1: MASTER -> BACKUP \(peer claim, from 10\.77\.0\.1 \(150\) over serial, ours 100\)/);
    expect(p.b.log().slice(beforeB)).toMatch(/release sent to the twin over serial/);
    // Not the RFC path (Master_Down_Interval, cause 'preempt'): the twin's release.
    expect(p.a.log().slice(beforeA)).toMatch(/VI_1: BACKUP -> MASTER \(twin released/);
    expect(overlap).toBe(0);
    await masterIs(p.a, p.b);
  }, patience(120_000));

  it("graceful stop (SIGTERM): the stopping master's VIPs go first, then its release; the twin MASTER at once; never on both", async () => {
    await masterIs(p.a, p.b);
    const before = p.b.log().length;
    const overlap = await watched(p.a, p.b, async () => {
      p.a.proc!.child.kill('SIGTERM');
    }, async () => (await p.state(p.b)) === 'MASTER');
    await p.a.proc!.exited;
    expect(p.a.proc!.exitCode).toBe(0);
    expect(p.b.log().slice(before)).toMatch(/VI_1: BACKUP -> MASTER \(twin released/);
    expect(p.a.log()).toMatch(/VI_1: MASTER -> INIT \(shutdown\): release sent to the twin over serial/);
    expect(overlap).toBe(0);
    p.start(p.a);
    await masterIs(p.a, p.b);
  }, patience(120_000));
});

describeRequiring(NetnsLab.prerequisites, 'preempt hold-down against a flapping link; nopreempt unchanged', () => {
  it('a link flapping faster than the hold-down never pulls the VIP back; once it stays up, the preferred box preempts', async () => {
    await p.a.proc!.kill();
    await p.writeConfig(p.a, { instances: { VI_1: { interface: 'la', vrid: 77, priority: 150, advert_int: 1, vips: [`${VIP}/24`], preempt_hold_down: 3 } } });
    p.start(p.a);
    await masterIs(p.a, p.b);
    await p.a.ns.run('ip', ['link', 'set', 'dev', 'la', 'down']);
    await p.waitFor(async () => (await p.state(p.b)) === 'MASTER' && (await p.hasVip(p.b)), () => `b MASTER${p.logs()}`);
    const beforeA = p.a.log().length;
    // Up for about a second, down again, four times: each time a is back in BACKUP, the hold-down
    // (3 s) starts over; the RFC path (3 x 1 s + skew) never completes either. The flaps run in
    // one shell inside a's namespace, so an up phase lasts the shell's `sleep 1` whatever the
    // load on this process: toggling from here (wait for BACKUP in the log, sleep, spawn `ip`)
    // stretched one to past the hold-down at load 23, and a then preempted, as it should.
    await p.a.ns.run('sh', ['-c', 'for i in 1 2 3 4; do ip link set dev la up; sleep 1; ip link set dev la down; sleep 0.5; done']);
    await p.waitFor(async () => (await p.state(p.a)) === 'FAULT', () => `a FAULT after the flaps${p.logs()}`);
    const flaps = upPhases(p.a.log().slice(beforeA));
    console.log(`flaps: a in BACKUP for ${flaps.map((ms) => `${ms} ms`).join(', ')} (hold-down 3000 ms)`);
    // a reached BACKUP in the flaps (a link event handled late may show none for one of them).
    expect(flaps.length, p.a.log().slice(beforeA)).toBeGreaterThanOrEqual(2);
    expect(p.a.log().slice(beforeA)).not.toMatch(/BACKUP -> MASTER/);
    expect(await p.state(p.b)).toBe('MASTER');
    await p.a.ns.run('ip', ['link', 'set', 'dev', 'la', 'up']);
    await p.waitFor(async () => (await p.state(p.a)) === 'MASTER', () => `a preempts once stable${p.logs()}`, 30_000);
    // Either path is the preempt: the request over serial after the 3 s hold-down ('twin
    // released' once b has stepped down and released), or the RFC's, which the hold-down leaves
    // as it is: b's adverts of a lower priority are ignored and Master_Down_Interval (3 x 1 s +
    // skew 0.41 s) ends. The two finish 0.41 s apart less the exchange; at load 23 the RFC's won.
    expect(p.a.log().slice(beforeA)).toMatch(/VI_1: BACKUP -> MASTER \((twin released|preempt, lower priority master)/);
  }, patience(180_000));

  it('nopreempt: the returning higher-priority box stays BACKUP (no request over serial)', async () => {
    await p.a.proc!.kill();
    await p.writeConfig(p.a, { instances: { VI_1: { interface: 'la', vrid: 77, priority: 150, advert_int: 1, vips: [`${VIP}/24`], preempt: false } } });
    p.start(p.a);
    // a starts BACKUP and b is MASTER (it took over while a was stopped).
    await p.waitFor(async () => (await p.state(p.a)) === 'BACKUP' && (await p.state(p.b)) === 'MASTER', () => `a BACKUP, b MASTER${p.logs()}`, 30_000);
    const beforeA = p.a.log().length;
    const beforeB = p.b.log().length;
    await p.waitFor(async () => (await p.heartbeat(p.b))?.peer?.instances[0]?.state === 'BACKUP', 'b sees a BACKUP over serial');
    // Well past hold-down and Master_Down_Interval: nothing moves.
    await new Promise((r) => setTimeout(r, 5000));
    expect(p.a.log().slice(beforeA)).not.toMatch(/-> MASTER/);
    expect(p.b.log().slice(beforeB)).not.toMatch(/MASTER -> /);
    expect(await p.hasVip(p.b)).toBe(true);
  }, patience(120_000));
});
