// SIGHUP applies VRRP changes keepalived-style, against a live keepalived 2.2.7 BACKUP: a MASTER
// whose instance changed stays MASTER with no transition and gains the new VIP; a lower priority
// hands over by normal election (keepalived preempts); a removed instance leaves with priority 0
// and drops its VIPs; an added one starts as at start-up. VI_2 is never touched by any reload.
import { expect, it } from 'vitest';
import { patience } from '../../helpers/patience';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP = '10.66.0.110';
const EXTRA = '10.66.0.111';
const VIP2 = '10.66.0.120';

// VRRPv3 at 0.5 s (keepalived's defaults are checked in keepalived-interop.test.ts): a reload is
// applied the same at any interval, and each election waited for is half as long.
const lab = useVrrpLab(['a', 'b']);

const transitions = (out: string, inst: string) => out.match(new RegExp(`${inst}: [A-Z]+ -> [A-Z]+`, 'g'))?.length ?? 0;
const count = (out: string, re: RegExp) => out.match(new RegExp(re.source, 'g'))?.length ?? 0;
const KA_MASTER = /\(VI_1\) Entering MASTER STATE/;
const PREEMPT = /VI_1: BACKUP -> MASTER \(preempt/;

describeRequiring(VrrpLab.prerequisites, 'config reload (SIGHUP) of VRRP instances', () => {
  it('changed MASTER keeps mastership and gains a VIP; lower priority hands over; removal sends priority 0; re-adding starts it', async () => {
    const k = await lab().keepalived(
      'b',
      kaInstance({ vrid: 63, version: 3, advertInt: 0.5, priority: 100, vips: [`${VIP}/24`], excludedVips: [`${EXTRA}/24`] }),
      kaInstance({ name: 'VI_2', vrid: 64, version: 3, advertInt: 0.5, priority: 100, vips: [`${VIP2}/24`] }),
    );
    const vi1 = { vrid: 63, version: 3, advert_int: 0.5, priority: 150, vips: [`${VIP}/24`] };
    const vi2 = { vrid: 64, version: 3, advert_int: 0.5, priority: 150, vips: [`${VIP2}/24`] };
    const t = await lab().twinvip('a', { VI_1: vi1, VI_2: vi2 });
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    await t.waitLog(/VI_2: BACKUP -> MASTER/, 20_000);
    await lab().waitHolders(VIP, ['a']);
    await lab().waitHolders(VIP2, ['a']);
    const vi2Transitions = transitions(t.out(), 'VI_2');

    // 1. An added (excluded, so the advert is unchanged for keepalived) VIP and another GARP
    //    repeat count: rebuilt, but no transition, the VIP appears, keepalived stays BACKUP.
    const before = transitions(t.out(), 'VI_1');
    const kaMasters = count(k.out(), KA_MASTER); // keepalived may have been MASTER before twinvip came up
    await t.reload({ VI_1: { ...vi1, excluded_vips: [`${EXTRA}/24`], garp: { master_repeat: 3 } }, VI_2: vi2 });
    expect(t.out()).toMatch(/reload applied: unchanged VI_2; rebuilt VI_1; removed none; added none/);
    await lab().waitHolders(EXTRA, ['a']);
    expect(await lab().holders(VIP)).toEqual(['a']);
    // A few adverts later still MASTER, still no transition, keepalived never took over.
    const sent = await t.counter('VI_1.advertsSent');
    await lab().waitFor(async () => (await t.counter('VI_1.advertsSent')) >= sent + 4, { timeoutMs: 15_000, what: 'four more adverts' });
    expect(await t.state('VI_1')).toBe('MASTER');
    expect(transitions(t.out(), 'VI_1')).toBe(before);
    expect(count(k.out(), KA_MASTER)).toBe(kaMasters);

    // 2. Priority 50: the resumed MASTER advertises it, keepalived (100) preempts.
    await t.reload({ VI_1: { ...vi1, priority: 50, excluded_vips: [`${EXTRA}/24`] }, VI_2: vi2 });
    await k.waitLog(KA_MASTER, 15_000, kaMasters + 1);
    await t.waitLog(/VI_1: MASTER -> BACKUP \(higher priority advert/, 15_000);
    await lab().waitHolders(VIP, ['b']);
    await lab().waitHolders(EXTRA, ['b']);

    // 3. Back to 150: the resumed BACKUP preempts by normal election.
    await t.reload({ VI_1: { ...vi1, excluded_vips: [`${EXTRA}/24`] }, VI_2: vi2 });
    await t.waitLog(PREEMPT, 15_000);
    await lab().waitHolders(VIP, ['a']);
    const preempts = count(t.out(), PREEMPT);

    // 4. Removed: priority 0 on the wire, VIPs gone from box a, keepalived takes over.
    const cap = await lab().capture('ip proto 112');
    await t.reload({ VI_2: vi2 });
    expect(t.out()).toMatch(/reload applied: unchanged VI_2; rebuilt none; removed VI_1; added none/);
    await lab().waitHolders(VIP, ['b']);
    await lab().waitHolders(EXTRA, ['b']);
    const lines = await lab().readCapture(await cap.stop());
    expect(lines.some((l) => /10\.66\.0\.1 > 224\.0\.0\.18.*vrid 63, prio 0,/.test(l))).toBe(true);
    expect((await t.status())?.instances.map((i) => i.name)).toEqual(['VI_2']);

    // 5. Added back: starts as at start-up (INIT -> BACKUP), then preempts keepalived.
    await t.reload({ VI_1: vi1, VI_2: vi2 });
    expect(t.out()).toMatch(/reload applied: unchanged VI_2; rebuilt none; removed none; added VI_1/);
    await t.waitLog(/VI_1: INIT -> BACKUP \(startup\)[^]*VI_1: INIT -> BACKUP \(startup\)/, 15_000);
    await lab().waitFor(() => count(t.out(), PREEMPT) > preempts, { timeoutMs: 15_000, what: () => `a second preempt\n${t.out()}` });
    await lab().waitHolders(VIP, ['a']);

    // Same interface, family and group throughout: the raw socket was never reopened.
    expect(t.out()).not.toMatch(/VRRP socket (reopened|closed)/);
    // VI_2 went through five reloads without a single transition and kept its VIP.
    expect(transitions(t.out(), 'VI_2')).toBe(vi2Transitions);
    expect(await lab().holders(VIP2)).toEqual(['a']);
    await t.stop();
    await k.stop();
  }, patience(150_000)); // five reloads, each waiting on keepalived and the wire: about 30 s idle, 70 s on a loaded machine
});
