// twinvip's packets on the wire, decoded by Wireshark's dissectors (tshark 4.0, Debian): VRRPv2
// with a simple password, VRRPv3 over IPv4 and over IPv6, the priority-0 adverts sent on
// shutdown, and the gratuitous ARP / unsolicited NA. Each must decode with the fields we meant,
// a checksum the dissector verifies as good, TTL/hop limit 255, and no expert warning or
// malformed-packet mark. A v3 instance sending the v2-compatible checksum (Cisco/RFC 9568 dialect)
// is the control: tshark's default (RFC 5798, as keepalived) must flag it, so the check can fail.
import { expect, it } from 'vitest';
import { VrrpLab, useVrrpLab } from './lab';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';

const lab = useVrrpLab(['a']);

const FIELDS = [
  'frame.number', 'eth.src', 'ip.ttl', 'ip.dst', 'ipv6.hlim', 'ipv6.src', 'ipv6.dst', 'vrrp.version', 'vrrp.virt_rtr_id', 'vrrp.prio',
  'vrrp.checksum.status', 'vrrp.auth_type', 'vrrp.auth_string', 'vrrp.adver_int', 'vrrp.short_adver_int', 'vrrp.ip_addr', 'vrrp.ipv6_addr',
  'arp.isgratuitous', 'icmpv6.type', '_ws.expert', '_ws.malformed', '_ws.col.Info',
] as const;
type Row = Record<(typeof FIELDS)[number], string>;

async function decode(file: string, prefs: string[] = []): Promise<Row[]> {
  const out = await lab().switchNs.run('tshark', ['-n', '-r', file, ...prefs.flatMap((p) => ['-o', p]), '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,', ...FIELDS.flatMap((f) => ['-e', f])]);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => Object.fromEntries(l.split('|').map((v, i) => [FIELDS[i], v])) as Row);
}

