// Golden vectors: adverts captured from keepalived 2.2.7 (scripts/capture-keepalived-adverts.sh)
// are decoded field by field against the keepalived config that produced them, re-encoded
// byte for byte, and accepted by validateAdvert() with the same config's expectations.

import { describe, expect, it } from 'vitest';
import { formatIp } from '../../../src/lib/ip.js';
import { authDataFromPassword, decodeAdvert, encodeAdvert, parseIpv4Packet } from '../../../src/vrrp/packet.js';
import { validateAdvert } from '../../../src/vrrp/validate.js';
import { loadIndex, rawIpv4Datagrams, readCapture, readConf, type FixtureCapture } from '../../fixtures/vrrp/read-fixtures.js';

const captures = loadIndex();

/** The fields the keepalived config states, read from the .conf text itself. */
function fromConf(capture: FixtureCapture) {
  const conf = readConf(capture);
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(conf);
    return m ? Number(m[1]) : undefined;
  };
  const vipBlock = /virtual_ipaddress \{([^}]*)\}/.exec(conf)![1]!;
  return {
    version: /^\s*version 3\s*$/m.test(conf) ? 3 : 2,
    vrid: num(/virtual_router_id (\d+)/),
    priority: num(/^\s*priority (\d+)/m),
    advertIntervalCs: Math.round(Number(/advert_int ([\d.]+)/.exec(conf)![1]) * 100),
    password: /auth_pass (\S+)/.exec(conf)?.[1],
    addresses: vipBlock
      .split('\n')
      .map((l) => l.trim().split('/')[0]!)
      .filter((l) => l.length > 0),
    unicast: /unicast_peer/.test(conf),
    unicastPeer: /unicast_peer \{\s*(\S+)/.exec(conf)?.[1],
  };
}

describe('keepalived 2.2.7 golden vectors', () => {
  it('covers the scenarios the codec must interoperate with', () => {
    const names = captures.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(['v2-ipv4', 'v2-ipv4-pass', 'v2-ipv4-multi', 'v2-ipv4-unicast', 'v3-ipv4', 'v3-ipv4-unicast', 'v3-ipv6']),
    );
  });

  for (const capture of captures) {
    describe(capture.name, () => {
      const exp = capture.expected;
      const adverts = readCapture(capture);

      it('sidecar agrees with the keepalived config text', () => {
        const conf = fromConf(capture);
        expect(conf.version).toBe(exp.version);
        expect(conf.vrid).toBe(exp.vrid);
        expect(conf.priority).toBe(exp.priority);
        expect(conf.advertIntervalCs).toBe(exp.advertIntervalCs);
        expect(conf.password).toBe(exp.password);
        expect(conf.unicast).toBe(exp.unicast);
        if (conf.unicast) expect(conf.unicastPeer).toBe(exp.destination);
        // Same addresses; the config may spell IPv6 non-canonically.
        expect(conf.addresses.length).toBe(exp.addresses.length);
      });

      it('holds adverts at the configured priority, then the priority-0 advert of a stopping master', () => {
        expect(adverts.length).toBeGreaterThanOrEqual(2);
        const priorities = adverts.map((a) => a.message[2]);
        expect(priorities.at(-1)).toBe(capture.stopAdvertPriority);
        expect(new Set(priorities.slice(0, -1))).toEqual(new Set([exp.priority]));
      });

      it('IP header: addresses and TTL/hop limit as keepalived sends them', () => {
        for (const a of adverts) {
          expect(a.family).toBe(exp.family);
          expect(formatIp(a.source, a.family)).toBe(exp.source);
          expect(formatIp(a.destination, a.family)).toBe(exp.destination);
          expect(a.ttl).toBe(exp.ttl);
        }
      });

      it('decodes field by field', () => {
        adverts.forEach((a, i) => {
          const r = decodeAdvert(a.message, {
            family: a.family,
            source: a.source,
            destination: a.destination,
            ttl: a.ttl,
            unicast: exp.unicast,
          });
          if (!r.ok) throw new Error(`advert ${i}: ${r.reason}: ${r.detail}`);
          const ad = r.advert;
          expect(r.ttlCheck).toBe(exp.unicast ? 'skipped-unicast' : 'checked');
          expect(ad.version).toBe(exp.version);
          expect(ad.family).toBe(exp.family);
          expect(ad.vrid).toBe(exp.vrid);
          expect(ad.priority).toBe(i === adverts.length - 1 ? 0 : exp.priority);
          expect(ad.advertIntervalCs).toBe(exp.advertIntervalCs);
          expect(ad.addresses).toEqual(exp.addresses);
          expect(ad.authType).toBe(exp.authType);
          expect(ad.source).toBe(exp.source);
          expect(ad.checksumDialect).toBe(exp.checksumDialect);
          if (exp.version === 2) {
            const wire = new Uint8Array(8);
            wire.set(new TextEncoder().encode(exp.wirePassword ?? exp.password ?? ''));
            expect(ad.authData).toEqual(wire);
          } else {
            expect(ad.authData).toBeUndefined();
          }
        });
      });

      it('re-encodes byte for byte from the config values', () => {
        adverts.forEach((a, i) => {
          const bytes = encodeAdvert({
            version: exp.version,
            family: exp.family,
            vrid: exp.vrid,
            priority: i === adverts.length - 1 ? 0 : exp.priority,
            advertIntervalCs: exp.advertIntervalCs,
            addresses: exp.addresses,
            authType: exp.version === 2 ? exp.authType : undefined,
            authData: exp.password !== undefined ? authDataFromPassword(exp.password) : undefined,
            source: exp.source,
            destination: exp.destination,
            checksumDialect: exp.checksumDialect,
          });
          expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from(a.message).toString('hex'));
        });
      });

      it('is accepted by an instance configured like the keepalived peer, with no warning', () => {
        const a = adverts[0]!;
        const r = decodeAdvert(a.message, { family: a.family, source: a.source, destination: a.destination, ttl: a.ttl, unicast: exp.unicast });
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const outcome = validateAdvert(r.advert, {
          vrid: exp.vrid,
          version: exp.version,
          authType: exp.authType,
          authData: exp.password !== undefined ? authDataFromPassword(exp.password) : undefined,
          advertIntervalCs: exp.advertIntervalCs,
          addresses: exp.addresses,
          ownAddresses: [exp.family === 4 ? '10.99.0.2' : 'fe80::ff:fe00:2'],
          unicastPeers: exp.unicast ? [exp.source] : undefined,
        });
        expect(outcome).toEqual({ accept: true, warnings: [] });
      });

      if (exp.family === 4) {
        it('parseIpv4Packet splits the raw datagram as an IPv4 raw socket delivers it', () => {
          const datagrams = rawIpv4Datagrams(capture);
          expect(datagrams.length).toBe(adverts.length);
          datagrams.forEach((d, i) => {
            const p = parseIpv4Packet(d);
            if (!p.ok) throw new Error(p.detail);
            expect(p.packet.protocol).toBe(112);
            expect(p.packet.ttl).toBe(255);
            expect(formatIp(p.packet.source, 4)).toBe(exp.source);
            expect(formatIp(p.packet.destination, 4)).toBe(exp.destination);
            expect(p.packet.payload).toEqual(adverts[i]!.message);
          });
        });
      }
    });
  }
});
