// Two misconfigurations users meet with keepalived, and what happens on the wire with
// keepalived 2.2.7 as the peer:
// - VRRPv2 advert interval mismatch: RFC 3768 7.1 says discard; keepalived does so and both
//   routers become MASTER. twinvip drops too, counts (VI_1.drop.interval-mismatch) and raises an
//   alarm, once.
// - VIP list mismatch: keepalived 2.2.7 drops adverts whose address list differs from its own,
//   so it becomes MASTER under a live twinvip master. twinvip accepts the adverts with a warning
//   (as RFC 3768 7.1 allows: "MAY" log), hears a lower-priority master, re-announces and raises
//   the dual-master alarm; both stay MASTER and share the common VIP.
import { expect, it } from 'vitest';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP = '10.66.0.100';
const VIP2 = '10.66.0.101';

const lab = useVrrpLab(['a', 'b']);

describeRequiring(VrrpLab.prerequisites, 'misconfigured peers (keepalived)', () => {
  it('v2 advert interval mismatch (keepalived 2 s, twinvip 1 s): dropped and counted, one alarm, both MASTER', async () => {
    // Both start together: twinvip (Master_Down 3.6 s) becomes MASTER first, keepalived
    // (7.2 s) drops our adverts and follows.
    const k = await lab().keepalived('b', kaInstance({ vrid: 75, priority: 100, advertInt: 2, vips: [`${VIP}/24`] }));
    const t = await lab().twinvip('a', { VI_1: { vrid: 75, priority: 150, advert_int: 1, vips: [`${VIP}/24`] } });
    await t.waitLog(/VI_1: BACKUP -> MASTER \(master down/, 20_000);
    await k.waitLog(/advertisement interval mismatch mine=2 sec rcv'd=1 sec/, 15_000);
    await k.waitLog(/Entering MASTER STATE/, 15_000);
    await t.waitLog(/VI_1: dropping adverts from 10\.66\.0\.2: advert interval 2 s, ours is 1 s \(both routers may become MASTER\)/, 15_000);
    expect(await t.counter('VI_1.drop.interval-mismatch')).toBeGreaterThan(0);
    await lab().waitHolders(VIP, ['a', 'b']);
    expect(await t.counter('VI_1.advertsReceived')).toBe(0);
    expect(k.out()).not.toMatch(/Entering BACKUP STATE(?! \(init\))/);
    expect(t.out().match(/dropping adverts from 10\.66\.0\.2/g)?.length).toBe(1);
    await t.stop();
    await k.stop();
    await lab().waitHolders(VIP, []);
  });

  it('VIP list mismatch: keepalived ignores twinvip and becomes MASTER too; twinvip warns, re-announces and raises dual-master', async () => {
    const t = await lab().twinvip('a', { VI_1: { vrid: 76, priority: 150, vips: [`${VIP}/24`] } });
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    const k = await lab().keepalived('b', kaInstance({ vrid: 76, priority: 100, vips: [`${VIP}/24`, `${VIP2}/24`] }));
    await k.waitLog(/Entering MASTER STATE/, 15_000);
    await lab().waitHolders(VIP, ['a', 'b']);
    await lab().waitHolders(VIP2, ['b']);
    await t.waitLog(/VI_1: advert from 10\.66\.0\.2: address list differs from ours: unexpected 10\.66\.0\.101/);
    await t.waitLog(/VI_1: alarm dual-master: lower priority master 10\.66\.0\.2 \(100\) heard, ours 150; re-announcing/);
    expect(await t.counter('VI_1.drop.address-list')).toBeGreaterThan(0);
    expect(await t.state()).toBe('MASTER');
    expect(k.out()).toMatch(/received an unexpected ip number count 1, expected 2!/);
    await t.stop();
    await k.stop();
    await lab().waitHolders(VIP, []);
    await lab().waitHolders(VIP2, []);
  });
});
