// Decoding of the RTM_GETLINK and RTM_GETADDR dumps the HA thread starts from, into the facts
// `ip -j addr` prints (layout of linux/netlink.h, if_link.h, if_addr.h). That a real kernel's
// dumps give exactly what `ip` gives: test/integration/net/interfaces-netlink.test.ts.
import { describe, expect, it } from 'vitest';
import { decodeAddrDetailDump, decodeLinkDump, encodeAddrDetailDump, encodeLinkDump } from '../../../src/net/rtnl-link';

function attr(type: number, value: Buffer): Buffer {
  const b = Buffer.alloc((4 + value.length + 3) & ~3);
  b.writeUInt16LE(4 + value.length, 0);
  b.writeUInt16LE(type, 2);
  value.copy(b, 4);
  return b;
}

function msg(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  return Buffer.concat([h, body]);
}

const done = () => msg(3, Buffer.alloc(4));
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
};

function link(ifindex: number, flags: number, name: string, operstate: number): Buffer {
  const ifi = Buffer.alloc(16);
  ifi.writeInt32LE(ifindex, 4);
  ifi.writeUInt32LE(flags, 8);
  return msg(16, Buffer.concat([ifi, attr(3, Buffer.from(`${name}\0`)), attr(4, u32(1500)), attr(1, Buffer.from([0x02, 0, 0, 0, 0, 0xab])), attr(16, Buffer.from([operstate]))]));
}

function addr(family: number, prefix: number, flags: number, scope: number, ifindex: number, bytes: number[], extra: Buffer[] = []): Buffer {
  const ifa = Buffer.from([family, prefix, flags, scope, 0, 0, 0, 0]);
  ifa.writeUInt32LE(ifindex, 4);
  return msg(20, Buffer.concat([ifa, attr(family === 2 ? 2 : 1, Buffer.from(bytes)), ...extra]));
}

describe('RTM_GETLINK dump', () => {
  it('asks for every interface (REQUEST | DUMP, an empty ifinfomsg)', () => {
    const m = encodeLinkDump(9);
    expect([m.readUInt32LE(0), m.readUInt16LE(4), m.readUInt16LE(6), m.readUInt32LE(8)]).toEqual([32, 18, 0x301, 9]);
  });

  it('decodes name, index, MAC, MTU, operstate and the flags as iproute2 names them', () => {
    const up = 0x1 | 0x2 | 0x40 | 0x1000 | 0x10000; // UP BROADCAST RUNNING MULTICAST LOWER_UP
    const r = decodeLinkDump(Buffer.concat([link(2, up, 'lan0', 6), link(3, 0x1 | 0x2 | 0x1000, 'wan0', 2), done()]));
    expect(r).toEqual({
      ok: true,
      links: [
        { name: 'lan0', ifindex: 2, mac: '02:00:00:00:00:ab', mtu: 1500, operstate: 'UP', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], linkUp: true, addresses: [] },
        { name: 'wan0', ifindex: 3, mac: '02:00:00:00:00:ab', mtu: 1500, operstate: 'DOWN', flags: ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'], linkUp: false, addresses: [] },
      ],
    });
  });

  it('returns the kernel\'s errno, and stops at a truncated message', () => {
    const err = msg(2, Buffer.concat([u32(-1 >>> 0), Buffer.alloc(16)]));
    expect(decodeLinkDump(err)).toEqual({ ok: false, errno: 1, code: 'EPERM' });
    expect(decodeLinkDump(link(2, 1, 'lan0', 6).subarray(0, 30))).toEqual({ ok: true, links: [] });
  });
});

describe('RTM_GETADDR dump', () => {
  it('asks for every address', () => {
    const m = encodeAddrDetailDump(4);
    expect([m.readUInt32LE(0), m.readUInt16LE(4), m.readUInt16LE(6), m.readUInt32LE(8)]).toEqual([24, 22, 0x301, 4]);
  });

  it('groups by interface index with scope, label and the secondary flag (IPv4 only: the bit is "temporary" for IPv6)', () => {
    const r = decodeAddrDetailDump(Buffer.concat([
      addr(2, 24, 0, 0, 2, [192, 0, 2, 1], [attr(3, Buffer.from('lan0\0'))]),
      addr(2, 24, 0x01, 0, 2, [192, 0, 2, 7], [attr(3, Buffer.from('lan0:v\0'))]),
      addr(10, 64, 0x01, 0, 2, [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1]),
      addr(10, 64, 0, 253, 3, [0xfe, 0x80, ...Array(13).fill(0), 9]),
      // IFA_FLAGS (32 bits) replaces the 8-bit field when present.
      addr(2, 8, 0, 254, 1, [127, 0, 0, 1], [attr(8, u32(0x01))]),
      done(),
    ]));
    expect(r.ok && Object.fromEntries(r.byIndex)).toEqual({
      1: [{ family: 4, address: '127.0.0.1', prefixLength: 8, scope: 'host', secondary: true }],
      2: [
        { family: 4, address: '192.0.2.1', prefixLength: 24, scope: 'global', secondary: false, label: 'lan0' },
        { family: 4, address: '192.0.2.7', prefixLength: 24, scope: 'global', secondary: true, label: 'lan0:v' },
        { family: 6, address: '2001:db8::1', prefixLength: 64, scope: 'global', secondary: false },
      ],
      3: [{ family: 6, address: 'fe80::9', prefixLength: 64, scope: 'link', secondary: false }],
    });
  });

  // The same dump feeds the stale-VIP scan (vip.ts): a point-to-point address's peer (IFA_ADDRESS
  // beside IFA_LOCAL, for IPv6 as for IPv4) is not an address of the box and must never be taken
  // for a VIP to remove.
  it('takes the local address, not the peer, of a point-to-point address of either family; nothing after NLMSG_DONE', () => {
    const v6 = (last: number) => [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), last];
    const r = decodeAddrDetailDump(Buffer.concat([
      addr(2, 32, 0, 0, 4, [10, 0, 0, 1], [attr(1, Buffer.from([10, 0, 0, 2]))]),
      addr(10, 128, 0, 0, 5, v6(0x20), [attr(2, Buffer.from(v6(0x10)))]),
      done(),
      addr(2, 24, 0, 0, 9, [192, 0, 2, 1]),
    ]));
    expect(r.ok && Object.fromEntries(r.byIndex)).toEqual({
      4: [{ family: 4, address: '10.0.0.1', prefixLength: 32, scope: 'global', secondary: false }],
      5: [{ family: 6, address: '2001:db8::10', prefixLength: 128, scope: 'global', secondary: false }],
    });
  });

  it('returns the errno of an error answer', () => {
    const err = msg(2, Buffer.concat([u32(-1 >>> 0), Buffer.alloc(16)]));
    expect(decodeAddrDetailDump(err)).toEqual({ ok: false, errno: 1, code: 'EPERM' });
  });
});
