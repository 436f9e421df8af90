// A client on the LAN follows the VIP after a failover without asking: its neighbour entry for
// the VIP (made by a ping while keepalived was master) changes to twinvip's MAC because of
// twinvip's gratuitous ARP (IPv4) and unsolicited neighbour advertisement (IPv6). A capture
// proves the client sent no ARP and no neighbour solicitation (ICMPv6 type 135) after the
// failover, so the change can only come from what twinvip announced.
import { expect, it } from 'vitest';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP4 = '10.66.0.100';
const VIP6 = 'fd66::100';

const lab = useVrrpLab(['a', 'b', 'c']);

async function neighMac(vip: string): Promise<string | undefined> {
  const n = await lab().box('c').ns.ipJson<{ dst: string; lladdr?: string }[]>(['neigh', 'show', 'to', vip, 'dev', 'lan']);
  return n.find((e) => e.dst === vip)?.lladdr;
}

describeRequiring(VrrpLab.prerequisites, "a client's neighbour table follows the VIP", () => {
  it('after keepalived (200) hands over to twinvip (150), the client maps both VIPs to twinvip\'s MAC', async () => {
    const a = lab().box('a');
    const b = lab().box('b');
    const c = lab().box('c');
    const k = await lab().keepalived(
      'b',
      kaInstance({ name: 'VI_4', vrid: 71, priority: 200, state: 'MASTER', vips: [`${VIP4}/24`] }),
      kaInstance({ name: 'VI_6', vrid: 72, priority: 200, state: 'MASTER', version: 3, ipv6: true, vips: [`${VIP6}/64`] }),
    );
    await lab().waitHolders(VIP4, ['b'], 15_000);
    await lab().waitHolders(VIP6, ['b'], 15_000);
    const t = await lab().twinvip('a', {
      VI_4: { vrid: 71, priority: 150, vips: [`${VIP4}/24`] },
      VI_6: { vrid: 72, version: 3, priority: 150, vips: [`${VIP6}/64`] },
    });
    await t.waitLog(/VI_4: INIT -> BACKUP/, 20_000);
    await t.waitLog(/VI_6: INIT -> BACKUP/);

    // The client talks to the VIPs once: its neighbour entries now name keepalived's box.
    await c.ns.run('ping', ['-c', '1', '-W', '5', VIP4]);
    await c.ns.run('ping', ['-c', '1', '-W', '5', VIP6]);
    expect(await neighMac(VIP4)).toBe(b.mac);
    expect(await neighMac(VIP6)).toBe(b.mac);

    // From here on, anything the client asks about addresses is on record.
    const cap = await lab().capture(`ether src ${c.mac} and (arp or (icmp6 and ip6[40] == 135))`);
    await k.stop();
    await t.waitLog(/VI_4: BACKUP -> MASTER/, 10_000);
    await t.waitLog(/VI_6: BACKUP -> MASTER/, 10_000);
    await lab().waitHolders(VIP4, ['a']);
    await lab().waitHolders(VIP6, ['a']);
    // Bounded: the first burst comes at once, a second after garp.master_delay (5 s).
    await lab().waitFor(async () => (await neighMac(VIP4)) === a.mac, { timeoutMs: 10_000, what: `client's ARP entry for ${VIP4} -> ${a.mac}` });
    await lab().waitFor(async () => (await neighMac(VIP6)) === a.mac, { timeoutMs: 10_000, what: `client's neighbour entry for ${VIP6} -> ${a.mac}` });

    const asked = await lab().readCapture(await cap.stop());
    expect(asked).toEqual([]);
    await t.stop();
  });
});
