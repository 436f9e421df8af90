// A crashed daemon leaves its VIPs configured (as keepalived does after SIGKILL), so its box keeps
// answering ARP for addresses the twin has taken over. `twinvip cleanup` — what the unit's
// ExecStopPost= runs after any exit (rootfs twinvip.service) — removes them: measured here by
// who answers an ARP request for the VIP on the LAN (arping from the client), before and after.
// It refuses while a daemon answers, and a configuration it cannot read removes nothing.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { BUNDLE, NODE, PairLab, pairLabHooks, VIP } from './pair-lab';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

let p: PairLab;

/** The MAC addresses that answer an ARP request for the VIP from the client. */
async function arpAnswers(): Promise<Set<string>> {
  const r = await p.c.tryRun('arping', ['-c', '3', '-w', '3', '-I', 'lc', VIP]);
  return new Set([...r.stdout.matchAll(/from \S+ \[([0-9a-f:]+)\]/gi)].map((m) => m[1]!.toLowerCase()));
}

const cleanup = (args: string[]) => p.a.ns.tryRun(NODE, [BUNDLE, 'cleanup', ...args]);

pairLabHooks(() => PairLab.startPair(), (lab) => (p = lab));

describeRequiring([...NetnsLab.prerequisites, needsProgram('arping', 'iputils-arping')], 'crash clean-up: twinvip cleanup (ExecStopPost=)', () => {
  it('refuses while the daemon answers (exit 4, the VIP stays); an unreadable configuration removes nothing (exit 1)', async () => {
    await p.masterIs(p.a, p.b);
    const r = await cleanup(['-c', p.a.config]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/a daemon answers on .*ctl-a\.sock .*nothing removed/);
    expect(await p.hasVip(p.a)).toBe(true);
    const bad = join(p.dir, 'broken.json');
    await writeFile(bad, '{"instances": ');
    const b = await cleanup(['-c', bad, '--force']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/configuration not usable, no VIP removed/);
    expect(await p.hasVip(p.a)).toBe(true);
  }, patience(90_000));

  it('after SIGKILL the dead box keeps answering ARP for the VIP the twin took over; cleanup removes it and only the twin answers', async () => {
    await p.masterIs(p.a, p.b);
    const macA = await p.mac(p.a);
    const macB = await p.mac(p.b);
    p.a.proc!.child.kill('SIGKILL');
    await p.a.proc!.exited;
    await p.waitFor(async () => (await p.state(p.b)) === 'MASTER' && (await p.hasVip(p.b)), () => `b takes over${p.logs()}`);
    // The problem: both boxes have the address, both answer.
    expect(await p.hasVip(p.a)).toBe(true);
    await p.waitFor(async () => (await arpAnswers()).has(macA), 'the crashed box answers ARP for the VIP');
    const r = await cleanup(['-c', p.a.config]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`removed VIP ${VIP.replace(/\./g, '\\.')}/24 from la`));
    expect(await p.hasVip(p.a)).toBe(false);
    expect(await p.hasVip(p.b)).toBe(true);
    expect([...(await arpAnswers())]).toEqual([macB]);
    // Run again (a clean exit has removed them already): nothing to do, exit 0.
    const again = await cleanup(['-c', p.a.config]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/no configured VIP present on this box/);
    p.start(p.a);
    await p.masterIs(p.a, p.b);
  }, patience(120_000));
});
