// The interface facts the HA thread starts from (ifindex, MAC, MTU, flags, operstate, addresses
// with scope, secondary flag and label), read by two rtnetlink dumps from the addon, are the
// facts `ip -j addr show dev` gives for the same interfaces (the fallback where the addon cannot
// load): both readers on the same namespace, on an interface that is up with primary, secondary,
// labelled and IPv6 addresses, one whose peer is down (no carrier), and one that does not exist.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readInterfaces } from '../../../src/net/interfaces';
import { describeRequiring } from '../../helpers/prerequisites';
import { type Netns, NetnsLab } from '../helpers/netns';

describeRequiring(NetnsLab.prerequisites, 'interface facts by rtnetlink', () => {
  let lab: NetnsLab;
  let a: Netns;

  beforeAll(async () => {
    lab = await NetnsLab.create();
    a = await lab.namespace('a');
    const b = await lab.namespace('b');
    await lab.veth(a, 'va', b, 'vb');
    await lab.veth(a, 'vc', b, 'vd');
    await lab.addr(a, 'va', '10.79.0.1/24');
    await lab.addr(a, 'va', '10.79.0.7/24'); // same subnet: secondary
    await a.run('ip', ['addr', 'add', '10.79.1.1/24', 'dev', 'va', 'label', 'va:lbl']);
    await lab.addr(a, 'va', 'fd00:79::1/64');
    await a.run('ip', ['link', 'set', 'va', 'mtu', '1400']);
    // vc is up, its peer down: UP without LOWER_UP, NO-CARRIER, operstate DOWN (veth).
    await b.run('ip', ['link', 'set', 'vd', 'down']);
  });

  afterAll(async () => {
    await lab?.cleanup();
  });

  it('gives what `ip -j addr show dev` gives, for an interface up with every kind of address and one without carrier', async () => {
    const names = ['va', 'vc', 'lo'];
    const byNetlink = await readInterfaces(names, { netns: a.name });
    const byIp = await readInterfaces(names, { netns: a.name, ipBinary: 'ip' });
    const va = byNetlink.get('va');
    expect(va?.ok && va.value).toMatchObject({ mtu: 1400, linkUp: true, operstate: 'UP' });
    const addrs = va?.ok ? va.value.addresses : [];
    expect(addrs).toEqual(expect.arrayContaining([
      { family: 4, address: '10.79.0.1', prefixLength: 24, scope: 'global', secondary: false, label: 'va' },
      { family: 4, address: '10.79.0.7', prefixLength: 24, scope: 'global', secondary: true, label: 'va' },
      { family: 4, address: '10.79.1.1', prefixLength: 24, scope: 'global', secondary: false, label: 'va:lbl' },
      { family: 6, address: 'fd00:79::1', prefixLength: 64, scope: 'global', secondary: false },
      expect.objectContaining({ family: 6, scope: 'link' }),
    ]));
    const vc = byNetlink.get('vc');
    expect(vc?.ok && vc.value).toMatchObject({ linkUp: false, operstate: 'DOWN' });
    expect(vc?.ok && vc.value.flags).toContain('NO-CARRIER');
    expect(Object.fromEntries(byNetlink)).toEqual(Object.fromEntries(byIp));
  });

  it('an interface that does not exist: ENODEV from RTM_GETLINK, as `ip` says it', async () => {
    const nl = (await readInterfaces(['eth9'], { netns: a.name })).get('eth9');
    expect(nl).toEqual({ ok: false, call: 'RTM_GETLINK', errno: 'ENODEV', error: 'no such interface in this namespace' });
    const ip = (await readInterfaces(['eth9'], { netns: a.name, ipBinary: 'ip' })).get('eth9');
    expect(ip).toMatchObject({ ok: false, call: 'ip -j addr show dev eth9', errno: 'ENODEV' });
  });
});
