import { describe, expect, it } from 'vitest';
import { DECODE_DROP_REASONS, type DecodeDropReason } from '../../../src/vrrp/drop-reasons.js';
import { pseudoHeaderSum, vrrpChecksum } from '../../../src/vrrp/checksum.js';
import { parseIpv4 } from '../../../src/lib/ip.js';
import { ahKeyFromPassword, decodeAhAdvert, sealAhAdvert } from '../../../src/vrrp/ah.js';
import { hmacMd5 } from '../../../src/ha/vrrp/ah-crypto.js';
import {
  authDataFromPassword,
  checkEncodeParams,
  decodeAdvert,
  encodeAdvert,
  parseIpv4Packet,
  type DecodeContext,
  type EncodeParams,
} from '../../../src/vrrp/packet.js';

const V4: DecodeContext = { family: 4, source: '10.0.0.1', destination: '224.0.0.18', ttl: 255 };
const V6: DecodeContext = { family: 6, source: 'fe80::1', destination: 'ff02::12', hopLimit: 255 };

const v2: EncodeParams = { version: 2, family: 4, vrid: 7, priority: 100, advertIntervalCs: 100, addresses: ['10.0.0.100'] };
const v3: EncodeParams = { version: 3, family: 4, vrid: 7, priority: 100, advertIntervalCs: 100, addresses: ['10.0.0.100'], source: '10.0.0.1', destination: '224.0.0.18' };
const v3six: EncodeParams = { version: 3, family: 6, vrid: 9, priority: 200, advertIntervalCs: 25, addresses: ['fe80::100', '2001:db8::1'], source: 'fe80::1', destination: 'ff02::12' };

/** Rewrites the checksum of a v2 message so only the field under test is wrong. */
function refreshV2(m: Uint8Array): Uint8Array {
  const s = vrrpChecksum(m);
  m[6] = s >> 8;
  m[7] = s & 0xff;
  return m;
}
function refreshV3v4(m: Uint8Array, src = '10.0.0.1', dst = '224.0.0.18'): Uint8Array {
  const s = vrrpChecksum(m, pseudoHeaderSum(4, parseIpv4(src)!, parseIpv4(dst)!, m.length));
  m[6] = s >> 8;
  m[7] = s & 0xff;
  return m;
}

function reasonOf(bytes: Uint8Array, ctx: DecodeContext): DecodeDropReason | 'ok' {
  const r = decodeAdvert(bytes, ctx);
  return r.ok ? 'ok' : r.reason;
}

describe('decodeAdvert: every drop reason from a crafted packet', () => {
  const crafted: Record<DecodeDropReason, () => DecodeDropReason | 'ok'> = {
    short: () => reasonOf(encodeAdvert(v2).subarray(0, 7), V4),
    ttl: () => reasonOf(encodeAdvert(v2), { ...V4, ttl: 254 }),
    version: () => {
      const m = encodeAdvert(v2);
      m[0] = 0x41;
      return reasonOf(refreshV2(m), V4);
    },
    type: () => {
      const m = encodeAdvert(v2);
      m[0] = 0x22;
      return reasonOf(refreshV2(m), V4);
    },
    length: () => reasonOf(encodeAdvert({ ...v2, addresses: ['10.0.0.100', '10.0.0.101'] }).subarray(0, 20), V4),
    checksum: () => {
      const m = encodeAdvert(v2);
      m[7] = m[7]! ^ 1;
      return reasonOf(m, V4);
    },
    'auth-type': () => {
      const m = encodeAdvert(v2);
      m[4] = 3;
      return reasonOf(refreshV2(m), V4);
    },
    interval: () => {
      const m = encodeAdvert(v3);
      m[4] = 0;
      m[5] = 0;
      return reasonOf(refreshV3v4(m), V4);
    },
    family: () => reasonOf(encodeAdvert(v2), { ...V4, source: 'fe80::1' }),
    // AH datagrams (IP protocol 51) go through decodeAhAdvert: an AH not protecting VRRP.
    ah: () => {
      const d = sealAhAdvert({ vrrp: encodeAdvert({ ...v2, authType: 2 }), source: '10.0.0.1', destination: '224.0.0.18', ipId: 1, sequence: 1, key: ahKeyFromPassword('k'), hmacMd5, unicast: false });
      d[20] = 6;
      const r = decodeAhAdvert(d, () => false);
      return r.ok ? 'ok' : r.reason;
    },
  };

  for (const reason of DECODE_DROP_REASONS) {
    it(`'${reason}'`, () => {
      expect(crafted[reason]()).toBe(reason);
    });
  }

  it('the crafted packets were otherwise valid: the base packets decode', () => {
    expect(reasonOf(encodeAdvert(v2), V4)).toBe('ok');
    expect(reasonOf(encodeAdvert(v3), V4)).toBe('ok');
    expect(reasonOf(encodeAdvert(v3six), V6)).toBe('ok');
  });

  it('gives a detail for the log line', () => {
    const r = decodeAdvert(encodeAdvert(v2), { ...V4, ttl: 64 });
    expect(r).toEqual({ ok: false, reason: 'ttl', detail: 'TTL 64, must be 255' });
  });

  it('refuses VRRPv2 over IPv6 as a version error', () => {
    const m = encodeAdvert(v3six);
    m[0] = 0x21;
    const r = decodeAdvert(m, V6);
    expect(!r.ok && r.reason).toBe('version');
  });

  it('refuses trailing bytes (keepalived compares the exact length)', () => {
    const m = encodeAdvert(v2);
    const longer = new Uint8Array(m.length + 4);
    longer.set(m);
    expect(reasonOf(longer, V4)).toBe('length');
  });

  it('an unreadable source is a family error, not an exception', () => {
    expect(reasonOf(encodeAdvert(v2), { ...V4, source: 'not an address' })).toBe('family');
    expect(reasonOf(encodeAdvert(v2), { ...V4, source: new Uint8Array(3) })).toBe('family');
    expect(reasonOf(encodeAdvert(v2), { ...V4, family: 5 as 4 })).toBe('family');
  });
});

