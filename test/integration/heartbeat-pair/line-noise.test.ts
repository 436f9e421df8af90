// Issue 5 case (e): line noise between the two boxes' serial ports. Two real daemons heartbeat
// through a relay that flips bits, inserts bytes and injects junk bursts (noisy-line.ts), while
// the LAN path between them is cut, so the serial line is the only thing telling b that a lives
// and a single false frame (a forged release, a bogus claim) or a run of lost heartbeats would
// show as a transition. Over 10 s of noise: no transition, serial channel never lost, every
// damaged frame rejected (counters), no more frames accepted than the relay passed intact, and
// accepted heartbeats keep flowing.
import { expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { type Box, PairLab, pairLabHooks } from './pair-lab';
import { NoisyLine } from './noisy-line';
import { describeRequiring } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

let p: PairLab;
let line: NoisyLine;

const logs = (): string => p.logs();
const sum = (c: Record<string, number>, prefix: string) => Object.entries(c).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);

// 1 damaged frame in 6 plus a junk burst before 1 in 7, in each direction. The clean-up closes the line too.
pairLabHooks(() => PairLab.startPair({ line: async (lab, dir) => (line = await NoisyLine.start(lab, dir, { corruptEvery: 6, junkEvery: 7 })) }), (lab) => (p = lab));

describeRequiring(NetnsLab.prerequisites, 'line noise on the serial heartbeat', () => {
  it('(e) 10 s of bit flips, inserted bytes and junk with the LAN cut: no false frame accepted, heartbeats still flow, no transition', async () => {
    await p.waitFor(async () => (await p.state(p.a)) === 'MASTER' && (await p.state(p.b)) === 'BACKUP', () => `a MASTER, b BACKUP${logs()}`, 30_000);
    await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, 'serial up on both');
    await p.cutLan(p.a);
    const mark = { a: p.a.log().length, b: p.b.log().length };
    const since = (box: Box) => box.log().slice(mark[box.id]);
    // b keeps BACKUP only because a's serial heartbeat gets through: serial is the only channel.
    await p.waitFor(() => /alarm ethernet-heartbeat-lost/.test(since(p.b)), () => `b notices the LAN cut${logs()}`);

    const before = { a: (await p.counters(p.a))!, b: (await p.counters(p.b))! };
    const relayBefore = { ab: { ...line.aToB.counts }, ba: { ...line.bToA.counts } };
    line.noisy = true;
    const samples: string[] = [];
    const until = Date.now() + 10_000;
    try {
      while (Date.now() < until) {
        const [sa, sb, hbA, hbB] = await Promise.all([p.state(p.a), p.state(p.b), p.heartbeat(p.a), p.heartbeat(p.b)]);
        samples.push(`${sa}/${sb}/${hbA?.serial.ok}/${hbB?.serial.ok}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      line.noisy = false;
      await p.healLan(p.a);
    }
    const ab = { ...line.aToB.counts };
    const ba = { ...line.bToA.counts };

    // No spurious transition and the serial channel never declared lost, at any sample.
    expect(samples.filter((s) => s !== 'MASTER/BACKUP/true/true')).toEqual([]);
    expect(since(p.a) + since(p.b)).not.toMatch(/ -> |serial-heartbeat-lost|peer-release|peer-dead|release frame/);

    // Every damaged frame and junk burst was rejected: the rejected counters grew by at least as
    // much (a flipped bit that makes a 0x00 splits a frame into two rejected candidates).
    const damaged = { b: ab.corrupted - relayBefore.ab.corrupted + ab.junk - relayBefore.ab.junk, a: ba.corrupted - relayBefore.ba.corrupted + ba.junk - relayBefore.ba.junk };
    expect(damaged.a).toBeGreaterThanOrEqual(20);
    expect(damaged.b).toBeGreaterThanOrEqual(20);
    const after = await p.waitFor(async () => {
      const c = { a: (await p.counters(p.a))!, b: (await p.counters(p.b))! };
      return sum(c.a, 'rejected.') - sum(before.a, 'rejected.') >= damaged.a && sum(c.b, 'rejected.') - sum(before.b, 'rejected.') >= damaged.b ? c : null;
    }, `rejected counters cover the damage (${JSON.stringify(damaged)})`);

    // No false frame accepted: each side accepted at most what the relay passed intact towards it
    // (totals since start; the daemon is read before the relay, so nothing in flight is missed).
    const accepted = { a: sum(after.a, 'accepted.'), b: sum(after.b, 'accepted.') };
    expect(accepted.b).toBeLessThanOrEqual(line.aToB.counts.clean);
    expect(accepted.a).toBeLessThanOrEqual(line.bToA.counts.clean);
    // ... and heartbeats kept being accepted at a useful rate (10 per second are sent; 1 in 6 is
    // damaged): at least half of the nominal 100.
    const hbB = after.b['accepted.heartbeat']! - before.b['accepted.heartbeat']!;
    const hbA = after.a['accepted.heartbeat']! - before.a['accepted.heartbeat']!;
    expect(hbB).toBeGreaterThanOrEqual(50);
    expect(hbA).toBeGreaterThanOrEqual(50);
    // Nothing accepted that was not sent: no phantom reboot of the peer, no replay, no own frame.
    expect(after.b.peer_reboots).toBe(before.b.peer_reboots);
    expect(after.a.peer_reboots).toBe(before.a.peer_reboots);

    const reasons = (c: Record<string, number>, b0: Record<string, number>) =>
      Object.entries(c).filter(([k, v]) => k.startsWith('rejected.') && v !== b0[k]).map(([k, v]) => `${k.slice(9)} ${v - b0[k]!}`).join(', ');
    console.log(
      `(e) ${samples.length} samples, all MASTER/BACKUP with serial ok. a->b: ${ab.clean - relayBefore.ab.clean} intact, ${damaged.b} damaged/junk; ` +
        `b accepted ${hbB} heartbeats, rejected ${reasons(after.b, before.b)}. b->a: ${ba.clean - relayBefore.ba.clean} intact, ${damaged.a} damaged/junk; ` +
        `a accepted ${hbA} heartbeats, rejected ${reasons(after.a, before.a)}`,
    );
  }, patience(90_000));
});
