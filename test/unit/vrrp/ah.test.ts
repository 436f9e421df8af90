// IPsec AH (VRRPv2 auth type 2): structure checks, the instance-level checks of validateAdvert
// and keepalived's sequence-number rules (AhSequence), on datagrams sealed here.

import { describe, expect, it } from 'vitest';
import { AhSequence, ahIcv, ahKeyFromPassword, decodeAhAdvert, parseAhDatagram, sealAhAdvert } from '../../../src/vrrp/ah.js';
import { hmacMd5 } from '../../../src/ha/vrrp/ah-crypto.js';
import { AUTH_AH, AUTH_PASS, authDataFromPassword, decodeAdvert, encodeAdvert } from '../../../src/vrrp/packet.js';
import { validateAdvert, type AdvertExpectation } from '../../../src/vrrp/validate.js';
import type { Advert } from '../../../src/vrrp/types.js';

const KEY = ahKeyFromPassword('s3cret');
const vrrp = (priority = 100, authType = AUTH_AH) =>
  encodeAdvert({ version: 2, family: 4, vrid: 9, priority, advertIntervalCs: 100, addresses: ['10.0.0.100'], authType });
const seal = (over: Partial<Parameters<typeof sealAhAdvert>[0]> = {}) =>
  sealAhAdvert({ vrrp: vrrp(), source: '10.0.0.1', destination: '224.0.0.18', ipId: 1, sequence: 1, key: KEY, hmacMd5, unicast: false, ...over });
const multicastOnly = (d: string) => !d.startsWith('224.');

function advertOf(datagram: Uint8Array): Advert {
  const r = decodeAhAdvert(datagram, multicastOnly);
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.advert;
}

const expect9: AdvertExpectation = { vrid: 9, version: 2, authType: AUTH_AH, authData: KEY, hmacMd5, advertIntervalCs: 100, addresses: ['10.0.0.100'], ownAddresses: ['10.0.0.2'] };

describe('parseAhDatagram / decodeAhAdvert: structure', () => {
  it('splits IP, AH and VRRP', () => {
    const p = parseAhDatagram(seal({ sequence: 0x01020304 }));
    if (!p.ok) throw new Error(p.detail);
    expect(p.datagram.envelope.sequence).toBe(0x01020304);
    expect(p.datagram.envelope.spi).toBe(0x0a000001);
    expect(p.datagram.vrrp).toEqual(vrrp());
  });

  it('verifies a Node Buffer as the socket delivers it, without changing it (Buffer.slice is a view)', () => {
    const d = Buffer.from(seal());
    const before = d.toString('hex');
    expect(validateAdvert(advertOf(d), expect9).accept).toBe(true);
    expect(d.toString('hex')).toBe(before);
  });

  it('cuts link-layer padding off by the IP total length, and the ICV still verifies', () => {
    const d = seal();
    const padded = new Uint8Array(d.length + 6);
    padded.set(d);
    const a = advertOf(padded);
    expect(a.ah!.datagram.length).toBe(d.length);
    expect(validateAdvert(a, expect9).accept).toBe(true);
  });

  const broken: [string, (d: Uint8Array) => Uint8Array, string][] = [
    ['shorter than the AH header', (d) => { const c = d.slice(0, 30); c[3] = 30; return c; }, 'short'],
    ['not protocol 51', (d) => { d[9] = 112; return d; }, 'ah'],
    ['AH protecting TCP, not VRRP', (d) => { d[20] = 6; return d; }, 'ah'],
    ['an AH length other than HMAC-96', (d) => { d[21] = 6; return d; }, 'ah'],
    ['IP total length beyond the bytes received', (d) => { d[3] = d[3]! + 4; return d; }, 'length'],
    ['a VRRP message with a bad checksum inside', (d) => { d[44 + 7] = d[44 + 7]! ^ 1; return d; }, 'checksum'],
  ];
  it.each(broken)('%s is dropped as %s', (_name, mutate, reason) => {
    const r = decodeAhAdvert(mutate(seal()), multicastOnly);
    expect(r.ok ? 'ok' : r.reason).toBe(reason);
  });

  it('a TTL below 255 on multicast is dropped before any crypto', () => {
    const r = decodeAhAdvert(seal({ ttl: 64 }), multicastOnly);
    expect(r.ok ? 'ok' : r.reason).toBe('ttl');
  });

  it('sealAhAdvert refuses an IP ID of 0 (the kernel would replace it after the ICV)', () => {
    expect(() => seal({ ipId: 0 })).toThrow(RangeError);
  });
});

