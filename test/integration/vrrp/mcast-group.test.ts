// Instances on one interface with different multicast groups (keepalived mcast_dst_ip,
// twinvip mcast_group): twinvip must join every group its instances use, or the adverts sent
// to the second group never reach it (the kernel delivers multicast only for joined groups) and
// that instance becomes MASTER under a live master.
// (VRRPv3 with 0.5 s adverts keeps the waits short; VRRPv2 is covered by the other files.)
import { expect, it } from 'vitest';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP1 = '10.66.0.91';
const VIP2 = '10.66.0.92';

const lab = useVrrpLab(['a', 'b']);

describeRequiring(VrrpLab.prerequisites, 'several multicast groups on one interface', () => {
  it('twinvip (150) hears keepalived (200) on 224.0.0.18 and on 224.0.0.19 and stays BACKUP on both', async () => {
    const k = await lab().keepalived(
      'b',
      kaInstance({ name: 'VI_1', vrid: 91, version: 3, advertInt: 0.5, priority: 200, state: 'MASTER', vips: [`${VIP1}/24`] }),
      kaInstance({ name: 'VI_2', vrid: 92, version: 3, advertInt: 0.5, priority: 200, state: 'MASTER', vips: [`${VIP2}/24`], mcastGroup: '224.0.0.19' }),
    );
    await lab().waitHolders(VIP1, ['b'], 15_000);
    await lab().waitHolders(VIP2, ['b'], 15_000);
    const t = await lab().twinvip('a', {
      VI_1: { vrid: 91, version: 3, advert_int: 0.5, priority: 150, vips: [`${VIP1}/24`] },
      VI_2: { vrid: 92, version: 3, advert_int: 0.5, priority: 150, vips: [`${VIP2}/24`], mcast_group: '224.0.0.19' },
    });
    await t.waitLog(/VI_2: INIT -> BACKUP/, 20_000);
    // Well past Master_Down_Interval: six adverts heard by each instance.
    await lab().waitFor(async () => (await t.counter('VI_1.advertsReceived')) >= 6, { timeoutMs: 15_000, what: 'VI_1 hears keepalived' });
    expect(await t.counter('VI_2.advertsReceived')).toBeGreaterThanOrEqual(4);
    expect(await t.state('VI_2')).toBe('BACKUP');
    expect(await lab().holders(VIP2)).toEqual(['b']);
    expect(t.out()).not.toMatch(/-> MASTER/);
    expect(k.out()).not.toMatch(/Entering BACKUP STATE(?! \(init\))/);
  });
});