describeRequiring([...VrrpLab.prerequisites, needsProgram('tshark'), needsProgram('tcpdump')], "tshark's dissectors on twinvip's packets", () => {
  it('VRRPv2 (PASS), VRRPv3/IPv4, VRRPv3/IPv6, priority 0, GARP and NA decode without warnings', async () => {
    const a = lab().box('a');
    const cap = await lab().capture('ip proto 112 or ip6 proto 112 or arp or icmp6');
    const t = await lab().twinvip('a', {
      VI_2: { vrid: 81, priority: 150, vips: ['10.66.0.81/24'], authentication: { type: 'PASS', password: 'tw1n' } },
      VI_3: { vrid: 82, version: 3, priority: 150, advert_int: 0.5, vips: ['10.66.0.82/24', '10.66.0.182/24'] },
      VI_6: { vrid: 83, version: 3, priority: 150, advert_int: 0.5, vips: ['fd66::83/64', 'fd66::183/64'] },
      VI_C: { vrid: 84, version: 3, priority: 150, advert_int: 0.5, v3_checksum: 'v2-compatible', vips: ['10.66.0.84/24'] },
    });
    await lab().waitFor(async () => (await lab().holders('10.66.0.81')).length === 1 && (await t.counter('VI_2.advertsSent')) >= 3, {
      timeoutMs: 20_000,
      what: () => `three v2 adverts\n${t.out()}`,
    });
    expect(await t.stop()).toBe(0); // sends the priority-0 adverts
    // The last frames may still be on their way through the bridge: stop the capture once it
    // holds every instance's priority-0 advert.
    await lab().waitFor(async () => (await lab().readCapture(cap.file, 'ip proto 112 or ip6 proto 112')).filter((l) => /vrid 8[1-4], prio 0,/.test(l)).length === 4, {
      timeoutMs: 10_000,
      what: 'four priority-0 adverts in the capture',
    });
    const file = await cap.stop();
    const rows = await decode(file);
    const fromUs = rows.filter((r) => r['eth.src'] === a.mac);
    const vrrp = (vrid: number) => fromUs.filter((r) => r['vrrp.virt_rtr_id'] === String(vrid));
    const clean = (r: Row) => r['_ws.expert'] === '' && r['_ws.malformed'] === '';

    // VRRPv2, simple password: 1 s interval, auth type 1, the password, TTL 255 to 224.0.0.18.
    const v2 = vrrp(81);
    expect(v2.length).toBeGreaterThanOrEqual(4);
    for (const r of v2) {
      expect(r, r['_ws.col.Info']).toMatchObject({ 'vrrp.version': '2', 'vrrp.checksum.status': '1', 'vrrp.auth_type': '1', 'vrrp.auth_string': 'tw1n', 'vrrp.adver_int': '1', 'vrrp.ip_addr': '10.66.0.81', 'ip.ttl': '255', 'ip.dst': '224.0.0.18' });
      expect(clean(r), `${r['frame.number']}: ${r['_ws.expert']}`).toBe(true);
    }
    // VRRPv3 over IPv4: 50 cs, pseudo-header checksum good, both VIPs listed.
    const v3 = vrrp(82);
    expect(v3.length).toBeGreaterThanOrEqual(4);
    for (const r of v3) {
      expect(r).toMatchObject({ 'vrrp.version': '3', 'vrrp.checksum.status': '1', 'vrrp.short_adver_int': '50', 'vrrp.ip_addr': '10.66.0.82,10.66.0.182', 'ip.ttl': '255', 'ip.dst': '224.0.0.18' });
      expect(clean(r), `${r['frame.number']}: ${r['_ws.expert']}`).toBe(true);
    }
    // VRRPv3 over IPv6: from the link-local address to ff02::12, hop limit 255.
    const v6 = vrrp(83);
    expect(v6.length).toBeGreaterThanOrEqual(4);
    for (const r of v6) {
      expect(r).toMatchObject({ 'vrrp.version': '3', 'vrrp.checksum.status': '1', 'vrrp.short_adver_int': '50', 'vrrp.ipv6_addr': 'fd66::83,fd66::183', 'ipv6.hlim': '255', 'ipv6.src': a.linkLocal, 'ipv6.dst': 'ff02::12' });
      expect(clean(r), `${r['frame.number']}: ${r['_ws.expert']}`).toBe(true);
    }
    // Shutdown: a priority-0 advert from every instance.
    for (const vrid of [81, 82, 83, 84]) expect(vrrp(vrid).some((r) => r['vrrp.prio'] === '0'), `priority 0 on VRID ${vrid}`).toBe(true);
    for (const vrid of [81, 82, 83]) expect(vrrp(vrid).some((r) => r['vrrp.prio'] === '150')).toBe(true);

    // Gratuitous ARP for each IPv4 VIP and unsolicited NA (type 136) for each IPv6 VIP.
    const garp = fromUs.filter((r) => r['arp.isgratuitous'] === '1');
    const na = fromUs.filter((r) => r['icmpv6.type'] === '136');
    expect(garp.length).toBeGreaterThanOrEqual(5);
    expect(na.length).toBeGreaterThanOrEqual(2);
    for (const r of [...garp, ...na]) expect(clean(r), `${r['frame.number']} ${r['_ws.col.Info']}: ${r['_ws.expert']}`).toBe(true);
    expect(na.map((r) => r['_ws.col.Info']).join('\n')).toMatch(/Neighbor Advertisement fd66::183 \(ovr\) is at/);

    // The control: the v2-compatible checksum is bad under RFC 5798 rules and good under the
    // dissector's v2-style preference; RFC 5798 adverts go the other way.
    const control = vrrp(84);
    expect(control.length).toBeGreaterThanOrEqual(4);
    expect(control.every((r) => r['vrrp.checksum.status'] === '0' && /Bad checksum/.test(r['_ws.expert']))).toBe(true);
    const asV2 = (await decode(file, ['vrrp.v3_checksum_as_in_v2:TRUE'])).filter((r) => r['eth.src'] === a.mac);
    expect(asV2.filter((r) => r['vrrp.virt_rtr_id'] === '84').every((r) => r['vrrp.checksum.status'] === '1' && clean(r))).toBe(true);
    expect(asV2.filter((r) => r['vrrp.virt_rtr_id'] === '82').every((r) => r['vrrp.checksum.status'] === '0')).toBe(true);
  });
});
