// Issue 23: the twin's daemon dies without cleaning up (SIGKILL), so its box still holds the VIP
// and answers ARP for it: a real address conflict on the LAN until the daemon starts again and
// removes the address. The surviving box takes over and names it; the MAC that answers is the
// twin's, remembered from its last evidence over serial (the serial link is silent now), so the
// finding says so instead of "a MAC which is neither box of the pair". Same lab as
// diagnose-pair.test.ts: two daemons from the bundle, a bridged LAN, a socat serial cable.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { PairLab, VIP } from '../heartbeat-pair/pair-lab';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';
import { diagnosis, healthyAgain, named } from './diag-helpers';

let p: PairLab;

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  p = await PairLab.create();
  await p.startSerial();
  await p.writeConfig(p.a, {}, { device: 'link' });
  await p.writeConfig(p.b, {}, { device: 'link' });
  p.start(p.a);
  p.start(p.b);
  await p.masterIs(p.a, p.b);
  await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, 'serial up on both');
  // b has had the twin's evidence (and so its MAC) over serial.
  await p.waitFor(async () => (await diagnosis(p.b)).twin === 'box-a', 'b diagnosed with box-a evidence');
}, patience(90_000));

afterAll(async () => {
  await p?.cleanup();
}, patience(60_000));

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('arping', 'iputils-arping')], "split-brain diagnosis: the twin's daemon crashed", () => {
  it("a's daemon killed: b takes over and names the VIP still on a's box as held by twin box-a (not a stranger); a started again removes it and b is silent", async () => {
    const aMac = await p.mac(p.a);
    const mark = p.b.log().length;
    const at = Date.now();
    const proc = p.a.proc!;
    proc.child.kill('SIGKILL');
    await proc.exited;
    expect(await p.hasVip(p.a), "the VIP is left on a's interface").toBe(true);
    const hit = await named(p, p.b, mark, 'address-conflict', 'box-b', at);
    console.log(`address conflict with the crashed twin's VIP named on b after ${hit.ms} ms`);
    expect(hit.line).toContain(`${VIP} (VIP of VI_1) is answered on ${p.b.ifname} here by MAC ${aMac}, twin box-a's, whose daemon does not answer`);
    expect(hit.line).toContain('fix: start twinvip on box-a again');
    expect(hit.line).not.toContain('neither box');
    const d = await diagnosis(p.b);
    expect(d.twin).toBeNull();
    expect(d.findings.map((f) => f.cause)).toEqual(['address-conflict']);
    // a's daemon again: it removes the address it left behind at start; b's finding clears.
    const again = p.b.log().length;
    p.start(p.a);
    await p.waitFor(() => /diagnosis: address-conflict \(box-b\) no longer seen/.test(p.b.log().slice(again)), () => `b's conflict cleared${p.logs()}`, 60_000);
    await healthyAgain(p);
  }, patience(180_000));
});
