import { describe, expect, it } from 'vitest';
import { parseIpv4, parseIpv6 } from '../../../src/lib/ip.js';
import { checksumVerifies, finishChecksum, pseudoHeaderSum, sum16, vrrpChecksum } from '../../../src/vrrp/checksum.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('Internet checksum', () => {
  it('RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2', () => {
    const b = hex('0001f203f4f5f6f7');
    expect(finishChecksum(sum16(b, 0, b.length))).toBe(~0xddf2 & 0xffff);
  });

  it('pads an odd byte with zero on the right', () => {
    expect(finishChecksum(sum16(hex('ab'), 0, 1))).toBe(~0xab00 & 0xffff);
    expect(finishChecksum(sum16(hex('0001f2'), 0, 3))).toBe(~(0x0001 + 0xf200) & 0xffff);
  });

  it('folds carries of long inputs (64 KiB of 0xff)', () => {
    const b = new Uint8Array(65536).fill(0xff);
    // 32768 words of 0xffff sum to 0xffff after folding: checksum 0.
    expect(finishChecksum(sum16(b, 0, b.length))).toBe(0);
  });
});

describe('VRRP checksums, known answers from keepalived 2.2.7 captures', () => {
  it('VRRPv2: over the message only (RFC 3768 5.3.8)', () => {
    // vrid 51, prio 150, 1 VIP 10.99.0.100, no auth, advert_int 1: keepalived sent 3e03.
    const m = hex('2133 9601 0001 0000 0a63 0064 0000 0000 0000 0000');
    expect(vrrpChecksum(m)).toBe(0x3e03);
    m[6] = 0x3e;
    m[7] = 0x03;
    expect(checksumVerifies(m)).toBe(true);
  });

  it('VRRPv3 IPv4: with the pseudo-header 10.99.0.1 -> 224.0.0.18, proto 112, length 16', () => {
    const m = hex('313d 9602 0032 0000 0a63 0064 0a63 0065');
    const pseudo = pseudoHeaderSum(4, parseIpv4('10.99.0.1')!, parseIpv4('224.0.0.18')!, m.length);
    expect(vrrpChecksum(m, pseudo)).toBe(0x3808);
    // Without it (the RFC 9568 / v3_checksum_as_v2 reading) the value differs.
    expect(vrrpChecksum(m)).not.toBe(0x3808);
  });

  it('VRRPv3 IPv6: pseudo-header per RFC 2460 8.1, fe80::ff:fe00:1 -> ff02::12', () => {
    const m = hex(
      '3147 9603 0064 0000' +
        'fe80 0000 0000 0000 0000 0000 0001 0100' +
        'fd00 0099 0000 0000 0000 0000 0000 0100' +
        '2001 0db8 0000 0000 0001 0000 0000 0010',
    );
    const pseudo = pseudoHeaderSum(6, parseIpv6('fe80::ff:fe00:1')!, parseIpv6('ff02::12')!, m.length);
    expect(vrrpChecksum(m, pseudo)).toBe(0x0f2c);
  });

  it('keepalived old_unicast_checksum sums the group 224.0.0.18, not the unicast peer', () => {
    const m = hex('3140 9601 0064 0000 0a63 0064');
    const src = parseIpv4('10.99.0.1')!;
    expect(vrrpChecksum(m, pseudoHeaderSum(4, src, parseIpv4('224.0.0.18')!, m.length))).toBe(0x42a0);
    expect(vrrpChecksum(m, pseudoHeaderSum(4, src, parseIpv4('10.99.0.2')!, m.length))).not.toBe(0x42a0);
  });

  it('ignores whatever the checksum field holds when computing', () => {
    const a = hex('2133 9601 0001 0000 0a63 0064 0000 0000 0000 0000');
    const b = hex('2133 9601 0001 beef 0a63 0064 0000 0000 0000 0000');
    expect(vrrpChecksum(a)).toBe(vrrpChecksum(b));
  });
});
