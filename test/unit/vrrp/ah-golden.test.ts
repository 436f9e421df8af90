// Golden vectors for IPsec AH (auth_type AH): datagrams captured from keepalived 2.2.7
// (scripts/capture-keepalived-adverts.sh, ahCaptures in index.json) are parsed, authenticated
// with the key from the config, re-sealed byte for byte, and accepted once (then refused as
// replays) by an instance configured like the keepalived peer.

import { describe, expect, it } from 'vitest';
import { formatIp } from '../../../src/lib/ip.js';
import { AhSequence, ahKeyFromPassword, ahIcvVerifies, decodeAhAdvert, parseAhDatagram, sealAhAdvert, spiAddress } from '../../../src/vrrp/ah.js';
import { hmacMd5 } from '../../../src/ha/vrrp/ah-crypto.js';
import { AUTH_AH, encodeAdvert } from '../../../src/vrrp/packet.js';
import { validateAdvert, type AdvertExpectation } from '../../../src/vrrp/validate.js';
import { loadAhIndex, rawIpv4Datagrams, readConf } from '../../fixtures/vrrp/read-fixtures.js';

const captures = loadAhIndex();
const isMulticast = (d: string) => Number(d.split('.')[0]) >= 224 && Number(d.split('.')[0]) <= 239;

describe('keepalived 2.2.7 IPsec AH golden vectors', () => {
  it('covers multicast and unicast', () => {
    expect(captures.map((c) => c.name)).toEqual(['v2-ipv4-ah', 'v2-ipv4-ah-unicast']);
  });

  for (const capture of captures) {
    describe(capture.name, () => {
      const exp = capture.expected;
      const datagrams = rawIpv4Datagrams(capture);
      const key = ahKeyFromPassword(exp.password!);
      const expectation: AdvertExpectation = {
        vrid: exp.vrid,
        version: 2,
        authType: AUTH_AH,
        authData: key,
        hmacMd5,
        advertIntervalCs: exp.advertIntervalCs,
        addresses: exp.addresses,
        ownAddresses: ['10.99.0.2'],
        ...(exp.unicast ? { unicastPeers: [exp.source] } : {}),
      };

      it('the sidecar agrees with the keepalived config text', () => {
        const conf = readConf(capture);
        expect(conf).toMatch(/auth_type AH/);
        expect(/auth_pass (\S+)/.exec(conf)?.[1]).toBe(exp.password);
        expect(/virtual_router_id (\d+)/.exec(conf)?.[1]).toBe(String(exp.vrid));
        expect(/unicast_peer/.test(conf)).toBe(exp.unicast);
      });

      it('IP and AH headers as keepalived sends them: TOS 0xc0, no DF, TTL 255, SPI = source, ID and sequence count adverts from 1', () => {
        expect(datagrams.length).toBe(capture.adverts);
        datagrams.forEach((d, i) => {
          expect(d[1]).toBe(exp.tos);
          expect((d[6]! << 8) | d[7]!).toBe(0);
          expect(d[8]).toBe(exp.ttl);
          const p = parseAhDatagram(d);
          if (!p.ok) throw new Error(p.detail);
          expect(formatIp(p.datagram.source, 4)).toBe(exp.source);
          expect(formatIp(p.datagram.destination, 4)).toBe(exp.destination);
          expect(spiAddress(p.datagram.envelope.spi)).toBe(exp.source);
          expect(p.datagram.envelope.sequence).toBe(i + 1);
          expect((d[4]! << 8) | d[5]!).toBe(i + 1);
        });
      });

      it('decodes the VRRP message inside: auth type 2, zero authentication bytes, the last one at priority 0', () => {
        datagrams.forEach((d, i) => {
          const r = decodeAhAdvert(d, (dst) => !isMulticast(dst));
          if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
          expect(r.advert).toMatchObject({ version: 2, vrid: exp.vrid, authType: AUTH_AH, addresses: exp.addresses, advertIntervalCs: exp.advertIntervalCs, source: exp.source });
          expect(r.advert.priority).toBe(i === datagrams.length - 1 ? capture.stopAdvertPriority : exp.priority);
          expect(r.advert.authData).toEqual(new Uint8Array(8));
          expect(r.ttlCheck).toBe(exp.unicast ? 'skipped-unicast' : 'checked');
        });
      });

      it(`the ICV verifies with the key (${exp.wirePassword ?? exp.password}) and keepalived's TTL rule, and not otherwise`, () => {
        for (const d of datagrams) {
          const p = parseAhDatagram(d);
          if (!p.ok) throw new Error(p.detail);
          expect(ahIcvVerifies(p.datagram.envelope, key, exp.unicast, hmacMd5)).toBe(true);
          expect(ahIcvVerifies(p.datagram.envelope, ahKeyFromPassword('other'), exp.unicast, hmacMd5)).toBe(false);
          // The TTL is in the ICV for multicast and out of it for unicast: the other rule fails.
          expect(ahIcvVerifies(p.datagram.envelope, key, !exp.unicast, hmacMd5)).toBe(false);
        }
      });

      it('re-seals every datagram byte for byte from the config values', () => {
        datagrams.forEach((d, i) => {
          const vrrp = encodeAdvert({
            version: 2,
            family: 4,
            vrid: exp.vrid,
            priority: i === datagrams.length - 1 ? capture.stopAdvertPriority : exp.priority,
            advertIntervalCs: exp.advertIntervalCs,
            addresses: exp.addresses,
            authType: AUTH_AH,
          });
          const sealed = sealAhAdvert({ vrrp, source: exp.source, destination: exp.destination, ipId: i + 1, sequence: i + 1, key, hmacMd5, unicast: exp.unicast });
          expect(Buffer.from(sealed).toString('hex')).toBe(Buffer.from(d).toString('hex'));
        });
      });

      it('an instance configured like the peer accepts each advert once, then refuses it as a replay', () => {
        const seq = new AhSequence();
        for (const d of datagrams) {
          const r = decodeAhAdvert(d, (dst) => !isMulticast(dst));
          if (!r.ok) throw new Error(r.detail);
          expect(validateAdvert(r.advert, expectation, undefined, seq)).toEqual({ accept: true, warnings: [] });
          expect(validateAdvert(r.advert, expectation, undefined, seq)).toMatchObject({ accept: false, reason: 'auth-replay', alarm: false });
        }
        expect(seq.current).toBe(datagrams.length);
      });

      it('with another key every advert is an auth failure that raises the alarm', () => {
        const r = decodeAhAdvert(datagrams[0]!, (dst) => !isMulticast(dst));
        if (!r.ok) throw new Error(r.detail);
        const seq = new AhSequence();
        expect(validateAdvert(r.advert, { ...expectation, authData: ahKeyFromPassword('wrong') }, undefined, seq)).toMatchObject({ accept: false, reason: 'auth', alarm: true });
        // A refused advert does not move the replay window.
        expect(seq.current).toBe(0);
      });
    });
  }
});
