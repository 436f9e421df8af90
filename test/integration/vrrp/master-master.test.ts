// Master/master with keepalived 2.2.7: two VRIDs on one interface, each router the preferred
// master of one (twinvip 150/100 on VRIDs 51/52, keepalived the opposite). Each box holds one
// VIP; when keepalived stops, twinvip holds both; when it comes back it takes its VIP back.
// (VRRPv3 with 0.5 s adverts keeps the waits short; VRRPv2 is covered by the other files.)
import { expect, it } from 'vitest';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP1 = '10.66.0.151';
const VIP2 = '10.66.0.152';

const lab = useVrrpLab(['a', 'b']);

describeRequiring(VrrpLab.prerequisites, 'master/master with keepalived (two VRIDs)', () => {
  it('each holds its VIP; one stops, the other holds both; it returns and takes its VIP back', async () => {
    const ka = [
      kaInstance({ name: 'VI_1', vrid: 51, version: 3, advertInt: 0.5, priority: 100, vips: [`${VIP1}/24`] }),
      kaInstance({ name: 'VI_2', vrid: 52, version: 3, advertInt: 0.5, priority: 150, vips: [`${VIP2}/24`] }),
    ];
    const k = await lab().keepalived('b', ...ka);
    const t = await lab().twinvip('a', {
      VI_1: { vrid: 51, version: 3, advert_int: 0.5, priority: 150, vips: [`${VIP1}/24`] },
      VI_2: { vrid: 52, version: 3, advert_int: 0.5, priority: 100, vips: [`${VIP2}/24`] },
    });
    await lab().waitHolders(VIP1, ['a'], 20_000);
    await lab().waitHolders(VIP2, ['b'], 20_000);
    await lab().waitFor(async () => (await t.state('VI_1')) === 'MASTER' && (await t.state('VI_2')) === 'BACKUP', { timeoutMs: 10_000, what: 'VI_1 MASTER, VI_2 BACKUP' });
    const s = await t.status();
    expect(s?.instances.find((i) => i.name === 'VI_2')?.master).toEqual({ address: '10.66.0.2', priority: 150 });

    await k.stop();
    await t.waitLog(/VI_2: BACKUP -> MASTER \(priority 0 from master/, 10_000);
    await lab().waitHolders(VIP2, ['a']);
    expect(await lab().holders(VIP1)).toEqual(['a']);

    const k2 = await lab().keepalived('b', ...ka);
    await t.waitLog(/VI_2: MASTER -> BACKUP \(higher priority advert, from 10\.66\.0\.2 \(150\)/, 20_000);
    await lab().waitHolders(VIP2, ['b']);
    await lab().waitHolders(VIP1, ['a']);
    expect(await t.state('VI_1')).toBe('MASTER');

    await t.stop();
    await k2.stop();
    await lab().waitHolders(VIP1, []);
    await lab().waitHolders(VIP2, []);
  });
});
