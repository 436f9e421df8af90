// Byte-exact GARP and NA frames. The vectors were checked field by field by hand and decoded
// by tcpdump -vvv ("Request who-has 192.168.1.100 (ff:ff:ff:ff:ff:ff) tell 192.168.1.100",
// "Reply 192.168.1.100 is-at 52:54:00:12:34:56", "[icmp6 sum ok] ... neighbor advertisement,
// tgt is 2001:db8::100, Flags [override]", "Flags [router, override]").
import { describe, expect, it } from 'vitest';
import { parseIpv6 } from '../../../src/lib/ip';
import { buildGratuitousArp } from '../../../src/net/arp';
import { buildUnsolicitedNa, icmpv6Checksum } from '../../../src/net/ndisc';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const MAC = '52:54:00:12:34:56';

describe('gratuitous ARP', () => {
  it('request, as keepalived sends it', () => {
    expect(hex(buildGratuitousArp(MAC, '192.168.1.100'))).toBe(
      [
        'ffffffffffff', '525400123456', '0806', // Ethernet: broadcast, from us, ARP
        '0001', '0800', '06', '04', '0001', // Ethernet/IPv4, lengths 6/4, op request
        '525400123456', 'c0a80164', // sender: our MAC, the VIP
        'ffffffffffff', 'c0a80164', // target: broadcast, the VIP
      ].join(''),
    );
  });

  it('reply (RFC 2002 4.6: target hardware address = sender)', () => {
    expect(hex(buildGratuitousArp(MAC, '192.168.1.100', 'reply'))).toBe(
      'ffffffffffff5254001234560806' + '0001080006040002' + '525400123456c0a80164' + '525400123456c0a80164',
    );
  });

  it('rejects bad input', () => {
    expect(() => buildGratuitousArp('52:54:00:12:34', '192.168.1.1')).toThrow(/MAC/);
    expect(() => buildGratuitousArp(MAC, '192.168.1.256')).toThrow(/IPv4/);
  });
});

describe('unsolicited neighbour advertisement', () => {
  const expected = (flags: string, checksum: string) =>
    [
      '333300000001', '525400123456', '86dd', // Ethernet: all-nodes multicast, from us, IPv6
      '60000000', '0020', '3a', 'ff', // IPv6: payload 32, ICMPv6, hop limit 255
      '20010db8000000000000000000000100', // source: the VIP
      'ff020000000000000000000000000001', // destination: ff02::1
      '88', '00', checksum, flags, '000000', // type 136, code 0, checksum, R/S/O flags
      '20010db8000000000000000000000100', // target
      '02', '01', '525400123456', // target link-layer address option
    ].join('');

  it('with Override, without Router', () => {
    expect(hex(buildUnsolicitedNa({ mac: MAC, target: '2001:db8::100' }))).toBe(expected('20', '7271'));
  });

  it('with Router and Override', () => {
    expect(hex(buildUnsolicitedNa({ mac: MAC, target: '2001:db8::100', router: true }))).toBe(expected('a0', 'f270'));
  });

  it('checksum verifies to zero over pseudo-header and message', () => {
    const f = buildUnsolicitedNa({ mac: MAC, target: '2001:db8::100', source: 'fe80::1' });
    const src = parseIpv6('fe80::1')!;
    const dst = parseIpv6('ff02::1')!;
    // Summing a message that includes its own checksum gives 0xffff, i.e. ~sum == 0.
    expect(icmpv6Checksum(src, dst, f.subarray(54))).toBe(0);
    expect(hex(f.subarray(22, 38))).toBe('fe800000000000000000000000000001');
  });
});