describe('validateAdvert with auth type AH', () => {
  it('accepts a good advert', () => {
    expect(validateAdvert(advertOf(seal()), expect9, undefined, new AhSequence())).toEqual({ accept: true, warnings: [] });
  });

  it('refuses a plain advert (no AH) when the instance expects AH, and an AH advert when it does not', () => {
    const plain = decodeAdvert(vrrp(100, AUTH_AH), { family: 4, source: '10.0.0.1', destination: '224.0.0.18', ttl: 255 });
    if (!plain.ok) throw new Error(plain.detail);
    expect(validateAdvert(plain.advert, expect9)).toMatchObject({ accept: false, reason: 'auth-type-mismatch', alarm: true });
    const pass = { ...expect9, authType: AUTH_PASS, authData: authDataFromPassword('s3cret') };
    expect(validateAdvert(advertOf(seal()), pass)).toMatchObject({ accept: false, reason: 'auth-type-mismatch' });
    expect(validateAdvert(advertOf(seal()), { ...expect9, authType: 0 })).toMatchObject({ accept: false, reason: 'auth-type-mismatch' });
  });

  it('refuses AH around a VRRP message whose own auth type is not 2', () => {
    expect(validateAdvert(advertOf(seal({ vrrp: vrrp(100, 0) })), expect9)).toMatchObject({ accept: false, reason: 'auth-type-mismatch' });
  });

  it('any changed immutable field breaks the ICV: source, destination, IP ID, sequence, the VRRP message', () => {
    const d = seal();
    const changes: [string, (c: Uint8Array) => void][] = [
      ['source', (c) => { c[15] = 7; }],
      ['destination', (c) => { c[19] = 19; }],
      ['IP ID', (c) => { c[5] = 2; }],
      ['sequence', (c) => { c[31] = 2; }],
      // A priority-200 message with a correct VRRP checksum spliced in: only the ICV can tell.
      ['VRRP message', (c) => { c.set(vrrp(200), 44); }],
    ];
    for (const [what, change] of changes) {
      const c = d.slice();
      change(c);
      const r = decodeAhAdvert(c, multicastOnly);
      if (!r.ok) throw new Error(`${what}: ${r.detail}`);
      const verdict = validateAdvert(r.advert, { ...expect9, ownAddresses: [] });
      expect(verdict, what).toMatchObject({ accept: false, reason: 'auth' });
    }
  });

  it('mutable fields (TOS, flags, header checksum) may change on the way', () => {
    const c = seal();
    c[1] = 0;
    c[6] = 0x40; // DF set by a middlebox
    c[10] = 0x12;
    expect(validateAdvert(advertOf(c), expect9).accept).toBe(true);
  });

  it('refuses an SPI that is not the sender (keepalived: "invalid IPSEC SPI value")', () => {
    // Sealed by a holder of the key with another SPI: the ICV is fine, the SPI is not.
    const forged = seal();
    forged[27] = 9;
    forged.set(ahIcv(forged, KEY, false, hmacMd5), 32);
    expect(validateAdvert(advertOf(forged), expect9)).toMatchObject({ accept: false, reason: 'auth', detail: expect.stringContaining('SPI 10.0.0.9') });
  });

  it('unicast instances leave the TTL out of the ICV; multicast ones do not', () => {
    const uni = { ...expect9, unicastPeers: ['10.0.0.1'] };
    const d = seal({ destination: '10.0.0.2', unicast: true, ttl: 250 });
    const r = decodeAhAdvert(d, () => true);
    if (!r.ok) throw new Error(r.detail);
    expect(validateAdvert(r.advert, uni).accept).toBe(true);
    expect(validateAdvert(r.advert, expect9)).toMatchObject({ accept: false, reason: 'auth' });
  });

  it('authentication comes before the interval check, as in keepalived', () => {
    expect(validateAdvert(advertOf(seal()), { ...expect9, advertIntervalCs: 200 })).toMatchObject({ reason: 'interval-mismatch' });
    expect(validateAdvert(advertOf(seal()), { ...expect9, advertIntervalCs: 200, authData: ahKeyFromPassword('x') })).toMatchObject({ reason: 'auth' });
  });
});

describe('AhSequence: keepalived seq_counter_t', () => {
  it('sending counts from 1; IP IDs count from 1 and skip 0 when they wrap', () => {
    const s = new AhSequence();
    expect(s.next()).toEqual({ sequence: 1, ipId: 1 });
    expect(s.next()).toEqual({ sequence: 2, ipId: 2 });
    for (let i = 0; i < 0xffff - 2; i++) s.next();
    expect(s.next().ipId).toBe(1);
  });

  it('accepts only numbers above the counter, which then takes them (one counter both ways)', () => {
    const s = new AhSequence();
    expect(s.accept(5)).toBe(true);
    expect(s.accept(5)).toBe(false);
    expect(s.accept(4)).toBe(false);
    expect(s.next().sequence).toBe(6);
    expect(s.accept(6)).toBe(false);
    expect(s.accept(7)).toBe(true);
  });

  it('a master hearing a lower priority takes its number + 1, so its next advert passes the peer', () => {
    const s = new AhSequence();
    for (let i = 0; i < 10; i++) s.next();
    s.syncFromLower(100);
    const n = s.next().sequence;
    expect(n).toBe(102);
    // The peer's counter is at 100 (it sent 100): ours passes its replay check.
    const peer = new AhSequence();
    peer.accept(100);
    expect(peer.accept(n)).toBe(true);
  });

  it('stops at 0xFFFFFFFE (cycled) and restarts from 1 when becoming MASTER', () => {
    const s = new AhSequence();
    s.accept(0xfffffffe);
    expect(s.next().sequence).toBe(0xfffffffe);
    expect(s.next().sequence).toBe(0xfffffffe);
    s.becomeMaster();
    expect(s.next().sequence).toBe(1);
  });

  it('becomeMaster does not reset a counter that has not cycled', () => {
    const s = new AhSequence();
    s.accept(40);
    s.becomeMaster();
    expect(s.next().sequence).toBe(41);
  });
});
