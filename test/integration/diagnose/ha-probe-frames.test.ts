// Issue 23: the HA path's own probe rounds (the takeover decision once the serial cable is cut,
// src/ha/heartbeat/twin-probe.ts) send their questions to the twin's MAC as frames too, the MAC
// the split-brain diagnosis learned from the twin's evidence over serial. The fault: the switch
// drops a's ARP replies and adverts on their way to b (a one-way fault for all b's kernel needs:
// ARP inspection dropping replies, plus a VRRP filter), the neighbour tables flushed, then the
// serial cable cut. b's kernel cannot resolve a, so its datagrams to a never leave; a's answers
// (plain UDP to b) still arrive. Without the frames b read a as dead and took over (two masters:
// checked by hand with the frames turned off); with them a's daemon answers every round.
import { expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { PairLab, pairLabHooks } from '../heartbeat-pair/pair-lab';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';
import { diagnosis, nft } from './diag-helpers';

let p: PairLab;

pairLabHooks(() => PairLab.startPair(), (lab) => (p = lab));

/** Samples both boxes for `ms`; throws at the first sample with two masters. */
async function neverTwoMasters(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const [a, b] = await Promise.all([p.state(p.a), p.state(p.b)]);
    if (a === 'MASTER' && b === 'MASTER') throw new Error(`two masters${p.logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('nft')], "the HA path's probe rounds reach the twin as frames to its MAC", () => {
  it("serial cut while a's ARP replies and adverts are dropped on the way to b, neighbour tables flushed: a's daemon answers b's rounds, no second master", async () => {
    await p.masterIs(p.a, p.b);
    await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, 'serial up on both');
    // The diagnosis has read a's evidence over serial (its MAC) and handed it to b's HA path.
    await p.waitFor(async () => (await diagnosis(p.b)).twin === 'box-a', () => `b's diagnosis hears a over serial${p.logs()}`);
    const before = p.b.log().length;
    const toMac = (await p.counters(p.b))?.['probe.questions_to_mac'] ?? 0;
    const answeredOnA = (await p.counters(p.a))?.['probe.questions_answered'] ?? 0;
    await nft(p, p.s, `table bridge ha_probe {\n  chain forward {\n    type filter hook forward priority 0;\n    iifname "${p.a.port}" ether type arp arp operation reply drop\n    iifname "${p.a.port}" ip protocol vrrp drop\n  }\n}\n`);
    for (const box of [p.a, p.b]) await box.ns.run('ip', ['neigh', 'flush', 'dev', box.ifname]);
    await p.serial!.kill();
    try {
      await p.waitFor(() => /alarm ethernet-heartbeat-lost/.test(p.b.log().slice(before)), () => `b loses a's adverts${p.logs()}`);
      // b probes again every second while both channels are silent; a's daemon answers each time.
      await p.waitFor(() => (p.b.log().slice(before).match(/probe of the twin \([^)]*\): the twin's daemon answered a probe at 10\.77\.0\.1/g) ?? []).length >= 3, () => `b's rounds answered${p.logs()}`);
      await neverTwoMasters(3000);
      expect(await p.state(p.a)).toBe('MASTER');
      expect(p.b.log().slice(before)).not.toMatch(/BACKUP -> MASTER/);
      // The questions went as frames, and they are what reached a: b's kernel could not resolve a.
      expect((await p.counters(p.b))?.['probe.questions_to_mac'] ?? 0).toBeGreaterThan(toMac);
      expect((await p.counters(p.a))?.['probe.questions_answered'] ?? 0).toBeGreaterThan(answeredOnA);
      const neigh = await p.b.ns.ipJson<{ dst: string; state?: string[] }[]>(['neigh', 'show', 'dev', p.b.ifname]);
      expect(neigh.filter((n) => n.dst === '10.77.0.1' && n.state?.includes('REACHABLE'))).toEqual([]);
      expect(neigh.filter((n) => n.state?.includes('PERMANENT') || n.state?.includes('NOARP'))).toEqual([]);
    } finally {
      await p.s.tryRun('nft', ['delete', 'table', 'bridge', 'ha_probe']);
      await p.serial!.start();
    }
    await p.masterIs(p.a, p.b);
  }, patience(120_000));
});
