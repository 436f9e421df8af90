// Decoder robustness: more than 100 000 random and mutated packets (mutations of the keepalived
// golden vectors: bit flips, byte writes, truncation, extension). The decoder must never throw,
// and never accept a packet whose checksum does not verify. The checksum is verified here by
// an independent reference (concatenate pseudo-header + message, sum with a DataView).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAdvert, encodeAdvert, type DecodeContext } from '../../../src/vrrp/packet.js';
import type { DropReason } from '../../../src/vrrp/drop-reasons.js';
import { loadIndex, readCapture } from '../../fixtures/vrrp/read-fixtures.js';

interface Seed {
  message: Uint8Array;
  ctx: DecodeContext & { source: Uint8Array; destination: Uint8Array };
}

const GROUP4 = new Uint8Array([224, 0, 0, 18]);

function referenceSumIsAllOnes(parts: Uint8Array[]): boolean {
  return referenceSum(parts) === 0xffff;
}

function referenceSum(parts: Uint8Array[]): number {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(total + (total % 2));
  let at = 0;
  for (const p of parts) {
    buf.set(p, at);
    at += p.length;
  }
  const view = new DataView(buf.buffer);
  let sum = 0;
  for (let i = 0; i < buf.length; i += 2) sum += view.getUint16(i);
  while (sum > 0xffff) sum = (sum >>> 16) + (sum & 0xffff);
  return sum;
}

function pseudo(family: 4 | 6, src: Uint8Array, dst: Uint8Array, len: number): Uint8Array {
  if (family === 4) return new Uint8Array([...src, ...dst, 0, 112, len >> 8, len & 0xff]);
  return new Uint8Array([...src, ...dst, 0, 0, len >> 8, len & 0xff, 0, 0, 0, 112]);
}

/** Independent check of the dialect the decoder claims. */
function referenceChecksumOk(m: Uint8Array, ctx: Seed['ctx'], version: number, dialect: string | undefined): boolean {
  if (version === 2) return referenceSumIsAllOnes([m]);
  switch (dialect) {
    case 'rfc5798':
      return referenceSumIsAllOnes([pseudo(ctx.family, ctx.source, ctx.destination, m.length), m]);
    case 'v2-compatible':
      return ctx.family === 4 && referenceSumIsAllOnes([m]);
    case 'old-unicast':
      return ctx.family === 4 && referenceSumIsAllOnes([pseudo(4, ctx.source, GROUP4, m.length), m]);
    default:
      return false;
  }
}

function seeds(): Seed[] {
  const out: Seed[] = [];
  for (const capture of loadIndex()) {
    for (const a of readCapture(capture)) {
      out.push({ message: a.message, ctx: { family: a.family, source: a.source, destination: a.destination, ttl: a.ttl, unicast: capture.expected.unicast } });
    }
  }
  // Encoder-made seeds for what keepalived 2.2.7 cannot send (RFC 9568 dialect).
  const v9568 = encodeAdvert({ version: 3, family: 4, vrid: 9, priority: 77, advertIntervalCs: 4095, addresses: ['192.0.2.1', '192.0.2.2', '192.0.2.3'], checksumDialect: 'v2-compatible' });
  out.push({ message: v9568, ctx: { family: 4, source: new Uint8Array([192, 0, 2, 10]), destination: GROUP4, ttl: 255 } });
  return out;
}

let accepted = 0;
let total = 0;
const reasons = new Map<DropReason, number>();

function check(message: Uint8Array, ctx: Seed['ctx']): void {
  total++;
  const r = decodeAdvert(message, ctx); // a throw fails the test
  if (!r.ok) {
    reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
    return;
  }
  accepted++;
  const ad = r.advert;
  if (!referenceChecksumOk(message, ctx, ad.version, ad.checksumDialect)) {
    throw new Error(`accepted with a wrong checksum: ${Buffer.from(message).toString('hex')} ${JSON.stringify({ ...ctx, source: [...ctx.source], destination: [...ctx.destination] })}`);
  }
  // Fields come from the bytes they belong to.
  expect(ad.version).toBe(message[0]! >> 4);
  expect(ad.vrid).toBe(message[1]);
  expect(ad.priority).toBe(message[2]);
  expect(ad.addresses.length).toBe(message[3]);
}

type Mutation = { kind: 'flip'; at: number; bit: number } | { kind: 'set'; at: number; value: number } | { kind: 'truncate'; to: number } | { kind: 'extend'; bytes: number[] };

