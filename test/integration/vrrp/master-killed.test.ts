// The master dies without a word (SIGKILL: no priority-0 advert, VIPs left configured), in both
// directions between twinvip and keepalived 2.2.7: the backup takes over once its
// Master_Down_Interval (3 x 0.5 s + skew: VRRPv3 at 0.5 s here; keepalived's defaults are checked in
// keepalived-interop.test.ts) has passed. A twinvip restarted after SIGKILL removes the
// VIPs it left behind (an IPv4 VIP and an excluded IPv6 one) before any election, as keepalived
// users expect of a clean start.
import { expect, it } from 'vitest';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP = '10.66.0.100';
const VIP6 = 'fd66::100';
const tv = (priority: number) => ({ VI_1: { vrid: 61, version: 3, advert_int: 0.5, priority, vips: [`${VIP}/24`], excluded_vips: [`${VIP6}/64`] } });
const ka = (priority: number, state: 'MASTER' | 'BACKUP') =>
  kaInstance({ vrid: 61, version: 3, advertInt: 0.5, priority, state, vips: [`${VIP}/24`], excludedVips: [`${VIP6}/64`] });

const lab = useVrrpLab(['a', 'b']);

describeRequiring(VrrpLab.prerequisites, 'the master is killed (SIGKILL)', () => {
  it('twinvip MASTER killed: keepalived takes over after Master_Down; twinvip restarted removes its stale VIP and stays BACKUP', async () => {
    const t = await lab().twinvip('a', tv(150));
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    const k = await lab().keepalived('b', ka(100, 'BACKUP'));
    await k.waitLog(/Entering BACKUP STATE/);
    await lab().waitHolders(VIP, ['a']);

    await t.sigkill();
    // No priority 0 was sent: keepalived waits out its Master_Down_Interval.
    await k.waitLog(/Entering MASTER STATE/, 15_000);
    expect(k.out()).not.toMatch(/priority 0/i);
    // The killed twinvip left its VIP behind: both boxes carry it until something cleans up.
    await lab().waitHolders(VIP, ['a', 'b'], 10_000, '(stale VIP on the killed box)');
    await lab().waitHolders(VIP6, ['a', 'b'], 10_000, '(stale excluded VIP on the killed box)');

    // Restarted at a lower priority so it must stay BACKUP: the stale VIP goes at start-up,
    // before any election, and never comes back.
    const t2 = await lab().twinvip('a', tv(50));
    await t2.waitLog(/removed stale VIP 10\.66\.0\.100\/24 from lan/, 20_000);
    await t2.waitLog(/removed stale VIP fd66::100\/64 from lan/);
    await t2.waitLog(/VI_1: INIT -> BACKUP/);
    await lab().waitHolders(VIP, ['b']);
    await lab().waitHolders(VIP6, ['b']);
    await lab().waitFor(async () => (await t2.status())?.instances[0]?.master?.address === '10.66.0.2', { timeoutMs: 10_000, what: 'twinvip hears keepalived as master' });
    expect(await lab().holders(VIP)).toEqual(['b']);
    expect(t2.out()).not.toMatch(/-> MASTER/);

    await t2.stop();
    await k.stop();
  });

  it('keepalived MASTER killed: twinvip takes over after Master_Down (not on a priority-0 advert)', async () => {
    await lab().scrub(VIP, 24);
    const k = await lab().keepalived('b', ka(200, 'MASTER'));
    await k.waitLog(/Entering MASTER STATE/);
    await lab().waitHolders(VIP, ['b']);
    const t = await lab().twinvip('a', tv(150));
    await t.waitLog(/VI_1: INIT -> BACKUP/, 20_000);
    await lab().waitFor(async () => (await t.counter('VI_1.advertsReceived')) >= 2, { timeoutMs: 10_000, what: 'twinvip hears keepalived' });

    await k.sigkill();
    await t.waitLog(/VI_1: BACKUP -> MASTER \(master down/, 15_000);
    expect(t.out()).not.toMatch(/priority 0 from master/);
    // keepalived's VIP stays on its dead box (keepalived does not clean up after SIGKILL).
    await lab().waitHolders(VIP, ['a', 'b'], 10_000, '(twinvip added the VIP; the dead keepalived left its own)');
    await lab().waitHolders(VIP6, ['a', 'b'], 10_000, '(the excluded VIP too)');
    expect(await t.state()).toBe('MASTER');

    await t.stop();
    await lab().waitHolders(VIP, ['b'], 10_000, '(twinvip removed its VIP on exit)');
    await lab().scrub(VIP, 24);
  });
});
