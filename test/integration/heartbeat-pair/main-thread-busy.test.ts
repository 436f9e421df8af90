// The HA path in its own thread (issue 17), on two real daemons (the bundle), a bridged LAN and a
// socat serial cable: the main thread of a box is kept busy for 6 s — three times the twin's dead
// time — by the debug command `debug-busy` (TWINVIP_DEBUG_BUSY=1). Adverts and serial frames come
// from the HA thread, so neither box may see a stall, a lost channel or a transition. With the HA
// path on the main thread (TWINVIP_HA_THREAD=main) the same busy loop makes the twin take over
// (bench/ha-load measures both side by side).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requestOnce } from '../../../src/control';
import { NetnsLab } from '../helpers/netns';
import { type Box, PairLab } from './pair-lab';
import { describeRequiring } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

let p: PairLab;
const logs = (): string => p.logs();
const BUSY_MS = 6000;

async function busy(box: Box): Promise<{ busy_ms: number }> {
  const r = await requestOnce(box.socket, 'debug-busy', { ms: BUSY_MS }, { timeoutMs: patience(BUSY_MS + 10_000) });
  if (!r.ok || r.response.status !== 'ok') throw new Error(`debug-busy on ${box.id}: ${JSON.stringify(r)}`);
  return r.response.data as { busy_ms: number };
}

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  process.env.TWINVIP_DEBUG_BUSY = '1';
  p = await PairLab.startPair();
}, patience(60_000));

afterAll(async () => {
  delete process.env.TWINVIP_DEBUG_BUSY;
  await p?.cleanup();
}, patience(60_000));

describeRequiring(NetnsLab.prerequisites, 'main thread busy for seconds: the HA path keeps its timing', () => {
  it('the HA path runs in its own thread on both boxes', async () => {
    await p.masterIs(p.a, p.b);
    for (const box of [p.a, p.b]) expect(box.log()).toMatch(/HA path \(VRRP, serial heartbeat\) runs in its own thread/);
  });

  for (const which of ['a', 'b'] as const) {
    it(`main thread of ${which} (${which === 'a' ? 'MASTER' : 'BACKUP'}) busy for ${BUSY_MS / 1000} s: no stall, no lost channel, no transition on either box`, async () => {
      await p.masterIs(p.a, p.b);
      await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, () => `serial up on both${logs()}`);
      const box = which === 'a' ? p.a : p.b;
      const before = { a: p.a.log().length, b: p.b.log().length };
      const since = (b: Box) => b.log().slice(before[b.id]);
      const r = await busy(box);
      expect(r.busy_ms).toBeGreaterThanOrEqual(BUSY_MS);
      // The busy box's log lines of those 6 s (written by its main thread) come out now; wait
      // until the main thread has caught up with a fresh status, then judge the whole window.
      await p.waitFor(async () => (await p.state(box)) !== null, `${which} answers again`);
      for (const b of [p.a, p.b]) {
        expect(since(b), logs()).not.toMatch(/ -> /);
        expect(since(b), logs()).not.toMatch(/HA path stalled/);
        expect(since(b), logs()).not.toMatch(/serial-heartbeat-lost|ethernet-heartbeat-lost|peer silent/);
      }
      expect([await p.state(p.a), await p.state(p.b)]).toEqual(['MASTER', 'BACKUP']);
    });
  }
});
