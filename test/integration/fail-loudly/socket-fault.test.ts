// Fail loudly while running (#18): the MASTER's VRRP socket starts failing (an nftables rule in
// its namespace drops VRRP output, so every sendmsg returns EPERM, as a firewall change on the
// box would). After three failed adverts the instance goes to FAULT (VIPs released, release over
// the serial heartbeat), the daemon is degraded with the reason (status, STATUS= via statusLine,
// console) and raises the critical alarm; the twin takes over. With the rule gone the socket is
// reopened, the alarm clears and the box is healthy again.
import { expect, it } from 'vitest';
import { requestOnce } from '../../../src/control';
import { NetnsLab } from '../helpers/netns';
import { PairLab, pairLabHooks } from '../heartbeat-pair/pair-lab';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';
import { buildBundle } from '../../helpers/bundle';

let p: PairLab;

interface Status {
  health: { state: string; reasons: string[] };
  features: Record<string, { state: string; detail?: string }>;
  alarms?: { id: string; severity: string; message: string }[];
  instances: { state: string }[];
}

async function status(box: PairLab['a']): Promise<Status | null> {
  const r = await requestOnce(box.socket, 'status', undefined, { timeoutMs: 3000 });
  return r.ok && r.response.status === 'ok' ? (r.response.data as Status) : null;
}


pairLabHooks(() => {
  buildBundle();
  return PairLab.startPair();
}, (lab) => (p = lab));

describeRequiring([...NetnsLab.prerequisites, needsProgram('nft', 'nftables')], 'a VRRP socket that fails while running', () => {
  it('MASTER whose adverts cannot be sent (sendmsg EPERM): FAULT, VIP released, critical alarm, degraded; the twin takes over; healthy again once it can send', async () => {
    await p.masterIs(p.a, p.b);
    expect((await status(p.a))!.health).toEqual({ state: 'ok', reasons: [] });

    await p.a.ns.run('nft', ['add', 'table', 'inet', 'tvfault']);
    await p.a.ns.run('nft', ['add', 'chain', 'inet', 'tvfault', 'out', '{ type filter hook output priority 0; }']);
    await p.a.ns.run('nft', ['add', 'rule', 'inet', 'tvfault', 'out', 'meta', 'l4proto', '112', 'drop']);

    // b takes over on a's release over the serial link (sent as a leaves MASTER for FAULT).
    await p.waitFor(async () => (await p.state(p.a)) === 'FAULT', () => `a in FAULT${p.logs()}`, 30_000);
    await p.waitFor(async () => (await p.state(p.b)) === 'MASTER' && (await p.hasVip(p.b)), () => `b MASTER with the VIP${p.logs()}`, 30_000);
    expect(await p.hasVip(p.a)).toBe(false);

    const s = (await status(p.a))!;
    expect(s.health.state).toBe('degraded');
    expect(s.health.reasons).toEqual([
      expect.stringMatching(/^la: VRRP socket \(IPv4\) failed 3 times in a row: sendmsg EPERM \(Operation not permitted\); VI_1 in FAULT, VIPs released; reopening in 5 s$/),
    ]);
    expect(s.features.vrrp).toMatchObject({ state: 'degraded' });
    expect(s.alarms).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'vrrp-socket-failed:la/4', severity: 'critical' })]));
    const log = p.a.log();
    expect(log).toMatch(/error daemon: degraded: la: VRRP socket \(IPv4\) failed 3 times in a row: sendmsg EPERM/);
    expect(log).toMatch(/VI_1: MASTER -> FAULT \(fault, socket:la\/4 down\)/);
    // The twin heard it over the serial link, not only by the silence. Both wordings are that
    // release: 'twin released' (MASTER at once) when b's arbiter counts a as the only other
    // router of the VRID at that moment, else 'peer released' (after Skew_Time); CI runs have
    // shown each (src/heartbeat/arbiter.ts soleTwin()).
    expect(p.b.log()).toMatch(/BACKUP -> MASTER \((twin|peer) released, over the serial channel/);

    // The rule gone: the next reopen works, the alarm clears, a leaves FAULT (and preempts back).
    await p.a.ns.run('nft', ['delete', 'table', 'inet', 'tvfault']);
    await p.waitFor(async () => (await status(p.a))?.health.state === 'ok', () => `a healthy again${p.logs()}`, 30_000);
    const after = (await status(p.a))!;
    expect(after.alarms?.some((a) => a.id.startsWith('vrrp-socket-failed'))).toBe(false);
    await p.waitFor(async () => (await p.state(p.a)) === 'MASTER', () => `a MASTER again (preempt)${p.logs()}`, 30_000);
    expect(p.a.log()).toMatch(/info {2}daemon: fault cleared: la: VRRP socket \(IPv4\) reopened; its instances leave FAULT/);
  }, patience(120_000));
});
