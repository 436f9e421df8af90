// VRRPv3 (RFC 5798) with keepalived 2.2.7, over IPv4 and over IPv6. IPv6 adverts come from the
// link-local address and go to ff02::12 with hop limit 255; the IPv4 v3 checksum includes the
// pseudo-header (keepalived's default dialect). Election both ways, graceful handover
// (priority 0) and preemption back, each checked by who holds the VIP. Adverts every 0.5 s:
// v3's centisecond intervals, and keepalived's Master_Down_Interval becomes 1.5 s + skew.
import { expect, it } from 'vitest';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const lab = useVrrpLab(['a', 'b']);

const cases = [
  { family: 'IPv4', vrid: 64, vip: '10.66.0.100', prefix: 24, ipv6: false },
  { family: 'IPv6', vrid: 65, vip: 'fd66::100', prefix: 64, ipv6: true },
] as const;

describeRequiring(VrrpLab.prerequisites, 'VRRPv3 with keepalived', () => {
  it.each(cases)('over $family: election, priority-0 handover to keepalived, twinvip preempts back', async ({ vrid, vip, prefix, ipv6 }) => {
    const tv = { VI_1: { vrid, version: 3, priority: 150, advert_int: 0.5, vips: [`${vip}/${prefix}`] } };
    const a = lab().box('a');
    const b = lab().box('b');
    // The address adverts come from, as the peer sees it: the link-local one for IPv6.
    const aSrc = ipv6 ? a.linkLocal : a.v4;
    const bSrc = ipv6 ? b.linkLocal : b.v4;

    const t = await lab().twinvip('a', tv);
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    await lab().waitHolders(vip, ['a']);
    const k = await lab().keepalived('b', kaInstance({ vrid, priority: 100, version: 3, advertInt: 0.5, ipv6, vips: [`${vip}/${prefix}`] }));
    // keepalived accepts our v3 adverts (checksum, hop limit, address list): it stays BACKUP
    // past its Master_Down_Interval, while we keep sending.
    await k.waitLog(/Entering BACKUP STATE \(init\)/);
    const sent = await t.counter('VI_1.advertsSent');
    await lab().waitFor(async () => (await t.counter('VI_1.advertsSent')) >= sent + 5, { timeoutMs: 20_000, what: 'five more adverts' });
    expect(k.out()).not.toMatch(/Entering MASTER STATE/);
    expect(await lab().holders(vip)).toEqual(['a']);

    // Graceful stop: our priority-0 advert makes keepalived take over after its skew time.
    expect(await t.stop()).toBe(0);
    await k.waitLog(/Entering MASTER STATE/, 10_000);
    expect(k.out()).toMatch(/priority 0/i);
    await lab().waitHolders(vip, ['b']);

    // twinvip back: it hears keepalived's v3 adverts (from bSrc), discards them as lower
    // priority and preempts; keepalived hears us and releases.
    const t2 = await lab().twinvip('a', tv);
    await t2.waitLog(new RegExp(`VI_1: BACKUP -> MASTER \\(preempt, lower priority master ${bSrc.replace(/\./g, '\\.')} \\(100\\)`), 20_000);
    await k.waitLog(new RegExp(`Master received advert from ${aSrc.replace(/\./g, '\\.')} with higher priority 150`), 10_000);
    await k.waitLog(/Entering BACKUP STATE(?! \(init\))/);
    await lab().waitHolders(vip, ['a']);
    expect((await t2.status())?.counters.vrrp).not.toHaveProperty(['VI_1.drop.checksum']);

    await k.stop();
    await t2.stop();
    await lab().waitHolders(vip, []);
  });
});
