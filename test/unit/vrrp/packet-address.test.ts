// Address text <-> bytes. The reference is Node's own parser (node:net / WHATWG URL), which
// the core may not import but a test may.
import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIp, formatIpv6, parseIpv4, parseIpv6 } from '../../../src/lib/ip.js';

/** RFC 5952 text from the WHATWG URL serialiser (same rules except IPv4-mapped). */
function referenceIpv6(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let k = 0; k < 8; k++) groups.push(((bytes[2 * k]! << 8) | bytes[2 * k + 1]!).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

describe('IPv6 text', () => {
  it.each([
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 4.2.3: first of equal runs
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2: one 0 group stays
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'], // longest run wins
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['FF02::12', 'ff02::12'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // section 5
    ['::ffff:c000:0201', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['fe80::1%eth0', 'fe80::1'],
    ['1::', '1::'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ])('%s -> %s', (input, canonical) => {
    expect(canonicalIp(input, 6)).toBe(canonical);
  });

  it.each(['', ':', ':::', '1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', '1:2:', ':1:2::', '::1.2.3', '::1.2.3.04', '1.2.3.4', '1:2:3:4:5:6:7:8::'])(
    'refuses %j',
    (input) => {
      expect(parseIpv6(input)).toBeUndefined();
    },
  );

  it('matches the WHATWG serialiser on random addresses, and parses back (property)', () => {
    const groupish = fc.constantFrom(0, 0, 0, 1, 0xffff, 0x0db8, 0xfe80);
    fc.assert(
      fc.property(fc.array(groupish, { minLength: 8, maxLength: 8 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (gs, random, useRandom) => {
        const bytes = new Uint8Array(16);
        if (useRandom) bytes.set(random);
        else gs.forEach((g, k) => { bytes[2 * k] = g >> 8; bytes[2 * k + 1] = g & 0xff; });
        const text = formatIpv6(bytes);
        expect(isIPv6(text)).toBe(true);
        expect(parseIpv6(text)).toEqual(bytes);
        const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
        if (!mapped) expect(text).toBe(referenceIpv6(bytes));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('IPv4 text', () => {
  it('parses dotted quads', () => {
    expect([...parseIpv4('224.0.0.18')!]).toEqual([224, 0, 0, 18]);
    expect([...parseIpv4('0.0.0.0')!]).toEqual([0, 0, 0, 0]);
  });
  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', '1.2.3.4 ', '-1.2.3.4', '1.2.3.a'])('refuses %j', (s) => {
    expect(parseIpv4(s)).toBeUndefined();
  });
  it('agrees with node:net on random strings of digits and dots (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9.]{0,16}$/), (s) => {
        // node accepts nothing with leading zeros either (since Node 18).
        expect(parseIpv4(s) !== undefined).toBe(isIPv4(s));
      }),
      { numRuns: 5000 },
    );
  });
});
