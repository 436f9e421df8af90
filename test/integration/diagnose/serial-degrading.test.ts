// Issue 23: an aging serial cable. The pair's serial link runs through a relay that damages
// frames (heartbeat-pair/noisy-line.ts): clean first, then 1 frame in 6 damaged plus junk bursts.
// The diagnosis names serial-line-degrading on both boxes (each judges the frames it receives),
// and nothing else; before the noise, nothing at all.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requestOnce } from '../../../src/control';
import { NetnsLab } from '../helpers/netns';
import { PairLab } from '../heartbeat-pair/pair-lab';
import { NoisyLine } from '../heartbeat-pair/noisy-line';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

let p: PairLab;
let line: NoisyLine;

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  p = await PairLab.create();
  line = await NoisyLine.start(p.lab, p.dir, { corruptEvery: 6, junkEvery: 7 });
  await p.writeConfig(p.a, {}, { device: line.device('a') });
  await p.writeConfig(p.b, {}, { device: line.device('b') });
  p.start(p.a);
  p.start(p.b);
}, patience(60_000));

afterAll(async () => {
  line?.close();
  await p?.cleanup();
}, patience(60_000));

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat')], 'split-brain diagnosis: a degrading serial line', () => {
  it('clean line: nothing named; damaged frames: serial-line-degrading on both boxes, nothing else', async () => {
    await p.masterIs(p.a, p.b);
    await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, 'serial up on both');
    const diag = async (box: typeof p.a) => {
      const r = await requestOnce(box.socket, 'diagnose', undefined, { timeoutMs: 20_000 });
      expect(r.ok && r.response.status === 'ok', JSON.stringify(r)).toBe(true);
      return (r.ok && r.response.status === 'ok' ? r.response.data : null) as { findings: { cause: string; where: string; evidence: string }[] };
    };
    for (const box of [p.a, p.b]) expect((await diag(box)).findings).toEqual([]);
    const marks = [p.a.log().length, p.b.log().length];
    const at = Date.now();
    line.noisy = true;
    try {
      for (const [k, box] of [p.a, p.b].entries()) {
        const re = new RegExp(`diagnosis: serial-line-degrading \\(box-${box.id}\\): serial here: (\\d+) of (\\d+) frames received damaged`);
        const m = await p.waitFor(() => re.exec(box.log().slice(marks[k])), () => `serial-line-degrading on ${box.id}${p.logs()}`, 60_000);
        console.log(`serial-line-degrading on ${box.id} after ${Date.now() - at} ms: ${m[0]}`);
        expect(Number(m[1])).toBeGreaterThanOrEqual(3);
      }
      for (const box of [p.a, p.b]) {
        const wrong = (await diag(box)).findings.filter((f) => f.cause !== 'serial-line-degrading');
        expect(wrong).toEqual([]);
      }
      // The finding holds while the line stays noisy, through diagnoses whose question to the
      // twin was lost on the line: raised once, never "no longer seen" in between.
      const runs = async (box: typeof p.a) => {
        const r = await requestOnce(box.socket, 'status', undefined, { timeoutMs: 20_000 });
        return r.ok && r.response.status === 'ok' ? ((r.response.data as { counters: Record<string, Record<string, number>> }).counters.diagnose?.runs ?? 0) : 0;
      };
      const before = [await runs(p.a), await runs(p.b)];
      await p.waitFor(async () => (await runs(p.a)) >= before[0]! + 8 && (await runs(p.b)) >= before[1]! + 8, 'eight more diagnoses on each box', 60_000);
      for (const [k, box] of [p.a, p.b].entries()) {
        const log = box.log().slice(marks[k]);
        expect(log).not.toMatch(/diagnosis: serial-line-degrading \(box-[ab]\) no longer seen/);
        expect(log.match(new RegExp(`diagnosis: serial-line-degrading \\(box-${box.id}\\): `, 'g'))).toHaveLength(1);
      }
    } finally {
      line.noisy = false;
    }
  }, patience(180_000));
});
