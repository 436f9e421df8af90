// Issue 23, the threat model: any LAN host can send adverts. A host forging the twin's adverts
// with a password the pair does not use (the twin's source address: nothing authenticates it)
// makes both boxes drop adverts "from the twin" for their authentication, while the twin's own
// adverts keep arriving. That is not the twins' settings: the diagnosis must not say "set the
// same authentication on both twins" (auth-mismatch), but name an unknown sender on the VRID,
// saying why (vrid-conflict, subject 'unknown sender'), and neither box names anything else.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { PairLab, VIP, pairLabHooks } from '../heartbeat-pair/pair-lab';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';
import { healthyAgain, named, onlyNamed } from './diag-helpers';

let p: PairLab;

pairLabHooks(() => PairLab.startPair(), (lab) => (p = lab));

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('python3')], 'a forged advert with a wrong password', () => {
  it("a LAN host sends adverts with a's address and a password: vrid-conflict 'unknown sender' on b, auth-mismatch on neither", async () => {
    await p.masterIs(p.a, p.b);
    await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, 'serial up on both');
    await healthyAgain(p);
    const marks = [p.a.log().length, p.b.log().length];
    const at = Date.now();
    const forger = p.c.spawn('python3', [join(import.meta.dirname, 'forge-advert.py'), 'lc', '10.77.0.1', '77', VIP, '300']);
    try {
      await p.waitFor(() => forger.stdout.includes('sending') || !forger.running, () => `forger started${forger.stderr}`);
      expect(forger.running).toBe(true);
      const hit = await named(p, p.b, marks[1]!, 'vrid-conflict', 'box-b', at);
      expect(hit.line).toMatch(/box-b dropped adverts on VRID 77 \(lb\): \d+ with another authentication type in the last 10 s, while twin box-a is MASTER and its adverts are accepted: they come from another router on the VRID or a forged advert/);
      console.log(`forged wrong-password advert named on b after ${hit.ms} ms`);
      // (a takes them for its own adverts looped back: whatever it makes of them, not auth-mismatch.)
      await onlyNamed(p, ['vrid-conflict']);
      for (const box of [p.a, p.b]) expect(box.log().slice(marks[box.id === 'a' ? 0 : 1])).not.toMatch(/diagnosis: auth-mismatch/);
    } finally {
      await forger.kill();
    }
    await healthyAgain(p);
  }, patience(120_000));
});
