import { describe, expect, it } from 'vitest';
import { canonicalAddress, familyOf, formatIpv6, parseCidr, parseIpv4, parseIpv6 } from '../../../src/lib/ip';
import { parseMac } from '../../../src/net/arp';

describe('address parsing', () => {
  it('IPv4', () => {
    expect([...parseIpv4('10.0.0.255')!]).toEqual([10, 0, 0, 255]);
    for (const bad of ['10.0.0', '10.0.0.256', '10.0.0.01', '1.2.3.4.5', 'a.b.c.d', '']) expect(parseIpv4(bad)).toBeUndefined();
  });

  it('IPv6 and its RFC 5952 form (as inet_ntop prints it)', () => {
    const cases: [string, string][] = [
      ['FE80::0:1', 'fe80::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0db8::0001', '2001:db8::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['ff02::12', 'ff02::12'],
      ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
      ['::ffff:10.1.2.3', '::ffff:10.1.2.3'],
      ['fe80::1%eth0', 'fe80::1'],
    ];
    for (const [input, out] of cases) expect(formatIpv6(parseIpv6(input)!)).toBe(out);
    for (const bad of ['1::2::3', ':::', '12345::', '1:2:3:4:5:6:7:8:9', 'g::1', '1:2:3:4:5:6:7']) expect(parseIpv6(bad)).toBeUndefined();
  });

  it('canonical addresses, family and CIDR', () => {
    expect(canonicalAddress('2001:DB8::0100')).toBe('2001:db8::100');
    expect(canonicalAddress('fe80::1%lan0')).toBe('fe80::1');
    expect(canonicalAddress('nonsense')).toBeUndefined();
    expect([familyOf('10.0.0.1'), familyOf('fe80::1%lan0'), familyOf('x')]).toEqual([4, 6, undefined]);
    expect(parseCidr('10.0.0.1/24')).toEqual({ address: '10.0.0.1', prefixLength: 24, family: 4 });
    expect(parseCidr('fd00::1')).toEqual({ address: 'fd00::1', prefixLength: 128, family: 6 });
    expect(parseCidr('::ffff:10.1.2.3/128')).toEqual({ address: '::ffff:10.1.2.3', prefixLength: 128, family: 6 });
    expect(parseCidr('10.0.0.1/33')).toBeUndefined();
    expect(parseCidr('10.0.0.1/24/1')).toBeUndefined();
    expect(parseCidr('fe80::1%lan0/64')).toBeUndefined();
  });

  it('MAC', () => {
    expect([...parseMac('52:54:00:AB:cd:0f')!]).toEqual([0x52, 0x54, 0, 0xab, 0xcd, 0x0f]);
    expect(parseMac('52:54:00:ab:cd')).toBeNull();
    expect(parseMac('52:54:00:ab:cd:0g')).toBeNull();
  });
});
