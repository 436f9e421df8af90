// A tracked interface other than the VRRP one (an uplink) goes down while the LAN stays up:
// twinvip leaves MASTER for FAULT with a priority-0 advert (as keepalived does), so keepalived
// takes over at its skew time, not after Master_Down. The instance tracking the uplink is in a
// sync group (keepalived vrrp_sync_group) with a second one that tracks nothing: it follows
// into FAULT, so keepalived ends up with both VIPs. When the uplink returns both come back as
// BACKUP and preempt together. Link changes come from netlink events (no polling).
// (VRRPv3 with 0.5 s adverts keeps the waits short; VRRPv2 is covered by the other files.)
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { kaInstance, VrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP1 = '10.66.0.101';
const VIP2 = '10.66.0.102';

let lab: VrrpLab;

beforeAll(async () => {
  lab = await VrrpLab.create(['a', 'b']);
  // The uplink: a veth to the switch namespace (no dummy driver in every kernel), not bridged.
  await lab.net.veth(lab.box('a').ns, 'up0', lab.switchNs, 'upa');
});
afterEach(async () => {
  await lab?.stopAll();
});
afterAll(async () => {
  await lab?.cleanup();
});

describeRequiring(VrrpLab.prerequisites, 'tracked uplink and a sync group, with keepalived as the peer', () => {
  it('uplink down: both instances MASTER -> FAULT with priority 0, keepalived takes both VIPs; uplink up: twinvip preempts both back', async () => {
    const a = lab.box('a').ns;
    const t = await lab.twinvip(
      'a',
      {
        VI_1: { vrid: 78, version: 3, advert_int: 0.5, priority: 150, vips: [`${VIP1}/24`], track_interfaces: ['up0'] },
        VI_2: { vrid: 79, version: 3, advert_int: 0.5, priority: 150, vips: [`${VIP2}/24`] },
      },
      { sync_groups: { G1: { instances: ['VI_1', 'VI_2'] } } },
    );
    await t.waitLog(/VI_2: BACKUP -> MASTER/, 20_000);
    const k = await lab.keepalived(
      'b',
      kaInstance({ name: 'VI_1', vrid: 78, version: 3, advertInt: 0.5, priority: 100, vips: [`${VIP1}/24`] }),
      kaInstance({ name: 'VI_2', vrid: 79, version: 3, advertInt: 0.5, priority: 100, vips: [`${VIP2}/24`] }),
    );
    await k.waitLog(/\(VI_2\) Entering BACKUP STATE \(init\)/);
    await lab.waitHolders(VIP1, ['a']);
    await lab.waitHolders(VIP2, ['a']);
    await lab.waitFor(async () => (await t.counter('VI_2.advertsSent')) >= 3, { timeoutMs: 10_000 });

    await a.run('ip', ['link', 'set', 'up0', 'down']);
    await t.waitLog(/up0: link down/, 10_000);
    await t.waitLog(/VI_1: MASTER -> FAULT \(fault, iface:up0 down\)/, 10_000);
    await t.waitLog(/VI_2: MASTER -> FAULT \(sync group, G1: VI_1\)/, 10_000);
    await k.waitLog(/\(VI_1\) Entering MASTER STATE/, 10_000);
    await k.waitLog(/\(VI_2\) Entering MASTER STATE/, 10_000);
    expect(k.out().match(/priority 0/gi)?.length).toBeGreaterThanOrEqual(2);
    await lab.waitHolders(VIP1, ['b']);
    await lab.waitHolders(VIP2, ['b']);
    expect(await t.state('VI_2')).toBe('FAULT');

    await a.run('ip', ['link', 'set', 'up0', 'up']);
    await t.waitLog(/VI_1: FAULT -> BACKUP/, 10_000);
    await t.waitLog(/VI_2: FAULT -> BACKUP/, 10_000);
    await lab.waitHolders(VIP1, ['a'], 15_000);
    await lab.waitHolders(VIP2, ['a'], 15_000);
    await k.waitLog(/\(VI_2\) Entering BACKUP STATE(?! \(init\))/);
  });
});
