import { describe, expect, it } from 'vitest';
import { ADVERT_WARNINGS, NOT_AN_ERROR, VALIDATE_DROP_REASONS, emptyDropCounters, emptyWarningCounters, DROP_REASONS } from '../../../src/vrrp/drop-reasons.js';
import { AhSequence, ahKeyFromPassword, decodeAhAdvert, sealAhAdvert } from '../../../src/vrrp/ah.js';
import { hmacMd5 } from '../../../src/ha/vrrp/ah-crypto.js';
import { authDataFromPassword, encodeAdvert } from '../../../src/vrrp/packet.js';
import type { Advert } from '../../../src/vrrp/types.js';
import { validateAdvert, type AdvertExpectation } from '../../../src/vrrp/validate.js';

const advertV2: Advert = {
  version: 2,
  family: 4,
  vrid: 51,
  priority: 150,
  advertIntervalCs: 100,
  addresses: ['10.99.0.100', '10.99.0.101'],
  authType: 1,
  authData: authDataFromPassword('tw1n'),
  source: '10.99.0.1',
};
const expectV2: AdvertExpectation = {
  vrid: 51,
  version: 2,
  authType: 1,
  authData: authDataFromPassword('tw1n'),
  advertIntervalCs: 100,
  addresses: ['10.99.0.101', '10.99.0.100'],
  ownAddresses: ['10.99.0.2'],
};
const advertV6: Advert = {
  version: 3,
  family: 6,
  vrid: 71,
  priority: 150,
  advertIntervalCs: 50,
  addresses: ['fe80::1:100', 'fd00:99::100'],
  authType: 0,
  source: 'fe80::ff:fe00:1',
  checksumDialect: 'rfc5798',
};
const expectV6: AdvertExpectation = {
  vrid: 71,
  version: 3,
  authType: 0,
  advertIntervalCs: 100,
  addresses: ['FE80::1:100', 'fd00:99:0::100'],
  ownAddresses: ['fe80::ff:fe00:2'],
};

