// The rtnetlink messages for VIPs, with the fields iproute2's ipaddr_modify sets for `ip addr
// add|del ADDR/LEN dev IF [label L]` (layout of linux/netlink.h, if_addr.h), and the decoding of
// the kernel's ACK. That the kernel accepts them: test/integration/net/vip-announce.test.ts.
import { describe, expect, it } from 'vitest';
import { RTM_DELADDR, RTM_NEWADDR, decodeAck, encodeAddrRequest } from '../../../src/net/rtnl-addr';

function ack(seq: number, errno: number): Buffer {
  const b = Buffer.alloc(36);
  b.writeUInt32LE(36, 0);
  b.writeUInt16LE(2, 4); // NLMSG_ERROR
  b.writeUInt32LE(seq, 8);
  b.writeInt32LE(-errno, 16);
  return b;
}

describe('encodeAddrRequest', () => {
  it('IPv4 add with a label: header, ifaddrmsg, IFA_LOCAL, IFA_ADDRESS, IFA_LABEL', () => {
    const m = encodeAddrRequest({ op: 'add', family: 4, address: '192.0.2.10', prefixLength: 24, ifindex: 7, label: 'lan0:vip' }, 42);
    expect(m.readUInt32LE(0)).toBe(m.length);
    expect(m.readUInt16LE(4)).toBe(RTM_NEWADDR);
    expect(m.readUInt16LE(6)).toBe(0x1 | 0x4 | 0x400 | 0x200); // REQUEST | ACK | CREATE | EXCL
    expect(m.readUInt32LE(8)).toBe(42);
    expect([...m.subarray(16, 24)]).toEqual([2, 24, 0, 0, 7, 0, 0, 0]); // AF_INET, /24, no flags, universe, ifindex 7
    expect([...m.subarray(24, 32)]).toEqual([8, 0, 2, 0, 192, 0, 2, 10]); // IFA_LOCAL
    expect([...m.subarray(32, 40)]).toEqual([8, 0, 1, 0, 192, 0, 2, 10]); // IFA_ADDRESS
    expect(m.readUInt16LE(40)).toBe(4 + 9); // IFA_LABEL "lan0:vip\0"
    expect(m.readUInt16LE(42)).toBe(3);
    expect(m.subarray(44, 53).toString()).toBe('lan0:vip\0');
    expect(m.length).toBe(56); // attribute padded to 4 bytes
  });

  it('IPv6 add asks for no DAD (nodad); delete has neither CREATE nor NODAD', () => {
    const add = encodeAddrRequest({ op: 'add', family: 6, address: '2001:db8::10', prefixLength: 64, ifindex: 3 }, 1);
    expect([...add.subarray(16, 20)]).toEqual([10, 64, 0x02, 0]);
    expect(add.readUInt16LE(24)).toBe(20); // 16-byte address attribute
    expect([...add.subarray(28, 44)]).toEqual([0x20, 0x01, 0x0d, 0xb8, ...Array(10).fill(0), 0, 0x10]);
    const del = encodeAddrRequest({ op: 'del', family: 6, address: '2001:db8::10', prefixLength: 64, ifindex: 3 }, 2);
    expect(del.readUInt16LE(4)).toBe(RTM_DELADDR);
    expect(del.readUInt16LE(6)).toBe(0x1 | 0x4);
    expect(del[18]).toBe(0);
  });

  it('never sends a label with IPv6 (the kernel has none), and refuses an address of the other family', () => {
    const m = encodeAddrRequest({ op: 'add', family: 6, address: '2001:db8::10', prefixLength: 64, ifindex: 3, label: 'x' }, 1);
    expect(m.length).toBe(16 + 8 + 20 + 20);
    expect(() => encodeAddrRequest({ op: 'add', family: 4, address: '2001:db8::10', prefixLength: 24, ifindex: 3 }, 1)).toThrow(/not an IPv4 address/);
  });
});

describe('decodeAck', () => {
  it('reads the errno of the ACK with our sequence number', () => {
    expect(decodeAck(ack(5, 0), 5)).toEqual({ errno: 0, code: 'OK' });
    expect(decodeAck(ack(5, 17), 5)).toEqual({ errno: 17, code: 'EEXIST' });
    expect(decodeAck(Buffer.concat([ack(4, 1), ack(5, 99)]), 5)).toEqual({ errno: 99, code: 'EADDRNOTAVAIL' });
  });
  it('says so when no answer of ours is in the reply (empty or truncated)', () => {
    expect(decodeAck(Buffer.alloc(0), 5).errno).toBe(-1);
    expect(decodeAck(ack(5, 0).subarray(0, 12), 5).errno).toBe(-1);
    expect(decodeAck(ack(6, 0), 5).errno).toBe(-1);
  });
});
