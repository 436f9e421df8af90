import { describe, expect, it } from 'vitest';
import { NOT_AN_ERROR, VALIDATE_DROP_REASONS, emptyDropCounters, DROP_REASONS } from '../../../src/vrrp/drop-reasons.js';
import { AhSequence, ahKeyFromPassword, decodeAhAdvert, sealAhAdvert } from '../../../src/vrrp/ah.js';
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
    const r = decodeAhAdvert(sealAhAdvert({ vrrp, source: '10.99.0.1', destination: '224.0.0.18', ipId: 1, sequence: 3, key, unicast: false }), () => false);
    if (!r.ok) throw new Error(r.detail);
    const seq = new AhSequence();
    seq.accept(3);
    expect(validateAdvert(r.advert, { ...expectV2, authType: 2, authData: key }, seq)).toMatchObject({ reason: 'auth-replay', alarm: false });
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

  it("'address-list' under policy 'drop' (keepalived 2.2.7): dropped with an alarm, except from the owner (priority 255)", () => {
    const drop = { ...expectV2, addressListPolicy: 'drop' as const };
    expect(validateAdvert({ ...advertV2, addresses: ['10.99.0.100'] }, drop)).toMatchObject({
      accept: false,
      reason: 'address-list',
      detail: 'address list differs from ours: missing 10.99.0.101',
      alarm: true,
    });
    // RFC 3768 / 5798 7.1: "If the packet was not generated by the address owner ... MUST drop".
    const owner = validateAdvert({ ...advertV2, priority: 255, addresses: ['10.99.0.100'] }, drop);
    expect(owner).toMatchObject({ accept: true, warnings: [{ warning: 'address-list' }] });
    expect(validateAdvert(advertV2, drop)).toEqual({ accept: true, warnings: [] });
  });

  it("'address-list' under the default policy: accepted with a warning, so one MASTER remains", () => {
    const missing = validateAdvert({ ...advertV2, addresses: ['10.99.0.100'] }, expectV2);
    expect(missing).toEqual({
      accept: true,
      warnings: [{ warning: 'address-list', detail: 'address list differs from ours: missing 10.99.0.101' }],
    });
    const extra = validateAdvert({ ...advertV2, addresses: ['10.99.0.100', '10.99.0.101', '10.99.0.7'] }, expectV2);
    expect(extra.accept).toBe(true);
    expect(extra.warnings[0]?.detail).toMatch(/unexpected 10\.99\.0\.7/);
    const duplicated = validateAdvert({ ...advertV2, addresses: ['10.99.0.100', '10.99.0.101', '10.99.0.101'] }, expectV2);
    expect(duplicated.warnings[0]?.detail).toMatch(/3 addresses listed, we have 2/);
  });

  it('checks in a fixed order: own address before VRID before auth before interval', () => {
    const everythingWrong: Advert = { ...advertV2, source: '10.99.0.2', vrid: 9, authType: 0, advertIntervalCs: 300 };
    expect(validateAdvert(everythingWrong, expectV2)).toMatchObject({ reason: 'own-address' });
    expect(validateAdvert({ ...everythingWrong, source: '10.99.0.1' }, expectV2)).toMatchObject({ reason: 'vrid' });
    expect(validateAdvert({ ...everythingWrong, source: '10.99.0.1', vrid: 51 }, expectV2)).toMatchObject({ reason: 'auth-type-mismatch' });
  });

  it('every validate reason is reachable by one of the cases above, and every reason has a counter', () => {
    expect([...VALIDATE_DROP_REASONS].sort()).toEqual(
      ['address-list', 'auth', 'auth-replay', 'auth-type-mismatch', 'interval-mismatch', 'own-address', 'unicast-source', 'version-mismatch', 'vrid'].sort(),
    );
    const counters = emptyDropCounters();
    for (const r of DROP_REASONS) expect(counters[r]).toBe(0);
    expect(counters['address-list']).toBe(0);
  });
});