describe('validateAdvert', () => {
  it('accepts a matching advert (address order does not matter; IPv6 text is compared canonically)', () => {
    expect(validateAdvert(advertV2, expectV2)).toEqual({ accept: true, warnings: [] });
    expect(validateAdvert(advertV6, expectV6)).toEqual({ accept: true, warnings: [] });
  });

  it("'vrid': another router's advert is dropped as not ours, not as an error", () => {
    const r = validateAdvert({ ...advertV2, vrid: 52 }, expectV2);
    expect(r).toMatchObject({ accept: false, reason: 'vrid', alarm: false });
    expect(NOT_AN_ERROR.has('vrid')).toBe(true);
  });

  it("'own-address': our own looped-back advert", () => {
    expect(validateAdvert({ ...advertV2, source: '10.99.0.2' }, expectV2)).toMatchObject({ accept: false, reason: 'own-address', alarm: false });
    expect(validateAdvert({ ...advertV6, source: 'fe80::ff:fe00:2' }, { ...expectV6, ownAddresses: ['FE80:0::FF:FE00:2'] })).toMatchObject({
      reason: 'own-address',
    });
  });

  it("'version-mismatch' raises an alarm", () => {
    expect(validateAdvert({ ...advertV2, version: 3 }, expectV2)).toMatchObject({ accept: false, reason: 'version-mismatch', alarm: true });
  });

  it("'auth-type-mismatch' raises an alarm", () => {
    expect(validateAdvert({ ...advertV2, authType: 0 }, expectV2)).toMatchObject({ accept: false, reason: 'auth-type-mismatch', alarm: true });
  });

  it("'auth': wrong password, compared on the 8 zero-padded bytes", () => {
    expect(validateAdvert({ ...advertV2, authData: authDataFromPassword('tw1N') }, expectV2)).toMatchObject({ accept: false, reason: 'auth', alarm: true });
    // keepalived truncates a long auth_pass to 8 bytes on both sides, so these match.
    const long = { ...advertV2, authData: authDataFromPassword('longpassXYZ') };
    expect(validateAdvert(long, { ...expectV2, authData: authDataFromPassword('longpass123') }).accept).toBe(true);
    // Trailing garbage after the password's zero padding is a mismatch, like keepalived's memcmp.
    const garbage = authDataFromPassword('tw1n');
    garbage[7] = 1;
    expect(validateAdvert({ ...advertV2, authData: garbage }, expectV2)).toMatchObject({ reason: 'auth' });
  });

  it("'auth-type-mismatch': auth type 2 outside IPsec AH (keepalived: \"No AH header but auth type is AH\")", () => {
    expect(validateAdvert({ ...advertV2, authType: 2 }, { ...expectV2, authType: 2 })).toMatchObject({ reason: 'auth-type-mismatch', detail: /AH/ });
  });

  it("'auth-replay': an AH sequence number not above the instance's counter (more in ah.test.ts)", () => {
    const key = ahKeyFromPassword('tw1n');
    const vrrp = encodeAdvert({ version: 2, family: 4, vrid: 51, priority: 150, advertIntervalCs: 100, addresses: advertV2.addresses, authType: 2 });
    const r = decodeAhAdvert(sealAhAdvert({ vrrp, source: '10.99.0.1', destination: '224.0.0.18', ipId: 1, sequence: 3, key, hmacMd5, unicast: false }), () => false);
    if (!r.ok) throw new Error(r.detail);
    const seq = new AhSequence();
    seq.accept(3);
    expect(validateAdvert(r.advert, { ...expectV2, authType: 2, authData: key, hmacMd5 }, undefined, seq)).toMatchObject({ reason: 'auth-replay', alarm: false });
  });

  it("'auth': an AH advert for an instance given no HMAC-MD5 is refused, not waved through", () => {
    const key = ahKeyFromPassword('tw1n');
    const vrrp = encodeAdvert({ version: 2, family: 4, vrid: 51, priority: 150, advertIntervalCs: 100, addresses: advertV2.addresses, authType: 2 });
    const r = decodeAhAdvert(sealAhAdvert({ vrrp, source: '10.99.0.1', destination: '224.0.0.18', ipId: 1, sequence: 3, key, hmacMd5, unicast: false }), () => false);
    if (!r.ok) throw new Error(r.detail);
    expect(validateAdvert(r.advert, { ...expectV2, authType: 2, authData: key, hmacMd5 })).toMatchObject({ accept: true });
    expect(validateAdvert(r.advert, { ...expectV2, authType: 2, authData: key })).toMatchObject({ accept: false, reason: 'auth', alarm: true, detail: /no HMAC-MD5/ });
  });

  it("'interval-mismatch' (v2): dropped, flagged for an alarm (keepalived drops silently)", () => {
    const r = validateAdvert({ ...advertV2, advertIntervalCs: 200 }, expectV2);
    expect(r).toEqual({ accept: false, reason: 'interval-mismatch', detail: 'advert interval 2 s, ours is 1 s', alarm: true, warnings: [] });
  });

  it('v3: a different interval is accepted (the backup learns the master interval, RFC 5798 6.4.2)', () => {
    expect(validateAdvert(advertV6, { ...expectV6, advertIntervalCs: 300 }).accept).toBe(true);
  });

  it('v3: the auth fields are not compared', () => {
    expect(validateAdvert(advertV6, { ...expectV6, authType: 1 }).accept).toBe(true);
  });

  it("'unicast-source': only configured peers when a peer list is given", () => {
    expect(validateAdvert(advertV2, { ...expectV2, unicastPeers: ['10.99.0.9'] })).toMatchObject({ accept: false, reason: 'unicast-source' });
    expect(validateAdvert(advertV2, { ...expectV2, unicastPeers: ['10.99.0.1'] }).accept).toBe(true);
    expect(validateAdvert(advertV2, { ...expectV2, unicastPeers: [] }).accept).toBe(true);
  });

  it("'address-list' by default (keepalived 2.2.7): dropped with an alarm, from any priority, with both lists in the detail", () => {
    expect(validateAdvert({ ...advertV2, addresses: ['10.99.0.100'] }, expectV2)).toMatchObject({
      accept: false,
      reason: 'address-list',
      detail: 'address list [10.99.0.100] differs from ours [10.99.0.101, 10.99.0.100]: missing 10.99.0.101',
      alarm: true,
    });
    // keepalived 2.2.7 drops it from an address owner too (RFC 3768 7.1 would let it through):
    // a stray priority-255 advert with someone else's VIPs must not move ours either.
    expect(validateAdvert({ ...advertV2, priority: 255, addresses: ['10.99.0.100'] }, expectV2)).toMatchObject({ accept: false, reason: 'address-list' });
    const foreign = validateAdvert({ ...advertV2, priority: 254, addresses: ['10.88.0.200'] }, expectV2);
    expect(foreign).toMatchObject({ reason: 'address-list', detail: /\[10\.88\.0\.200\] differs from ours .*missing 10\.99\.0\.101, 10\.99\.0\.100; unexpected 10\.88\.0\.200/ });
    const duplicated = validateAdvert({ ...advertV2, addresses: ['10.99.0.100', '10.99.0.101', '10.99.0.101'] }, expectV2);
    expect(duplicated).toMatchObject({ reason: 'address-list', detail: /3 addresses listed, we have 2/ });
    expect(validateAdvert(advertV2, { ...expectV2, addressListPolicy: 'drop' })).toEqual({ accept: true, warnings: [] });
  });

  it("'address-list' under the lenient 'accept': accepted with a warning (a warning, not a drop)", () => {
    const accept = { ...expectV2, addressListPolicy: 'accept' as const };
    const missing = validateAdvert({ ...advertV2, addresses: ['10.99.0.100'] }, accept);
    expect(missing).toEqual({
      accept: true,
      warnings: [{ warning: 'address-list', detail: 'address list [10.99.0.100] differs from ours [10.99.0.101, 10.99.0.100]: missing 10.99.0.101' }],
    });
    const extra = validateAdvert({ ...advertV2, addresses: ['10.99.0.100', '10.99.0.101', '10.99.0.7'] }, accept);
    expect(extra.accept).toBe(true);
    expect(extra.warnings[0]?.detail).toMatch(/unexpected 10\.99\.0\.7/);
  });

  it("'not-twin' (pair mode): any source but the twin is dropped before anything else is judged", () => {
    const pair = { twin: new Set(['10.99.0.1']) };
    expect(validateAdvert(advertV2, expectV2, pair)).toEqual({ accept: true, warnings: [] });
    const stray = { ...advertV2, source: '10.99.0.50', priority: 254, addresses: ['10.88.0.200'], authType: 0 };
    expect(validateAdvert(stray, expectV2, pair)).toMatchObject({ accept: false, reason: 'not-twin', alarm: false });
    // Our own address and another VRID are still what they were.
    expect(validateAdvert({ ...stray, source: '10.99.0.2' }, expectV2, pair)).toMatchObject({ reason: 'own-address' });
    expect(validateAdvert({ ...stray, vrid: 9 }, expectV2, pair)).toMatchObject({ reason: 'vrid' });
    // Even with our address list and the right password, a third router is not the twin.
    expect(validateAdvert({ ...advertV2, source: '10.99.0.50' }, expectV2, pair)).toMatchObject({ reason: 'not-twin' });
    // Without the filter (no serial heartbeat, twin not heard yet, mixed group): plain rules.
    expect(validateAdvert({ ...advertV2, source: '10.99.0.50' }, expectV2).accept).toBe(true);
  });

  it('checks in a fixed order: own address before VRID before auth before interval', () => {
    const everythingWrong: Advert = { ...advertV2, source: '10.99.0.2', vrid: 9, authType: 0, advertIntervalCs: 300 };
    expect(validateAdvert(everythingWrong, expectV2)).toMatchObject({ reason: 'own-address' });
    expect(validateAdvert({ ...everythingWrong, source: '10.99.0.1' }, expectV2)).toMatchObject({ reason: 'vrid' });
    expect(validateAdvert({ ...everythingWrong, source: '10.99.0.1', vrid: 51 }, expectV2)).toMatchObject({ reason: 'auth-type-mismatch' });
  });

  it('every validate reason is reachable by one of the cases above, and every reason has a counter', () => {
    expect([...VALIDATE_DROP_REASONS].sort()).toEqual(
      ['address-list', 'auth', 'auth-replay', 'auth-type-mismatch', 'interval-mismatch', 'not-twin', 'own-address', 'unicast-source', 'version-mismatch', 'vrid'].sort(),
    );
    const counters = emptyDropCounters();
    for (const r of DROP_REASONS) expect(counters[r]).toBe(0);
    // A warning is its own counter, never a drop reason.
    expect(Object.keys(emptyWarningCounters())).toEqual(['address-list']);
    expect(DROP_REASONS.filter((r) => (ADVERT_WARNINGS as readonly string[]).includes(r))).toEqual(['address-list']);
  });
});