describe('TTL / hop limit rule', () => {
  it('checked when known and multicast', () => {
    const r = decodeAdvert(encodeAdvert(v2), V4);
    expect(r.ok && r.ttlCheck).toBe('checked');
  });
  it('skipped for unicast, as keepalived does', () => {
    const r = decodeAdvert(encodeAdvert(v2), { ...V4, destination: '10.0.0.2', ttl: 61, unicast: true });
    expect(r.ok && r.ttlCheck).toBe('skipped-unicast');
  });
  it('reported as unavailable when the transport cannot read it', () => {
    const r = decodeAdvert(encodeAdvert(v2), { ...V4, ttl: undefined });
    expect(r.ok && r.ttlCheck).toBe('unavailable');
  });
  it('IPv6 hop limit goes through the same rule', () => {
    expect(reasonOf(encodeAdvert(v3six), { ...V6, hopLimit: 1 })).toBe('ttl');
  });
});

describe('VRRPv2 simple password', () => {
  it('is zero-padded to 8 bytes on the wire', () => {
    const m = encodeAdvert({ ...v2, authType: 1, authData: authDataFromPassword('ab') });
    expect(Buffer.from(m.subarray(12)).toString('hex')).toBe('6162000000000000');
    const r = decodeAdvert(m, V4);
    expect(r.ok && r.advert.authType).toBe(1);
    expect(r.ok && Buffer.from(r.advert.authData!).toString('latin1')).toBe('ab\0\0\0\0\0\0');
  });
  it('is truncated to 8 bytes like keepalived ("Truncating auth_pass to 8 characters")', () => {
    expect(Buffer.from(authDataFromPassword('longpassword123')).toString('latin1')).toBe('longpass');
  });
  it('an exactly 8-byte password fills the field', () => {
    expect(Buffer.from(authDataFromPassword('12345678')).toString('latin1')).toBe('12345678');
  });
  it('no auth: eight zero bytes', () => {
    const r = decodeAdvert(encodeAdvert(v2), V4);
    expect(r.ok && [...r.advert.authData!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('the encoder refuses more than 8 bytes of auth data rather than cutting silently', () => {
    expect(() => encodeAdvert({ ...v2, authType: 1, authData: new Uint8Array(9) })).toThrow(/at most 8/);
  });
});

describe('advert interval fields', () => {
  it('v3: 12 bits of centiseconds, 1 and 4095 round-trip', () => {
    for (const cs of [1, 255, 256, 4095]) {
      const r = decodeAdvert(encodeAdvert({ ...v3, advertIntervalCs: cs }), V4);
      expect(r.ok && r.advert.advertIntervalCs).toBe(cs);
    }
  });
  it('v3: 0 and 4096 are refused by the encoder', () => {
    expect(checkEncodeParams({ ...v3, advertIntervalCs: 0 })).toEqual(['VRRPv3 advert interval 0 cs is not 1..4095']);
    expect(() => encodeAdvert({ ...v3, advertIntervalCs: 4096 })).toThrow(RangeError);
  });
  it('v3: the reserved nibble is ignored on receive (RFC 5798 5.2.6)', () => {
    const m = encodeAdvert({ ...v3, advertIntervalCs: 4095 });
    m[4]! |= 0xf0;
    const r = decodeAdvert(refreshV3v4(m), V4);
    expect(r.ok && r.advert.advertIntervalCs).toBe(4095);
  });
  it('v2: whole seconds 1..255, carried as centiseconds', () => {
    const r = decodeAdvert(encodeAdvert({ ...v2, advertIntervalCs: 25500 }), V4);
    expect(r.ok && r.advert.advertIntervalCs).toBe(25500);
    expect(checkEncodeParams({ ...v2, advertIntervalCs: 150 })).toHaveLength(1);
    expect(checkEncodeParams({ ...v2, advertIntervalCs: 25600 })).toHaveLength(1);
  });
});

describe('VRRPv3 IPv4 checksum dialects', () => {
  it('rfc5798 (pseudo-header) is the default and reported', () => {
    const r = decodeAdvert(encodeAdvert(v3), V4);
    expect(r.ok && r.advert.checksumDialect).toBe('rfc5798');
  });
  it('v2-compatible (RFC 9568, Cisco, keepalived v3_checksum_as_v2) is accepted and reported', () => {
    const m = encodeAdvert({ ...v3, checksumDialect: 'v2-compatible', source: undefined, destination: undefined });
    expect(vrrpChecksum(m)).toBe((m[6]! << 8) | m[7]!);
    const r = decodeAdvert(m, V4);
    expect(r.ok && r.advert.checksumDialect).toBe('v2-compatible');
  });
  it('old-unicast (group in the pseudo-header of a unicast advert) is accepted and reported', () => {
    const m = encodeAdvert({ ...v3, checksumDialect: 'old-unicast', destination: undefined });
    const r = decodeAdvert(m, { ...V4, destination: '10.0.0.2', unicast: true });
    expect(r.ok && r.advert.checksumDialect).toBe('old-unicast');
  });
  it('a pseudo-header with the wrong source fails every dialect', () => {
    expect(reasonOf(encodeAdvert(v3), { ...V4, source: '10.0.0.9' })).toBe('checksum');
  });
  it('IPv6 has only the pseudo-header form', () => {
    expect(checkEncodeParams({ ...v3six, checksumDialect: 'v2-compatible' })).toContain('checksum dialect v2-compatible exists only for IPv4');
    const m = encodeAdvert(v3six);
    const s = vrrpChecksum(m);
    m[6] = s >> 8;
    m[7] = s & 0xff;
    expect(reasonOf(m, V6)).toBe('checksum');
  });
});

describe('IPv6 adverts', () => {
  it('decode addresses to RFC 5952 text, with the source canonicalised', () => {
    const m = encodeAdvert({ ...v3six, addresses: ['FE80:0:0:0:0:0:0:100', '2001:0db8:0000:0000:0001:0000:0000:0010', '::ffff:10.0.0.1'] });
    const r = decodeAdvert(m, { ...V6, source: 'FE80::0001%lan0' });
    expect(r.ok && r.advert.addresses).toEqual(['fe80::100', '2001:db8::1:0:0:10', '::ffff:10.0.0.1']);
    expect(r.ok && r.advert.source).toBe('fe80::1');
  });
  it('count 0 is a valid VRRPv3 advert (keepalived allows no VIPs in v3)', () => {
    const r = decodeAdvert(encodeAdvert({ ...v3six, addresses: [] }), V6);
    expect(r.ok && r.advert.addresses).toEqual([]);
  });
  it('a length that fits IPv4 addresses but not IPv6 is refused', () => {
    const m = encodeAdvert({ ...v3six, addresses: ['fe80::100'] });
    expect(reasonOf(m.subarray(0, 12), V6)).toBe('length');
  });
});

describe('encoder parameter checks', () => {
  it('names every problem', () => {
    const errors = checkEncodeParams({ version: 3, family: 6, vrid: 0, priority: 256, advertIntervalCs: 100, addresses: ['10.0.0.1'], authType: 1 });
    expect(errors).toEqual([
      'vrid 0 is not 1..255',
      'priority 256 is not 0..255',
      'address "10.0.0.1" is not IPv6',
      'VRRPv3 has no authentication',
      'VRRPv3 needs the source address for its checksum',
      'VRRPv3 needs the destination address for its checksum',
    ]);
  });
  it('v2 is IPv4 only', () => {
    expect(checkEncodeParams({ ...v2, family: 6, addresses: [] })).toContain('VRRPv2 is IPv4 only');
  });
  it('priority 0 (stop) and 255 (owner) encode', () => {
    for (const priority of [0, 255]) {
      const r = decodeAdvert(encodeAdvert({ ...v2, priority }), V4);
      expect(r.ok && r.advert.priority).toBe(priority);
    }
  });
});

describe('parseIpv4Packet', () => {
  const datagram = (): Uint8Array => {
    const m = encodeAdvert(v2);
    const d = new Uint8Array(20 + m.length);
    d.set([0x45, 0xc0, 0, d.length, 0, 1, 0, 0, 255, 112, 0, 0, 10, 0, 0, 1, 224, 0, 0, 18]);
    d.set(m, 20);
    return d;
  };
  it('splits header and payload; padding beyond the total length is cut', () => {
    const padded = new Uint8Array(60);
    padded.set(datagram());
    const r = parseIpv4Packet(padded);
    expect(r.ok && r.packet.payload.length).toBe(20);
    expect(r.ok && r.packet.ttl).toBe(255);
  });
  it('refuses short, non-IPv4 and truncated datagrams', () => {
    expect(parseIpv4Packet(new Uint8Array(10))).toMatchObject({ ok: false, reason: 'short' });
    const six = datagram();
    six[0] = 0x65;
    expect(parseIpv4Packet(six)).toMatchObject({ ok: false, reason: 'family' });
    expect(parseIpv4Packet(datagram().subarray(0, 30))).toMatchObject({ ok: false, reason: 'length' });
    const badIhl = datagram();
    badIhl[0] = 0x44;
    expect(parseIpv4Packet(badIhl)).toMatchObject({ ok: false, reason: 'short' });
  });
});
