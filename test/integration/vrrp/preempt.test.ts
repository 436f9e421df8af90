// Preempt and nopreempt against a live keepalived 2.2.7 MASTER of lower priority (RFC 3768/5798
// 6.4.2: a preempting backup discards the lower-priority adverts and lets its Master_Down timer
// run out; a non-preempting one accepts them as from its master).
import { expect, it } from 'vitest';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP = '10.66.0.100';
// VRRPv3 at 0.5 s (keepalived's defaults are checked in keepalived-interop.test.ts): preemption
// is the same rule at any interval, and each Master_Down_Interval waited for is half as long.
const ka = kaInstance({ vrid: 62, priority: 100, state: 'MASTER', version: 3, advertInt: 0.5, vips: [`${VIP}/24`] });

const lab = useVrrpLab(['a', 'b']);

describeRequiring(VrrpLab.prerequisites, 'preempt and nopreempt against keepalived', () => {
  it('preempt: twinvip (150) started after keepalived (100) is MASTER takes over; keepalived steps back to BACKUP', async () => {
    const k = await lab().keepalived('b', ka);
    await k.waitLog(/Entering MASTER STATE/);
    await lab().waitHolders(VIP, ['b']);

    const t = await lab().twinvip('a', { VI_1: { vrid: 62, version: 3, advert_int: 0.5, priority: 150, vips: [`${VIP}/24`] } });
    await t.waitLog(/VI_1: INIT -> BACKUP/, 20_000);
    await t.waitLog(/VI_1: BACKUP -> MASTER \(preempt, lower priority master 10\.66\.0\.2 \(100\), ours 150\)/, 15_000);
    // keepalived hears a higher priority and releases (its second state change).
    await k.waitLog(/Entering BACKUP STATE(?! \(init\))/);
    await lab().waitHolders(VIP, ['a']);
    expect(await t.counter('VI_1.preemptDiscarded')).toBeGreaterThan(0);

    await t.stop();
    await k.stop();
    await lab().waitHolders(VIP, []);
  });

  it('nopreempt: twinvip (150, preempt false) stays BACKUP under a live keepalived MASTER (100), and takes over when it leaves', async () => {
    const k = await lab().keepalived('b', ka);
    await k.waitLog(/Entering MASTER STATE/);
    await lab().waitHolders(VIP, ['b']);

    const t = await lab().twinvip('a', { VI_1: { vrid: 62, version: 3, advert_int: 0.5, priority: 150, preempt: false, state: 'BACKUP', vips: [`${VIP}/24`] } });
    await t.waitLog(/VI_1: INIT -> BACKUP/, 20_000);
    // Six adverts heard after start-up: well past Master_Down_Interval (3 x 0.5 s + skew), the
    // moment a preempting backup would have taken over.
    await lab().waitFor(async () => (await t.counter('VI_1.advertsReceived')) >= 6, { timeoutMs: 15_000, what: 'six adverts from keepalived' });
    const s = await t.status();
    expect(s?.instances[0]).toMatchObject({ state: 'BACKUP', master: { address: '10.66.0.2', priority: 100 } });
    expect(await lab().holders(VIP)).toEqual(['b']);
    expect(t.out()).not.toMatch(/-> MASTER/);
    expect(k.out()).not.toMatch(/Entering BACKUP STATE(?! \(init\))/);

    // The master leaves gracefully: priority 0, twinvip takes over after its skew time.
    await k.stop();
    await t.waitLog(/VI_1: BACKUP -> MASTER \(priority 0 from master/, 10_000);
    await lab().waitHolders(VIP, ['a']);
    await t.stop();
  });
});
