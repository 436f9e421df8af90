// Two misconfigurations users meet with keepalived, and what happens on the wire with
// keepalived 2.2.7 as the peer:
// - VRRPv2 advert interval mismatch: RFC 3768 7.1 says discard; keepalived does so and both
//   routers become MASTER. twinvip drops too, counts (VI_1.drop.interval-mismatch) and raises an
//   alarm, once.
// - VIP list mismatch: keepalived 2.2.7 drops adverts whose address list differs from its own,
//   and so does twinvip by default (address_list_mismatch "drop"): each ignores the other and
//   both are MASTER, each holding its own list. twinvip counts (VI_1.drop.address-list) and logs
//   the source and both lists, rate-limited. With "accept" (the lenient option) twinvip acts on
//   the adverts instead, hears a lower-priority master and raises dual-master.
import { expect, it } from 'vitest';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP = '10.66.0.100';
const VIP2 = '10.66.0.101';
// The address-list cases are the same rule in VRRPv3; at 0.5 s each Master_Down waited for is half
// as long. The interval mismatch is a VRRPv2 case (whole seconds) and keeps them.
const V3 = { version: 3, advert_int: 0.5 } as const;
const KA_V3 = { version: 3, advertInt: 0.5 } as const;

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
    await t.waitLog(/VI_1: dropping advert from 10\.66\.0\.2 \(priority 100\): advert interval 2 s, ours is 1 s \(both routers may become MASTER\)/, 15_000);
    expect(await t.counter('VI_1.drop.interval-mismatch')).toBeGreaterThan(0);
    await lab().waitHolders(VIP, ['a', 'b']);
    expect(await t.counter('VI_1.advertsReceived')).toBe(0);
    expect(k.out()).not.toMatch(/Entering BACKUP STATE(?! \(init\))/);
    expect(t.out().match(/dropping advert from 10\.66\.0\.2/g)?.length).toBe(1);
    await t.stop();
    await k.stop();
    await lab().waitHolders(VIP, []);
  });

  it('VIP list mismatch: keepalived and twinvip both drop the other (keepalived\'s rule, twinvip\'s default) and both are MASTER', async () => {
    // keepalived first: as MASTER it restarts its own advert timer on every advert it reads and
    // drops (the quirk auth-mismatch.test.ts describes), so once twinvip is MASTER too it sends
    // few or none and a count of its adverts waited up to a minute. twinvip counts them while it
    // is still BACKUP, before its Master_Down_Interval runs out under keepalived's dropped adverts.
    const k = await lab().keepalived('b', kaInstance({ vrid: 76, ...KA_V3, priority: 100, vips: [`${VIP}/24`, `${VIP2}/24`] }));
    await k.waitLog(/Entering MASTER STATE/, 15_000);
    await lab().waitHolders(VIP2, ['b']);
    const t = await lab().twinvip('a', { VI_1: { vrid: 76, ...V3, priority: 150, vips: [`${VIP}/24`] } });
    await t.waitLog(
      /VI_1: dropping advert from 10\.66\.0\.2 \(priority 100\): address list \[10\.66\.0\.100, 10\.66\.0\.101\] differs from ours \[10\.66\.0\.100\]: unexpected 10\.66\.0\.101/,
      20_000,
    );
    await lab().waitFor(async () => (await t.counter('VI_1.drop.address-list')) >= 2, { timeoutMs: 15_000, what: 'VI_1.drop.address-list >= 2' });
    await t.waitLog(/VI_1: BACKUP -> MASTER \(master down/, 15_000);
    await lab().waitHolders(VIP, ['a', 'b']);
    await lab().waitHolders(VIP2, ['b']);
    await k.waitLog(/received an unexpected ip number count 1, expected 2!/);
    expect(await t.state()).toBe('MASTER');
    expect(await t.counter('VI_1.advertsReceived')).toBe(0);
    expect(t.out()).not.toMatch(/alarm dual-master/);
    expect(k.out()).not.toMatch(/Entering BACKUP STATE(?! \(init\))/);
    // Rate-limited: one line for this source however many adverts arrived.
    expect(t.out().match(/VI_1: dropping advert from 10\.66\.0\.2/g)?.length).toBe(1);
    await t.stop();
    await k.stop();
    await lab().waitHolders(VIP, []);
    await lab().waitHolders(VIP2, []);
  });

  it('VIP list mismatch with address_list_mismatch "accept": twinvip acts on keepalived\'s adverts, counts a warning, re-announces and raises dual-master', async () => {
    const t = await lab().twinvip('a', { VI_1: { vrid: 78, ...V3, priority: 150, vips: [`${VIP}/24`], address_list_mismatch: 'accept' } });
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    const k = await lab().keepalived('b', kaInstance({ vrid: 78, ...KA_V3, priority: 100, vips: [`${VIP}/24`, `${VIP2}/24`] }));
    await k.waitLog(/Entering MASTER STATE/, 15_000);
    await t.waitLog(/VI_1: accepted advert from 10\.66\.0\.2 \(priority 100\) with a warning: address list .* unexpected 10\.66\.0\.101/);
    await t.waitLog(/VI_1: alarm dual-master: lower priority master 10\.66\.0\.2 \(100\) heard \d+ ms after our first advert as MASTER, ours 150; re-announcing/);
    expect(await t.counter('VI_1.warning.address-list')).toBeGreaterThan(0);
    expect(await t.counter('VI_1.drop.address-list')).toBe(0);
    expect(await t.state()).toBe('MASTER');
    await t.stop();
    await k.stop();
    await lab().waitHolders(VIP, []);
    await lab().waitHolders(VIP2, []);
  });
});
