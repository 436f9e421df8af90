// Unicast VRRP with keepalived 2.2.7 (unicast_src_ip / unicast_peer): adverts go to the peer's
// address instead of 224.0.0.18. Election, priority-0 handover and preemption back, checked by
// who holds the VIP; a capture on the switch proves not one advert went to the multicast group
// and both directions carried adverts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kaInstance, VrrpLab } from './lab';

const VIP = '10.66.0.100';

let lab: VrrpLab;

beforeAll(async () => {
  lab = await VrrpLab.create(['a', 'b']);
});
afterEach(async () => {
  await lab?.stopAll();
});
afterAll(async () => {
  await lab?.cleanup();
});

describe.skipIf(!VrrpLab.available())('unicast VRRP with keepalived', () => {
  it('election, priority-0 handover to keepalived and preemption back, all by unicast', async () => {
    const cap = await lab.capture('ip proto 112');
    const tv = { VI_1: { vrid: 66, priority: 150, vips: [`${VIP}/24`], unicast_src_ip: '10.66.0.1', unicast_peers: ['10.66.0.2'] } };
    const ka = kaInstance({ vrid: 66, priority: 100, vips: [`${VIP}/24`], unicastSrc: '10.66.0.2', unicastPeers: ['10.66.0.1'] });

    const t = await lab.twinvip('a', tv);
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    const k = await lab.keepalived('b', ka);
    await k.waitLog(/Entering BACKUP STATE \(init\)/);
    const sent = await t.counter('VI_1.advertsSent');
    await lab.waitFor(async () => (await t.counter('VI_1.advertsSent')) >= sent + 5, { timeoutMs: 20_000, what: 'five more adverts' });
    expect(k.out()).not.toMatch(/Entering MASTER STATE/);
    expect(await lab.holders(VIP)).toEqual(['a']);

    expect(await t.stop()).toBe(0);
    await k.waitLog(/Entering MASTER STATE/, 10_000);
    expect(k.out()).toMatch(/priority 0/i);
    await lab.waitHolders(VIP, ['b']);

    const t2 = await lab.twinvip('a', tv);
    await t2.waitLog(/VI_1: BACKUP -> MASTER \(preempt, lower priority master 10\.66\.0\.2 \(100\)/, 20_000);
    await k.waitLog(/Entering BACKUP STATE(?! \(init\))/);
    await lab.waitHolders(VIP, ['a']);
    expect(await t2.counter('VI_1.advertsReceived')).toBeGreaterThan(0);

    await k.stop();
    await t2.stop();
    const lines = await lab.readCapture(await cap.stop());
    expect(lines.filter((l) => /10\.66\.0\.1 > 10\.66\.0\.2: VRRPv2, Advertisement, vrid 66/.test(l)).length).toBeGreaterThanOrEqual(5);
    expect(lines.filter((l) => /10\.66\.0\.2 > 10\.66\.0\.1: VRRPv2, Advertisement, vrid 66/.test(l)).length).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => /224\.0\.0\.18/.test(l))).toEqual([]);
  });
});
