// Handover without skew (issue 21) on two real daemons, a bridged LAN and a socat serial cable:
// a master that gives an instance up (its LAN link goes down: FAULT; a graceful stop) removes its
// VIPs, then says so over serial, and the twin — the only other router of the VRID — becomes
// MASTER at once ("twin released"), not after Skew_Time. Each case is watched by `ip monitor`
// in both boxes: the VIP is never on both. Times are the benchmark's business (bench/failover).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { type Box, PairLab, VIP } from './pair-lab';
import { AddrMonitor, overlapMs, presence } from './vip-watch';
import { describeRequiring } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

let p: PairLab;

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

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  p = await PairLab.create();
  await p.startSerial();
  await p.writeConfig(p.a);
  await p.writeConfig(p.b);
  p.start(p.a);
  p.start(p.b);
}, patience(60_000));

afterAll(async () => {
  await p?.cleanup();
}, patience(60_000));

describeRequiring(NetnsLab.prerequisites, 'handover without skew: the twin is the only other router', () => {
  it("link down on the master: FAULT, VIPs removed, release over serial, the twin MASTER at once ('twin released'); never on both", async () => {
    await masterIs(p.a, p.b);
    const before = p.b.log().length;
    const overlap = await watched(p.a, p.b, () => p.a.ns.run('ip', ['link', 'set', 'dev', 'la', 'down']).then(() => undefined), async () => (await p.state(p.b)) === 'MASTER');
    try {
      expect(p.b.log().slice(before)).toMatch(/VI_1: BACKUP -> MASTER \(twin released, over the serial channel, no other router on the VRID: no skew\)/);
      expect(p.a.log()).toMatch(/VI_1: MASTER -> FAULT .*release sent to the twin over serial/);
      expect(overlap).toBe(0);
    } finally {
      await p.a.ns.run('ip', ['link', 'set', 'dev', 'la', 'up']);
    }
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
