// The probe's MAC-addressed UDP frames (src/net/udp-frame.ts): layout field by field, and both
// checksums verifying the way a receiver checks them (the one's complement sum over the header,
// or over the pseudo-header and the datagram, is 0xffff). The netns test udp-to-mac.test.ts shows
// a real kernel accepting them.
import { describe, expect, it } from 'vitest';
import { buildUdpFrame } from '../../../src/net/udp-frame';
import { parseIpv6 } from '../../../src/lib/ip';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function onesSum(parts: Uint8Array[], extra = 0): number {
  let s = extra;
  for (const b of parts) for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

const base = { srcMac: '02:00:00:00:00:0a', dstMac: '02:00:00:00:00:0b', srcPort: 17077, dstPort: 17077, payload: Uint8Array.from([1, 2, 3]) };

describe('buildUdpFrame', () => {
  it('IPv4: Ethernet to the given MAC, DF, TTL 64, UDP, both checksums verify (odd payload length)', () => {
    const f = buildUdpFrame({ ...base, srcIp: '10.1.2.3', dstIp: '10.1.2.4' });
    expect(f.length).toBe(14 + 20 + 8 + 3);
    expect(hex(f.subarray(0, 14))).toBe('02000000000b' + '02000000000a' + '0800');
    const ip = f.subarray(14, 34);
    expect(hex(ip.subarray(0, 10))).toBe('45' + '00' + '001f' + '0000' + '4000' + '40' + '11');
    expect(hex(ip.subarray(12, 20))).toBe('0a010203' + '0a010204');
    expect(onesSum([ip])).toBe(0xffff);
    const udp = f.subarray(34);
    expect(hex(udp.subarray(0, 6))).toBe('42b5' + '42b5' + '000b');
    expect(hex(udp.subarray(8))).toBe('010203');
    expect(onesSum([ip.subarray(12, 20), udp], 17 + udp.length)).toBe(0xffff);
  });

  it('IPv6: next header UDP, hop limit 64, the checksum over the RFC 8200 pseudo-header verifies', () => {
    const f = buildUdpFrame({ ...base, srcIp: 'fd00::1', dstIp: 'fd00::2', payload: new Uint8Array(40).fill(7) });
    expect(hex(f.subarray(12, 14))).toBe('86dd');
    const ip = f.subarray(14, 54);
    expect(ip[0]).toBe(0x60);
    expect(hex(ip.subarray(4, 8))).toBe('0030' + '11' + '40');
    expect(ip.subarray(8, 24)).toEqual(parseIpv6('fd00::1'));
    const udp = f.subarray(54);
    expect(udp.length).toBe(48);
    expect(onesSum([ip.subarray(8, 40), udp], 17 + udp.length)).toBe(0xffff);
    expect(udp[6]! | udp[7]!).not.toBe(0);
  });

  it('refuses what it cannot build: a bad MAC, mixed families, a bad port', () => {
    expect(() => buildUdpFrame({ ...base, dstMac: '02:00:00:00:0b', srcIp: '10.1.2.3', dstIp: '10.1.2.4' })).toThrow(/bad MAC address/);
    expect(() => buildUdpFrame({ ...base, srcIp: '10.1.2.3', dstIp: 'fd00::2' })).toThrow(/bad IPv6 source address/);
    expect(() => buildUdpFrame({ ...base, srcPort: 0, srcIp: '10.1.2.3', dstIp: '10.1.2.4' })).toThrow(/bad UDP port 0/);
  });
});
