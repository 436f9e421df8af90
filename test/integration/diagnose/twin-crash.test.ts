// Issue 23: the twin's daemon dies without cleaning up (SIGKILL), so its box still holds the VIP
// and answers ARP for it: a real address conflict on the LAN until the daemon starts again and
// removes the address. The surviving box takes over and names it; the MAC that answers is the
// twin's, remembered from its last evidence over serial (the serial link is silent now), so the
// finding says so instead of "a MAC which is neither box of the pair". The killed daemon's
// `nft monitor ruleset` child dies with it (PR_SET_PDEATHSIG), not left running. Same lab as
// diagnose-pair.test.ts: two daemons from the bundle, a bridged LAN, a socat serial cable.
import { readdir, readFile } from 'node:fs/promises';
import { beforeAll, expect, it } from 'vitest';
import { statField, statNumber } from '../../../src/lib/proc-stat';
import { NetnsLab } from '../helpers/netns';
import { PairLab, VIP, pairLabHooks } from '../heartbeat-pair/pair-lab';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';
import { diagnosis, healthyAgain, named } from './diag-helpers';

let p: PairLab;

pairLabHooks(() => PairLab.startPair(), (lab) => (p = lab));

/** A process alive (not gone, not a zombie waiting for its reaper). */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && statField(stat, 3) !== 'Z';
}

/** The PIDs of `parent`'s children named `comm` whose command line matches `args`. */
async function childrenRunning(parent: number, comm: string, args: RegExp): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    if (!stat || statNumber(stat, 4) !== parent || statField(stat, 2) !== comm) continue;
    const cmdline = (await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ');
    if (args.test(cmdline) && (await running(Number(e)))) out.push(Number(e));
  }
  return out;
}

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  await p.masterIs(p.a, p.b);
  await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, 'serial up on both');
  // b has had the twin's evidence (and so its MAC) over serial.
  await p.waitFor(async () => (await diagnosis(p.b)).twin === 'box-a', 'b diagnosed with box-a evidence');
}, patience(90_000));

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('arping', 'iputils-arping'), needsProgram('nft')], "split-brain diagnosis: the twin's daemon crashed", () => {
  it("a's daemon killed: b takes over and names the VIP still on a's box as held by twin box-a (not a stranger); a started again removes it and b is silent", async () => {
    const aMac = await p.mac(p.a);
    const mark = p.b.log().length;
    const at = Date.now();
    const proc = p.a.proc!;
    // The diagnosis's `nft monitor ruleset` child of a's daemon (`ip netns exec` execs the daemon: same PID).
    const monitors = await childrenRunning(proc.pid!, 'nft', /\bmonitor\b/);
    expect(monitors, "a's daemon runs one nft monitor").toHaveLength(1);
    proc.child.kill('SIGKILL');
    await proc.exited;
    // It dies with the daemon (PR_SET_PDEATHSIG through setpriv), not at its next output.
    await p.waitFor(async () => !(await running(monitors[0]!)), `a's nft monitor (pid ${monitors[0]}) gone with its daemon`, 10_000);
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
