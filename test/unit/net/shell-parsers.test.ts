// Parsers of what the system hands the shell: `ip -j addr` output, rtnetlink link messages,
// VIP definitions, and where the addon is looked for.
import { describe, expect, it } from 'vitest';
import { parseIpJson, primaryAddress } from '../../../src/net/interfaces';
import { addonCandidates } from '../../../src/net/native';
import { IFF_LOWER_UP, IFF_RUNNING, IFF_UP, RTM_DELLINK, RTM_NEWLINK, decodeLinkMessages } from '../../../src/net/netlink-link';
import { parseVip } from '../../../src/net/vip';

const IP_JSON = JSON.stringify([
  {
    ifindex: 2,
    ifname: 'eth0',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    mtu: 1500,
    operstate: 'UP',
    address: '52:54:00:AA:bb:01',
    addr_info: [
      { family: 'inet', local: '192.168.1.10', prefixlen: 24, scope: 'global', label: 'eth0' },
      { family: 'inet', local: '192.168.1.100', prefixlen: 24, scope: 'global', secondary: true, label: 'eth0:vip' },
      { family: 'inet6', local: '2001:db8::10', prefixlen: 64, scope: 'global' },
      { family: 'inet6', local: 'fe80::5054:ff:feaa:bb01', prefixlen: 64, scope: 'link' },
    ],
  },
  { ifindex: 3, ifname: 'eth1', flags: ['NO-CARRIER', 'BROADCAST', 'UP'], mtu: 1500, operstate: 'DOWN', address: '52:54:00:aa:bb:02', addr_info: [] },
]);

describe('ip -j addr', () => {
  it('parses interfaces, flags and addresses', () => {
    const r = parseIpJson(IP_JSON);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [eth0, eth1] = r.value;
    expect(eth0).toMatchObject({ name: 'eth0', ifindex: 2, mac: '52:54:00:aa:bb:01', linkUp: true, operstate: 'UP' });
    expect(eth0!.addresses[1]).toEqual({ family: 4, address: '192.168.1.100', prefixLength: 24, scope: 'global', secondary: true, label: 'eth0:vip' });
    expect(eth1).toMatchObject({ name: 'eth1', linkUp: false });
    expect(primaryAddress(eth0!, 4)).toBe('192.168.1.10');
    expect(primaryAddress(eth0!, 6)).toBe('fe80::5054:ff:feaa:bb01');
    expect(primaryAddress(eth1!, 4)).toBeNull();
  });

  it('refuses what is not ip -j output', () => {
    expect(parseIpJson('Device "x" does not exist.').ok).toBe(false);
    expect(parseIpJson('{}').ok).toBe(false);
  });
});

function linkMessage(type: number, ifindex: number, flags: number, name: string, operstate: number): Buffer {
  const nameAttr = Buffer.alloc(4 + ((name.length + 1 + 3) & ~3));
  nameAttr.writeUInt16LE(4 + name.length + 1, 0);
  nameAttr.writeUInt16LE(3, 2);
  nameAttr.write(name, 4);
  const oper = Buffer.alloc(8);
  oper.writeUInt16LE(5, 0);
  oper.writeUInt16LE(16, 2);
  oper[4] = operstate;
  const body = Buffer.alloc(16);
  body.writeInt32LE(ifindex, 4);
  body.writeUInt32LE(flags, 8);
  const hdr = Buffer.alloc(16);
  const len = 16 + 16 + nameAttr.length + oper.length;
  hdr.writeUInt32LE(len, 0);
  hdr.writeUInt16LE(type, 4);
  return Buffer.concat([hdr, body, nameAttr, oper]);
}

describe('rtnetlink link messages', () => {
  it('decodes several messages in one datagram', () => {
    const up = linkMessage(RTM_NEWLINK, 7, IFF_UP | IFF_RUNNING | IFF_LOWER_UP, 'eth0', 6);
    const down = linkMessage(RTM_NEWLINK, 7, IFF_UP, 'eth0', 2);
    const gone = linkMessage(RTM_DELLINK, 8, 0, 'eth1', 2);
    const d = decodeLinkMessages(Buffer.concat([up, down, gone]), true);
    expect(d.malformed).toBe(0);
    expect(d.events).toEqual([
      { kind: 'new', ifindex: 7, flags: IFF_UP | IFF_RUNNING | IFF_LOWER_UP, up: true, ifname: 'eth0', operstate: 'UP' },
      { kind: 'new', ifindex: 7, flags: IFF_UP, up: false, ifname: 'eth0', operstate: 'DOWN' },
      { kind: 'del', ifindex: 8, flags: 0, up: false, ifname: 'eth1', operstate: 'DOWN' },
    ]);
  });

  it('counts a truncated message instead of throwing', () => {
    const m = linkMessage(RTM_NEWLINK, 7, IFF_UP | IFF_RUNNING, 'eth0', 6);
    const d = decodeLinkMessages(m.subarray(0, m.length - 6), true);
    expect(d.events).toEqual([]);
    expect(d.malformed).toBe(1);
  });
});

describe('VIP definitions', () => {
  it('accepts addresses with and without prefix and IPv4 labels', () => {
    expect(parseVip('192.168.1.100/24', 'eth0', 'eth0:vip')).toEqual({
      ok: true,
      vip: { address: '192.168.1.100', prefixLength: 24, family: 4, ifname: 'eth0', label: 'eth0:vip' },
    });
    expect(parseVip('2001:DB8::100', 'eth0')).toEqual({ ok: true, vip: { address: '2001:db8::100', prefixLength: 128, family: 6, ifname: 'eth0' } });
  });

  it('refuses bad addresses and labels with the reason', () => {
    expect(parseVip('192.168.1.300', 'eth0')).toMatchObject({ ok: false, error: expect.stringMatching(/not an address/) });
    expect(parseVip('10.0.0.1', 'eth0', 'vip')).toMatchObject({ ok: false, error: expect.stringMatching(/must start with "eth0:"/) });
    expect(parseVip('fd00::1', 'eth0', 'eth0:x')).toMatchObject({ ok: false, error: expect.stringMatching(/only for IPv4/) });
  });
});

describe('addon location', () => {
  it('looks beside the bundle, then in native/build/<arch> walking up', () => {
    const c = addonCandidates('/opt/twinvip/dist', { TWINVIP_NET_ADDON: '/x/y.node' });
    expect(c[0]).toBe('/x/y.node');
    expect(c[1]).toBe('/opt/twinvip/dist/twinvip_net.node');
    expect(c).toContain(`/opt/twinvip/native/build/${process.arch}/twinvip_net.node`);
  });
});
