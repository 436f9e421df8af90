// Partition cases of issue 5 on two real daemons (the bundle), a bridged LAN and a socat serial
// cable: (a) the LAN path between the boxes cut while serial lives, watched for VIP on both
// boxes by an address-event stream AND by 10 ms sampling; (d) both channels cut while both boxes
// live: the split-brain that must then happen, and its resolution on healing.
// The serial devices are the socat link paths (not the /dev/pts/N they point to), so a socat
// restarted on the same links is the same "cable" plugged back in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { type Box, PairLab, VIP } from './pair-lab';
import { AddrMonitor, overlapMs, presence, sampleVip } from './vip-watch';

let p: PairLab;

const logs = () => `\n--- a ---\n${p.a.log()}\n--- b ---\n${p.b.log()}`;

async function masterIs(box: Box, other: Box): Promise<void> {
  await p.waitFor(async () => (await p.state(box)) === 'MASTER' && (await p.state(other)) === 'BACKUP', `${box.id} MASTER, ${other.id} BACKUP${logs()}`, 30_000);
  await p.waitFor(async () => (await p.hasVip(box)) && !(await p.hasVip(other)), `VIP on ${box.id} only`);
  await p.waitFor(async () => (await p.heartbeat(other))?.serial.ok && (await p.heartbeat(box))?.serial.ok, 'serial up on both');
}

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  p = await PairLab.create();
  await p.startSerial();
  await p.writeConfig(p.a, {}, { device: 'link' });
  await p.writeConfig(p.b, {}, { device: 'link' });
  p.start(p.a);
  p.start(p.b);
}, 60_000);

afterAll(async () => {
  await p?.cleanup();
}, 60_000);

describe.skipIf(!NetnsLab.available())('partitions: LAN path cut with serial alive; both channels cut', () => {
  it('(a) LAN path cut for 7 s, serial alive: the VIP is never on both boxes (address events + 10 ms samples)', async () => {
    await masterIs(p.a, p.b);
    const monA = await AddrMonitor.start(p, p.a.ns);
    const monB = await AddrMonitor.start(p, p.b.ns);
    const initialA = await p.hasVip(p.a);
    const initialB = await p.hasVip(p.b);
    expect([initialA, initialB]).toEqual([true, false]);
    const beforeB = p.b.log().length;

    const cutAt = Date.now();
    await p.cutLan(p.a);
    let samples;
    try {
      // Plain VRRP would give b the VIP 3 x 1 s + skew (3.6 s) into the cut; 7 s is well past it.
      samples = await sampleVip(p, 7000, 10);
    } finally {
      await p.healLan(p.a);
    }
    const healedAt = Date.now();

    const both = samples.filter((s) => s.a && s.b);
    const gaps = samples.slice(1).map((s, i) => s.start - samples[i]!.start);
    const sorted = [...gaps].sort((x, y) => x - y);
    console.log(
      `(a) ${samples.length} paired samples over ${Math.round(samples.at(-1)!.end)} ms: ` +
        `interval median ${sorted[sorted.length >> 1]?.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms; ` +
        `VIP on a in ${samples.filter((s) => s.a).length}, on b in ${samples.filter((s) => s.b).length}, on both in ${both.length}`,
    );
    expect(both).toEqual([]);
    // The cut was really watched all the way: a sample at least every 100 ms on average even on
    // a loaded machine (the target is 10 ms; the count is reported above).
    expect(samples.length).toBeGreaterThanOrEqual(70);
    expect(samples.every((s) => s.a && !s.b)).toBe(true);

    // The event stream covers the gaps between samples: not one add of the VIP on b, not one
    // delete on a, from before the cut until after it healed.
    const evA = monA.eventsFor(VIP);
    const evB = monB.eventsFor(VIP);
    const overlap = overlapMs(presence(initialA, evA, cutAt, healedAt), presence(initialB, evB, cutAt, healedAt));
    console.log(`(a) ip monitor: ${evA.length} VIP events on a, ${evB.length} on b during the cut; dual-VIP time ${overlap} ms`);
    expect(overlap).toBe(0);
    expect(evB.filter((e) => !e.deleted)).toEqual([]);
    expect(evA.filter((e) => e.deleted)).toEqual([]);

    // It was the heartbeat that held b back: it noticed the Ethernet channel was gone.
    expect(p.b.log().slice(beforeB)).toMatch(/alarm ethernet-heartbeat-lost/);
    expect(p.b.log().slice(beforeB)).not.toMatch(/BACKUP -> MASTER/);
    await p.waitFor(() => /alarm cleared ethernet-heartbeat-lost/.test(p.b.log().slice(beforeB)), `b clears ethernet-heartbeat-lost${logs()}`);
  }, 90_000);
});
