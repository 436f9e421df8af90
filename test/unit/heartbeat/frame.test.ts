import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePeerFrame, encodePeerFrame, HMAC_LENGTH, PROTOCOL_VERSION, type PeerFrame } from '../../../src/heartbeat/frame';
import { MAX_FRAME_BODY } from '../../../src/heartbeat/framing';
import { hb, inst, KEY, KEY_BYTES, OTHER_KEY } from './fixtures';

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
      const body = encodePeerFrame(f, KEY);
      expect(body[0]).toBe(PROTOCOL_VERSION);
      expect(decodePeerFrame(body, KEY)).toEqual({ ok: true, frame: f });
    });
  }

  it('keeps a 32-instance IPv6 heartbeat within the frame bound', () => {
    const instances = Array.from({ length: 32 }, (_, i) => inst({ vrid: i + 1, family: 6, address: `2001:db8::${i + 1}` }));
    const body = encodePeerFrame({ ...header, kind: 'heartbeat', ...hb({ instances, configHash: 'x'.repeat(64) }), nodeId: 'n'.repeat(64) }, KEY);
    expect(body.length).toBeLessThanOrEqual(MAX_FRAME_BODY);
  });

  it('rejects a wrong key, a flipped MAC or payload bit as bad-hmac', () => {
    const body = encodePeerFrame({ ...header, kind: 'heartbeat', ...hb() }, KEY);
    expect(decodePeerFrame(body, OTHER_KEY)).toEqual({ ok: false, reason: 'bad-hmac' });
    for (const at of [5, 20, body.length - 1]) {
      const b = Buffer.from(body);
      b[at]! ^= 1;
      expect(decodePeerFrame(b, KEY)).toEqual({ ok: false, reason: 'bad-hmac' });
    }
  });

  it('rejects another version before looking at the MAC', () => {
    const body = encodePeerFrame({ ...header, kind: 'release', vrid: 1, family: 4 }, KEY);
    body[0] = 3;
    expect(decodePeerFrame(body, KEY)).toEqual({ ok: false, reason: 'bad-version' });
  });

  it("carries the sender's own addresses (IPv4 and IPv6, at most 32) in version 2", () => {
    const f: PeerFrame = { ...header, kind: 'heartbeat', ...hb({ addresses: ['192.168.10.2', 'fe80::1', '2001:db8::2'] }) };
    expect(decodePeerFrame(encodePeerFrame(f, KEY), KEY)).toEqual({ ok: true, frame: f });
    const many = Array.from({ length: 33 }, (_, i) => `10.0.0.${i + 1}`);
    expect(() => encodePeerFrame({ ...f, addresses: many }, KEY)).toThrow(/at most 32 addresses/);
    expect(() => encodePeerFrame({ ...f, addresses: ['not-an-address'] }, KEY)).toThrow(/not an IP address/);
    // The fullest heartbeat still fits a frame: the addresses that do not fit are left out.
    const instances = Array.from({ length: 32 }, (_, i) => inst({ vrid: i + 1, family: 6, address: `2001:db8::${i + 1}` }));
    const addresses = many.slice(0, 32).map((_, i) => `2001:db8:1::${i + 1}`);
    const biggest = encodePeerFrame({ ...f, nodeId: 'n'.repeat(64), instances, configHash: 'x'.repeat(64), addresses }, KEY);
    expect(biggest.length).toBeLessThanOrEqual(MAX_FRAME_BODY);
    const back = decodePeerFrame(biggest, KEY);
    expect(back.ok && back.frame.kind === 'heartbeat' && back.frame.addresses).toEqual(addresses.slice(0, 7));
  });

  it('still reads a version 1 heartbeat (a twin not yet upgraded): the same, without addresses', () => {
    const v2 = encodePeerFrame({ ...header, kind: 'heartbeat', ...hb({ addresses: [] }) }, KEY);
    // Version 1 = version 2 minus the trailing address count, re-signed.
    const signed = Buffer.from(v2.subarray(0, v2.length - HMAC_LENGTH - 1));
    signed[0] = 1;
    const v1 = Buffer.concat([signed, createHmac('sha256', KEY_BYTES).update(signed).digest().subarray(0, HMAC_LENGTH)]);
    const { addresses: _none, ...body } = hb();
    expect(decodePeerFrame(v1, KEY)).toEqual({ ok: true, frame: { ...header, kind: 'heartbeat', ...body } });
  });

  it('rejects an authenticated but unknown kind, and authenticated garbage as malformed', () => {
    const sign = (signed: Buffer) => {
      // Re-sign a hand-made body so only the parse step can object.
      return Buffer.concat([signed, createHmac('sha256', KEY_BYTES).update(signed).digest().subarray(0, HMAC_LENGTH)]);
    };
    const good = encodePeerFrame({ ...header, kind: 'release', vrid: 1, family: 4 }, KEY);
    const signed = Buffer.from(good.subarray(0, good.length - HMAC_LENGTH));
    const unknown = Buffer.from(signed);
    unknown[1] = 9;
    expect(decodePeerFrame(sign(unknown), KEY)).toEqual({ ok: false, reason: 'unknown-kind' });
    const badFamily = Buffer.from(signed);
    badFamily[badFamily.length - 1] = 5;
    expect(decodePeerFrame(sign(badFamily), KEY)).toEqual({ ok: false, reason: 'malformed' });
    const trailing = Buffer.concat([signed, Buffer.from([0])]);
    expect(decodePeerFrame(sign(trailing), KEY)).toEqual({ ok: false, reason: 'malformed' });
    const short = signed.subarray(0, signed.length - 1);
    expect(decodePeerFrame(sign(Buffer.from(short)), KEY)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses to encode out-of-range fields (caller bugs)', () => {
    expect(() => encodePeerFrame({ ...header, kind: 'release', vrid: 0, family: 4 }, KEY)).toThrow(RangeError);
    expect(() => encodePeerFrame({ ...header, kind: 'heartbeat', ...hb({ instances: [inst({ address: 'fd00::1' })] }) }, KEY)).toThrow(/address/);
    expect(() => encodePeerFrame({ ...header, kind: 'request', reqId: 1, what: 'rm -rf' }, KEY)).toThrow(RangeError);
  });
});

describe('address text', () => {
  it('carries addresses as RFC 5952 section 4 text (IPv4-mapped in hex groups); refuses bad ones', () => {
    const carried = (address: string) => {
      const f: PeerFrame = { ...header, kind: 'heartbeat', ...hb({ instances: [inst({ family: 6, address })], addresses: [address] }) };
      const back = decodePeerFrame(encodePeerFrame(f, KEY), KEY);
      if (!back.ok || back.frame.kind !== 'heartbeat') throw new Error('no heartbeat back');
      expect(back.frame.addresses).toEqual([back.frame.instances[0]!.address]);
      return back.frame.instances[0]!.address;
    };
    expect(carried('2001:0db8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(carried('::ffff:192.0.2.1')).toBe('::ffff:c000:201');
    expect(carried('2001:db8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1');
    expect(carried('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%lan0']) {
      expect(() => encodePeerFrame({ ...header, kind: 'heartbeat', ...hb({ instances: [inst({ family: 6, address: bad })] }) }, KEY)).toThrow(/address/);
    }
  });
});
