// Unicast VRRP with keepalived 2.2.7 (unicast_src_ip / unicast_peer): adverts go to the peer's
// address instead of 224.0.0.18 / ff02::12. Election, priority-0 handover and preemption back,
// checked by who holds the VIP; a capture on the switch proves not one advert went to the
// multicast group and both directions carried adverts. VRRPv2 over IPv4, and VRRPv3 over IPv6
// between global addresses (0.5 s adverts).
import { expect, it } from 'vitest';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP = '10.66.0.100';

const lab = useVrrpLab(['a', 'b']);

describeRequiring(VrrpLab.prerequisites, 'unicast VRRP with keepalived', () => {
  it('VRRPv2 over IPv4: election, priority-0 handover to keepalived and preemption back, all by unicast', async () => {
    const cap = await lab().capture('ip proto 112');
    const tv = { VI_1: { vrid: 66, priority: 150, vips: [`${VIP}/24`], unicast_src_ip: '10.66.0.1', unicast_peers: ['10.66.0.2'] } };
    const ka = kaInstance({ vrid: 66, priority: 100, vips: [`${VIP}/24`], unicastSrc: '10.66.0.2', unicastPeers: ['10.66.0.1'] });

    const t = await lab().twinvip('a', tv);
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    const k = await lab().keepalived('b', ka);
    await k.waitLog(/Entering BACKUP STATE \(init\)/);
    const sent = await t.counter('VI_1.advertsSent');
    await lab().waitFor(async () => (await t.counter('VI_1.advertsSent')) >= sent + 5, { timeoutMs: 20_000, what: 'five more adverts' });
    expect(k.out()).not.toMatch(/Entering MASTER STATE/);
    expect(await lab().holders(VIP)).toEqual(['a']);

    expect(await t.stop()).toBe(0);
    await k.waitLog(/Entering MASTER STATE/, 10_000);
    expect(k.out()).toMatch(/priority 0/i);
    await lab().waitHolders(VIP, ['b']);

    const t2 = await lab().twinvip('a', tv);
    await t2.waitLog(/VI_1: BACKUP -> MASTER \(preempt, lower priority master 10\.66\.0\.2 \(100\)/, 20_000);
    await k.waitLog(/Entering BACKUP STATE(?! \(init\))/);
    await lab().waitHolders(VIP, ['a']);
    expect(await t2.counter('VI_1.advertsReceived')).toBeGreaterThan(0);

    await k.stop();
    await t2.stop();
    const lines = await lab().readCapture(await cap.stop());
    expect(lines.filter((l) => /10\.66\.0\.1 > 10\.66\.0\.2: VRRPv2, Advertisement, vrid 66/.test(l)).length).toBeGreaterThanOrEqual(5);
    expect(lines.filter((l) => /10\.66\.0\.2 > 10\.66\.0\.1: VRRPv2, Advertisement, vrid 66/.test(l)).length).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => /224\.0\.0\.18/.test(l))).toEqual([]);
  });
  it('VRRPv3 over IPv6 between fd66::1 and fd66::2: election, priority-0 handover, preemption back', async () => {
    const VIP6 = 'fd66::100';
    const cap = await lab().capture('ip6 proto 112');
    const tv = { VI_1: { vrid: 67, version: 3, advert_int: 0.5, priority: 150, vips: [`${VIP6}/64`], unicast_src_ip: 'fd66::1', unicast_peers: ['fd66::2'] } };
    const ka = kaInstance({ vrid: 67, version: 3, advertInt: 0.5, ipv6: true, priority: 100, vips: [`${VIP6}/64`], unicastSrc: 'fd66::2', unicastPeers: ['fd66::1'] });

    const t = await lab().twinvip('a', tv);
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    const k = await lab().keepalived('b', ka);
    await k.waitLog(/Entering BACKUP STATE \(init\)/);
    const sent = await t.counter('VI_1.advertsSent');
    await lab().waitFor(async () => (await t.counter('VI_1.advertsSent')) >= sent + 6, { timeoutMs: 20_000, what: 'six more adverts' });
    expect(k.out()).not.toMatch(/Entering MASTER STATE/);
    expect(await lab().holders(VIP6)).toEqual(['a']);

    expect(await t.stop()).toBe(0);
    await k.waitLog(/Entering MASTER STATE/, 10_000);
    await lab().waitHolders(VIP6, ['b']);

    const t2 = await lab().twinvip('a', tv);
    await t2.waitLog(/VI_1: BACKUP -> MASTER \(preempt, lower priority master fd66::2 \(100\)/, 20_000);
    await k.waitLog(/Entering BACKUP STATE(?! \(init\))/);
    await lab().waitHolders(VIP6, ['a']);

    await k.stop();
    await t2.stop();
    const lines = await lab().readCapture(await cap.stop());
    expect(lines.filter((l) => /fd66::1 > fd66::2: ip-proto-112/.test(l) || /fd66::1 > fd66::2: VRRP/.test(l)).length).toBeGreaterThanOrEqual(6);
    expect(lines.filter((l) => /fd66::2 > fd66::1/.test(l)).length).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => /ff02::12/.test(l))).toEqual([]);
  });
});