function mutate(m: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = m.slice();
  for (const mu of mutations) {
    if (mu.kind === 'flip' && out.length > 0) out[mu.at % out.length]! ^= 1 << mu.bit;
    else if (mu.kind === 'set' && out.length > 0) out[mu.at % out.length] = mu.value;
    else if (mu.kind === 'truncate') out = out.slice(0, mu.to % (out.length + 1));
    else if (mu.kind === 'extend') out = new Uint8Array([...out, ...mu.bytes]);
  }
  return out;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(200), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(200), value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), to: fc.nat(200) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('extend' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 32 }) }) },
);

describe('decodeAdvert under fuzzing', () => {
  const all = seeds();

  it('golden seeds themselves decode (the fuzz starts from valid packets)', () => {
    for (const s of all) expect(decodeAdvert(s.message, s.ctx).ok).toBe(true);
  });

  it('mutated golden vectors (fast-check, 50 000 runs): no throw, no accepted bad checksum', () => {
    fc.assert(
      fc.property(
        fc.nat(all.length - 1),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        fc.boolean(),
        (i, mutations, ttl, flipUnicast) => {
          const s = all[i]!;
          const ctx = { ...s.ctx, ttl: ttl === undefined ? s.ctx.ttl : ttl, unicast: flipUnicast ? !s.ctx.unicast : s.ctx.unicast };
          check(mutate(s.message, mutations), ctx);
        },
      ),
      { numRuns: 50_000, seed: 0x7a1b, endOnFailure: true },
    );
  });

  it('random packets with a plausible header (fast-check, 30 000 runs)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0x21, 0x31, 0x11, 0x22, 0x32),
        fc.uint8Array({ minLength: 7, maxLength: 100 }),
        fc.boolean(),
        fc.constantFrom<4 | 6>(4, 6),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.constantFrom('none', 'plain', 'pseudo'),
        (first, rest, fixLength, family, src, dst, fixChecksum) => {
          let m = new Uint8Array(1 + rest.length);
          m[0] = first;
          m.set(rest, 1);
          const alen = family === 4 ? 4 : 16;
          const auth = first >> 4 === 2 ? 8 : 0;
          if (fixLength && m.length >= 8 + auth) {
            const count = Math.floor((m.length - 8 - auth) / alen);
            m[3] = count;
            m = m.subarray(0, 8 + count * alen + auth);
          }
          const ctx = { family, source: src.subarray(0, alen), destination: dst.subarray(0, alen), ttl: 255 };
          // Let some random packets past the checksum, so the later checks and the address
          // formatting see random input too.
          if (fixChecksum !== 'none' && m.length >= 8) {
            m[6] = 0;
            m[7] = 0;
            const parts = fixChecksum === 'pseudo' ? [pseudo(family, ctx.source, ctx.destination, m.length), m] : [m];
            const sum = referenceSum(parts);
            m[6] = (~sum >> 8) & 0xff;
            m[7] = ~sum & 0xff;
          }
          check(m, ctx);
        },
      ),
      { numRuns: 30_000, seed: 0x5eed, endOnFailure: true },
    );
  });

  it('plain random bytes and seeded bulk mutations (25 000 more)', () => {
    let x = 0x9e3779b9;
    const rnd = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    for (let k = 0; k < 25_000; k++) {
      const s = all[rnd(all.length)]!;
      let m: Uint8Array;
      if (k % 5 === 0) {
        m = new Uint8Array(rnd(90));
        for (let i = 0; i < m.length; i++) m[i] = rnd(256);
      } else {
        m = s.message.slice();
        // A flip in a checksum-covered byte plus a compensating edit elsewhere sometimes
        // keeps the sum: those must then decode to the bytes' own values (checked in check()).
        const flips = 1 + rnd(3);
        for (let f = 0; f < flips; f++) m[rnd(m.length)]! ^= 1 << rnd(8);
      }
      check(m, s.ctx);
    }
  });

  it('covered at least 100 000 packets and reached both outcomes and the main reasons', () => {
    console.info(`decoder fuzz: ${total} packets, ${accepted} accepted, drops ${JSON.stringify(Object.fromEntries(reasons))}`);
    expect(total).toBeGreaterThanOrEqual(100_000);
    expect(accepted).toBeGreaterThan(1000);
    for (const r of ['short', 'ttl', 'version', 'type', 'length', 'checksum', 'auth-type', 'interval'] as const) {
      expect(reasons.get(r) ?? 0, r).toBeGreaterThan(0);
    }
  });
});
