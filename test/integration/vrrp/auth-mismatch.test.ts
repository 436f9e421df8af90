// VRRPv2 simple-password authentication that does not match (the matching case is in
// keepalived-interop.test.ts). Each side drops the other's adverts (RFC 3768 7.1; keepalived
// logs "received an invalid passwd!"), so neither hears a master and BOTH become MASTER and
// carry the VIP: the misconfiguration split-brains the pair, exactly as a keepalived pair does.
// twinvip's part is to make it visible: every dropped advert counted (VI_1.drop.auth) and one
// alarm logged.
//
// Observed keepalived 2.2.7 quirk: as MASTER, every advert it receives and drops restarts its
// own advert timer, so while our adverts arrive every interval it sends few or none. The
// drops are therefore counted while keepalived is the only master and twinvip still BACKUP.
import { expect, it } from 'vitest';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP = '10.66.0.100';

const lab = useVrrpLab(['a', 'b']);

describeRequiring(VrrpLab.prerequisites, 'PASS authentication mismatch with keepalived', () => {
  it('adverts are dropped and counted on the twinvip side, an alarm is logged, and both routers become MASTER', async () => {
    const k = await lab().keepalived('b', kaInstance({ vrid: 63, priority: 100, vips: [`${VIP}/24`], password: 'other' }));
    await k.waitLog(/Entering MASTER STATE/);
    await lab().waitHolders(VIP, ['b']);

    const t = await lab().twinvip('a', { VI_1: { vrid: 63, priority: 150, vips: [`${VIP}/24`], authentication: { type: 'PASS', password: 'tw1n' } } });
    await t.waitLog(/VI_1: dropping advert from 10\.66\.0\.2 \(priority 100\): simple password does not match \(both routers may become MASTER\)/, 20_000);
    // Each of keepalived's adverts (one a second) is counted, not only the first.
    await lab().waitFor(async () => (await t.counter('VI_1.drop.auth')) >= 2, { timeoutMs: 15_000, what: 'VI_1.drop.auth >= 2' });

    // Nothing accepted: twinvip's Master_Down_Interval runs out under a live master.
    await t.waitLog(/VI_1: BACKUP -> MASTER \(master down/, 15_000);
    await k.waitLog(/received an invalid passwd!/);
    await lab().waitHolders(VIP, ['a', 'b']);
    expect(await t.counter('VI_1.advertsReceived')).toBe(0);
    expect(await t.state()).toBe('MASTER');
    expect(k.out()).not.toMatch(/Entering BACKUP STATE(?! \(init\))/);
    // The alarm is raised once per cause, not per packet.
    expect(t.out().match(/dropping advert from 10\.66\.0\.2/g)?.length).toBe(1);

    await t.stop();
    await k.stop();
    await lab().waitHolders(VIP, []);
  });
});
