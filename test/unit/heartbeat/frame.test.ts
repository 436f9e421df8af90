import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePeerFrame, encodePeerFrame, HMAC_LENGTH, PROTOCOL_VERSION, type PeerFrame } from '../../../src/heartbeat/frame';
import { MAX_FRAME_BODY } from '../../../src/heartbeat/framing';
import { hb, inst, KEY, MAC, OTHER_MAC } from './fixtures';

const header = { nodeId: 'gw-a', bootId: '0011223344556677', seq: 42 };

describe('peer frame codec', () => {
  const samples: PeerFrame[] = [
    { ...header, kind: 'heartbeat', ...hb() },
    {
      ...header, kind: 'heartbeat', ...hb({
        health: { uplink: false, gateway: true, nginx: false },
        instances: [
          inst({ state: 'BACKUP', releasing: true, hearsPeerAdverts: false }),
          inst({ vrid: 52, family: 6, state: 'FAULT', effectivePriority: 0, address: 'fd00::2', advertIntervalCs: 4095 }),
        ],
      }),
    },
    { ...header, kind: 'release', vrid: 51, family: 4 },
    { ...header, kind: 'request', reqId: 7, what: 'status' },
    { ...header, kind: 'response', reqId: 7, part: 1, parts: 3, chunk: '{"state":"MASTER","é":1}' },
  ];

  for (const f of samples) {
    it(`round-trips a ${f.kind} frame`, () => {
      const body = encodePeerFrame(f, MAC);
      expect(body[0]).toBe(PROTOCOL_VERSION);
      expect(decodePeerFrame(body, MAC)).toEqual({ ok: true, frame: f });
    });
  }

  it('keeps a 32-instance IPv6 heartbeat within the frame bound', () => {
    const instances = Array.from({ length: 32 }, (_, i) => inst({ vrid: i + 1, family: 6, address: `2001:db8::${i + 1}` }));
    const body = encodePeerFrame({ ...header, kind: 'heartbeat', ...hb({ instances, configHash: 'x'.repeat(64) }), nodeId: 'n'.repeat(64) }, MAC);
    expect(body.length).toBeLessThanOrEqual(MAX_FRAME_BODY);
  });

  it('rejects a wrong key, a flipped MAC or payload bit as bad-hmac', () => {
    const body = encodePeerFrame({ ...header, kind: 'heartbeat', ...hb() }, MAC);
    expect(decodePeerFrame(body, OTHER_MAC)).toEqual({ ok: false, reason: 'bad-hmac' });
    for (const at of [5, 20, body.length - 1]) {
      const b = Buffer.from(body);
      b[at]! ^= 1;
      expect(decodePeerFrame(b, MAC)).toEqual({ ok: false, reason: 'bad-hmac' });
    }
  });

  it('rejects another version before looking at the MAC', () => {
    const body = encodePeerFrame({ ...header, kind: 'release', vrid: 1, family: 4 }, MAC);
    body[0] = 4;
    expect(decodePeerFrame(body, MAC)).toEqual({ ok: false, reason: 'bad-version' });
  });

  it("carries the sender's own addresses (IPv4 and IPv6, at most 32) ", () => {
    const f: PeerFrame = { ...header, kind: 'heartbeat', ...hb({ addresses: ['192.168.10.2', 'fe80::1', '2001:db8::2'] }) };
    expect(decodePeerFrame(encodePeerFrame(f, MAC), MAC)).toEqual({ ok: true, frame: f });
    const many = Array.from({ length: 33 }, (_, i) => `10.0.0.${i + 1}`);
    expect(() => encodePeerFrame({ ...f, addresses: many }, MAC)).toThrow(/at most 32 addresses/);
    expect(() => encodePeerFrame({ ...f, addresses: ['not-an-address'] }, MAC)).toThrow(/not an IP address/);
    // The fullest heartbeat still fits a frame: the addresses that do not fit are left out.
    const instances = Array.from({ length: 32 }, (_, i) => inst({ vrid: i + 1, family: 6, address: `2001:db8::${i + 1}` }));
    const addresses = many.slice(0, 32).map((_, i) => `2001:db8:1::${i + 1}`);
    const biggest = encodePeerFrame({ ...f, nodeId: 'n'.repeat(64), instances, configHash: 'x'.repeat(64), addresses }, MAC);
    expect(biggest.length).toBeLessThanOrEqual(MAX_FRAME_BODY);
    const back = decodePeerFrame(biggest, MAC);
    expect(back.ok && back.frame.kind === 'heartbeat' && back.frame.addresses).toEqual(addresses.slice(0, 6));
  });

  it('carries the echo of what the sender heard from the receiver, and none as zeros', () => {
    const echo = { bootId: '00000007a1b2c3d4', seq: 4_000_000_000 };
    const f: PeerFrame = { ...header, echo, kind: 'heartbeat', ...hb() };
    const body = encodePeerFrame(f, MAC);
    expect(body.subarray(14, 26).toString('hex')).toBe('00000007a1b2c3d4ee6b2800');
    expect(decodePeerFrame(body, MAC)).toEqual({ ok: true, frame: f });
    const none = encodePeerFrame({ ...header, kind: 'release', vrid: 1, family: 4 }, MAC);
    expect(none.subarray(14, 26)).toEqual(Buffer.alloc(12));
    expect(() => encodePeerFrame({ ...f, echo: { bootId: 'xyz', seq: 1 } }, MAC)).toThrow(/echo bootId/);
  });

  it('refuses a version 1 or 2 frame even with a valid MAC: it echoes nothing, so it cannot prove it is not a recording', () => {
    const v3 = encodePeerFrame({ ...header, kind: 'heartbeat', ...hb({ addresses: [] }) }, MAC);
    for (const version of [1, 2]) {
      // Version 2 had no echo; re-signed with the right key, only the version can object.
      const signed = Buffer.concat([v3.subarray(0, 14), v3.subarray(26, v3.length - HMAC_LENGTH)]);
      signed[0] = version;
      const old = Buffer.concat([signed, createHmac('sha256', KEY).update(signed).digest().subarray(0, HMAC_LENGTH)]);
      expect(decodePeerFrame(old, MAC)).toEqual({ ok: false, reason: 'bad-version' });
    }
  });

  it('rejects an authenticated but unknown kind, and authenticated garbage as malformed', () => {
    const sign = (signed: Buffer) => {
      // Re-sign a hand-made body so only the parse step can object.
      return Buffer.concat([signed, createHmac('sha256', KEY).update(signed).digest().subarray(0, HMAC_LENGTH)]);
    };
    const good = encodePeerFrame({ ...header, kind: 'release', vrid: 1, family: 4 }, MAC);
    const signed = Buffer.from(good.subarray(0, good.length - HMAC_LENGTH));
    const unknown = Buffer.from(signed);
    unknown[1] = 9;
    expect(decodePeerFrame(sign(unknown), MAC)).toEqual({ ok: false, reason: 'unknown-kind' });
    const badFamily = Buffer.from(signed);
    badFamily[badFamily.length - 1] = 5;
    expect(decodePeerFrame(sign(badFamily), MAC)).toEqual({ ok: false, reason: 'malformed' });
    const trailing = Buffer.concat([signed, Buffer.from([0])]);
    expect(decodePeerFrame(sign(trailing), MAC)).toEqual({ ok: false, reason: 'malformed' });
    const short = signed.subarray(0, signed.length - 1);
    expect(decodePeerFrame(sign(Buffer.from(short)), MAC)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses to encode out-of-range fields (caller bugs)', () => {
    expect(() => encodePeerFrame({ ...header, kind: 'release', vrid: 0, family: 4 }, MAC)).toThrow(RangeError);
    expect(() => encodePeerFrame({ ...header, kind: 'heartbeat', ...hb({ instances: [inst({ address: 'fd00::1' })] }) }, MAC)).toThrow(/address/);
    expect(() => encodePeerFrame({ ...header, kind: 'request', reqId: 1, what: 'rm -rf' }, MAC)).toThrow(RangeError);
  });
});

describe('address text', () => {
  it('carries addresses as RFC 5952 section 4 text (IPv4-mapped in hex groups); refuses bad ones', () => {
    const carried = (address: string) => {
      const f: PeerFrame = { ...header, kind: 'heartbeat', ...hb({ instances: [inst({ family: 6, address })], addresses: [address] }) };
      const back = decodePeerFrame(encodePeerFrame(f, MAC), MAC);
      if (!back.ok || back.frame.kind !== 'heartbeat') throw new Error('no heartbeat back');
      expect(back.frame.addresses).toEqual([back.frame.instances[0]!.address]);
      return back.frame.instances[0]!.address;
    };
    expect(carried('2001:0db8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(carried('::ffff:192.0.2.1')).toBe('::ffff:c000:201');
    expect(carried('2001:db8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1');
    expect(carried('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%lan0']) {
      expect(() => encodePeerFrame({ ...header, kind: 'heartbeat', ...hb({ instances: [inst({ family: 6, address: bad })] }) }, MAC)).toThrow(/address/);
    }
  });
});
