// A tracked interface other than the VRRP one (an uplink) goes down while the LAN stays up:
// twinvip leaves MASTER for FAULT with a priority-0 advert (as keepalived does), so keepalived
// takes over at its skew time, not after Master_Down; when the uplink returns twinvip comes
// back as BACKUP and preempts. Link changes come from netlink events (no polling).
// (VRRPv3 with 0.5 s adverts keeps the waits short; VRRPv2 is covered by the other files.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kaInstance, VrrpLab } from './lab';

const VIP = '10.66.0.100';

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

describe.skipIf(!VrrpLab.available())('tracked uplink with keepalived as the peer', () => {
  it('uplink down: twinvip MASTER -> FAULT with priority 0, keepalived takes over; uplink up: twinvip preempts back', async () => {
    const a = lab.box('a').ns;
    const t = await lab.twinvip('a', { VI_1: { vrid: 78, version: 3, advert_int: 0.5, priority: 150, vips: [`${VIP}/24`], track_interfaces: ['up0'] } });
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    const k = await lab.keepalived('b', kaInstance({ vrid: 78, version: 3, advertInt: 0.5, priority: 100, vips: [`${VIP}/24`] }));
    await k.waitLog(/Entering BACKUP STATE \(init\)/);
    await lab.waitHolders(VIP, ['a']);
    await lab.waitFor(async () => (await t.counter('VI_1.advertsSent')) >= 3, { timeoutMs: 10_000 });

    await a.run('ip', ['link', 'set', 'up0', 'down']);
    await t.waitLog(/up0: link down/, 10_000);
    await t.waitLog(/VI_1: MASTER -> FAULT/, 10_000);
    await k.waitLog(/Entering MASTER STATE/, 10_000);
    expect(k.out()).toMatch(/priority 0/i);
    await lab.waitHolders(VIP, ['b']);
    expect(await t.state()).toBe('FAULT');

    await a.run('ip', ['link', 'set', 'up0', 'up']);
    await t.waitLog(/VI_1: FAULT -> BACKUP/, 10_000);
    await t.waitLog(/VI_1: BACKUP -> MASTER \(preempt/, 15_000);
    await lab.waitHolders(VIP, ['a']);
    await k.waitLog(/Entering BACKUP STATE(?! \(init\))/);
  });
});
