// The pairing core (src/heartbeat/pairing.ts) with a fake clock: two engines joined by an
// in-memory line, a man-in-the-middle that runs its own exchange with each side, a relay that
// swaps public keys, loss, rate limits, time-outs. Real X25519/HKDF from the shell's crypto.
import { describe, expect, it } from 'vitest';
import {
  CODE_TIMEOUT_MS, EXCHANGE_TIMEOUT_MS, MAX_PAIRING_BODY, PAIRING_MAGIC, Pairing, RATE_PER_S, RESEND_MS, decodePairing, encodePairing,
  formatCode, type PairingOutput,
} from '../../../src/heartbeat/pairing';
import { nodePairingCrypto } from '../../../src/ha/heartbeat/pair-crypto';
import { FakeClock } from '../../helpers/fake-clock';

const crypto = nodePairingCrypto;

interface End {
  p: Pairing;
  stored: Uint8Array[];
  logs: string[];
}

/** Two engines on a line; `tap` may rewrite or drop a body on its way (direction 'ab' or 'ba'). */
function line(clock: FakeClock, tap: (dir: 'ab' | 'ba', body: Buffer) => Buffer | null = (_d, b) => b) {
  const a: End = { p: new Pairing({ crypto, name: 'box-a', accepting: true }, clock.now()), stored: [], logs: [] };
  const b: End = { p: new Pairing({ crypto, name: 'box-b', accepting: true }, clock.now()), stored: [], logs: [] };
  const run = (from: End, to: End, dir: 'ab' | 'ba', outs: PairingOutput[]): void => {
    for (const o of outs) {
      if (o.type === 'log') from.logs.push(o.message);
      else if (o.type === 'store-key') {
        from.stored.push(o.key);
        run(from, to, dir, from.p.stored(true, clock.now()));
      } else {
        const body = tap(dir, o.body);
        if (body) run(to, from, dir === 'ab' ? 'ba' : 'ab', to.p.receive(body, clock.now()));
      }
    }
  };
  return {
    a, b,
    fromA: (outs: PairingOutput[]) => run(a, b, 'ab', outs),
    fromB: (outs: PairingOutput[]) => run(b, a, 'ba', outs),
  };
}

describe('pairing core', () => {
  it('two boxes agree on one key once the code shown on A is typed on B', () => {
    const clock = new FakeClock(1000);
    const l = line(clock);
    l.fromA(l.a.p.start(clock.now()));
    const code = l.a.p.status().code!;
    expect(code).toMatch(/^\d{6}$/);
    expect(l.a.p.status().phase).toBe('compare');
    expect(l.b.p.status()).toMatchObject({ phase: 'compare', role: 'responder', peer: 'box-a' });
    // B does not show the code before the technician typed it (else one could confirm B's own).
    expect(l.b.p.status().code).toBeUndefined();
    expect(l.a.stored).toHaveLength(0);
    const r = l.b.p.enterCode(formatCode(code), clock.now());
    expect(r.ok).toBe(true);
    l.fromB(r.out);
    expect(l.b.stored).toHaveLength(1);
    expect(l.a.stored).toHaveLength(1);
    expect(Buffer.from(l.a.stored[0]!).equals(Buffer.from(l.b.stored[0]!))).toBe(true);
    expect(l.a.stored[0]!.length).toBe(32);
    expect(l.a.p.status().phase).toBe('paired');
    expect(l.b.p.status().phase).toBe('paired');
  });

  it('a wrong code: B aborts, neither box stores a key', () => {
    const clock = new FakeClock(0);
    const l = line(clock);
    l.fromA(l.a.p.start(clock.now()));
    const code = l.a.p.status().code!;
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const r = l.b.p.enterCode(wrong, clock.now());
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/code mismatch/);
    l.fromB(r.out);
    expect(l.a.stored).toHaveLength(0);
    expect(l.b.stored).toHaveLength(0);
    expect(l.a.p.status()).toMatchObject({ phase: 'failed' });
    expect(l.a.p.status().error).toMatch(/did not match/);
  });

  it('a man-in-the-middle running its own exchange with each box: the codes differ, no key stored', () => {
    // 20 attempts: each would pass with probability 1e-6 only.
    for (let i = 0; i < 20; i++) {
      const clock = new FakeClock(0);
      // M poses as B to A (responder) and as A to B (initiator).
      const mToA = new Pairing({ crypto, name: 'box-b', accepting: true }, 0);
      const mToB = new Pairing({ crypto, name: 'box-a', accepting: true }, 0);
      const a = new Pairing({ crypto, name: 'box-a', accepting: true }, 0);
      const b = new Pairing({ crypto, name: 'box-b', accepting: true }, 0);
      const stored: string[] = [];
      /** Delivers x's outputs to y and y's answers back to x, until both are quiet. */
      const pump = (x: Pairing, y: Pairing, outs: PairingOutput[]): void => {
        for (const o of outs) {
          if (o.type === 'store-key') stored.push('key');
          if (o.type === 'send') pump(y, x, y.receive(o.body, clock.now()));
        }
      };
      // M answers A's commit as "box-b" and runs its own exchange with B as "box-a".
      pump(a, mToA, a.start(0));
      pump(mToB, b, mToB.start(0));
      expect(mToA.status().phase).toBe('compare');
      expect(b.status().phase).toBe('compare');
      const codeOnA = a.status().code;
      expect(codeOnA).toBeDefined();
      const r = b.enterCode(codeOnA!, 0);
      expect(r.ok).toBe(false);
      expect(r.message).toMatch(/code mismatch/);
      expect(stored).toEqual([]);
    }
  });

  it('a relay that swaps A\'s public key in the reveal: B refuses the commitment, no key', () => {
    const clock = new FakeClock(0);
    const other = crypto.keyPair().publicKey;
    const l = line(clock, (dir, body) => {
      const m = decodePairing(body);
      if (dir === 'ab' && m?.kind === 'reveal') return encodePairing({ ...m, publicKey: other });
      return body;
    });
    l.fromA(l.a.p.start(0));
    expect(l.b.p.status().phase).toBe('failed');
    expect(l.b.p.status().error).toMatch(/does not match its commitment/);
    expect(l.a.p.status().phase).toBe('failed');
    expect(l.a.stored.length + l.b.stored.length).toBe(0);
  });

  it('a relay that swaps B\'s public key in the offer: the codes differ', () => {
    const clock = new FakeClock(0);
    const other = crypto.keyPair().publicKey;
    const l = line(clock, (dir, body) => {
      const m = decodePairing(body);
      if (dir === 'ba' && m?.kind === 'offer') return encodePairing({ ...m, publicKey: other });
      return body;
    });
    l.fromA(l.a.p.start(0));
    const r = l.b.p.enterCode(l.a.p.status().code!, 0);
    l.fromB(r.out);
    expect(r.ok).toBe(false);
    expect(l.a.stored.length + l.b.stored.length).toBe(0);
  });

  it('lost frames are sent again every second; the exchange times out when the twin never answers', () => {
    const clock = new FakeClock(0);
    // Frame 0 (the first commit) and frame 2 (B's first offer) are lost.
    let n = 0;
    const l = line(clock, (_d, body) => (n++ === 0 || n === 3 ? null : body));
    l.fromA(l.a.p.start(0));
    expect(l.a.p.status().phase).toBe('committed');
    clock.runUntil(RESEND_MS);
    l.fromA(l.a.p.tick(clock.now()));
    expect(l.b.p.status().phase).toBe('offered'); // second commit arrived; the offer got lost
    clock.runUntil(2 * RESEND_MS);
    l.fromB(l.b.p.tick(clock.now()));
    expect(l.a.p.status().phase).toBe('compare');
    expect(l.b.p.status().phase).toBe('compare');

    const lonely = new Pairing({ crypto, name: 'box-a', accepting: true }, 0);
    const sends = lonely.start(0).filter((o) => o.type === 'send').length;
    let resent = 0;
    for (let t = 0; t <= EXCHANGE_TIMEOUT_MS; t += 100) resent += lonely.tick(t).filter((o) => o.type === 'send' && o.kind === 'commit').length;
    expect(sends).toBe(1);
    expect(resent).toBeGreaterThanOrEqual(EXCHANGE_TIMEOUT_MS / RESEND_MS - 2);
    expect(lonely.status()).toMatchObject({ phase: 'failed' });
    expect(lonely.status().error).toMatch(/did not answer/);
  });

  it('a code not typed within CODE_TIMEOUT_MS: both give up without a key', () => {
    const clock = new FakeClock(0);
    const l = line(clock);
    l.fromA(l.a.p.start(0));
    l.fromB(l.b.p.tick(CODE_TIMEOUT_MS + 1));
    expect(l.b.p.status()).toMatchObject({ phase: 'failed' });
    expect(l.a.p.status()).toMatchObject({ phase: 'failed' });
    expect(l.a.stored.length + l.b.stored.length).toBe(0);
  });

  it('a paired box (not accepting) refuses a commit and says why', () => {
    const a = new Pairing({ crypto, name: 'box-a', accepting: true }, 0);
    const paired = new Pairing({ crypto, name: 'box-b', accepting: false }, 0);
    const commit = a.start(0).find((o) => o.type === 'send')!;
    const out = paired.receive((commit as { body: Buffer }).body, 0);
    expect(out.filter((o) => o.type === 'send')).toEqual([]);
    expect(out.some((o) => o.type === 'log' && /refused: this box is paired/.test(o.message))).toBe(true);
    expect(paired.status().phase).toBe('idle');
  });

  it('reads at most RATE_PER_S frames a second; malformed, oversized and foreign bodies are counted and ignored', () => {
    const p = new Pairing({ crypto, name: 'box-b', accepting: true }, 0);
    const junk = Buffer.from([PAIRING_MAGIC, 9, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (let i = 0; i < 100; i++) expect(p.receive(junk, 0)).toEqual([]);
    expect(p.counters).toMatchObject({ received: RATE_PER_S, rate_limited: 100 - RATE_PER_S, malformed: RATE_PER_S });
    // A second later the bucket is full again, not more.
    for (let i = 0; i < 100; i++) p.receive(Buffer.alloc(MAX_PAIRING_BODY + 1, PAIRING_MAGIC), 1000);
    expect(p.counters.received).toBe(2 * RATE_PER_S);
    expect(p.counters.malformed).toBe(2 * RATE_PER_S);
    // An authenticated heartbeat's first byte is its version (3): never a pairing message.
    expect(decodePairing(Buffer.from([3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeNull();
    expect(p.status().phase).toBe('idle');
  });

  it('enterCode explains what is wrong: format, nothing running, the wrong box', () => {
    const clock = new FakeClock(0);
    const l = line(clock);
    expect(l.b.p.enterCode('12345', 0).message).toMatch(/6 digits/);
    expect(l.b.p.enterCode('123456', 0).message).toMatch(/run `twinvip pair` on the twin first/);
    l.fromA(l.a.p.start(0));
    expect(l.a.p.enterCode('123456', 0).message).toMatch(/type the code on the twin/);
  });

  it('messages round-trip and trailing bytes are malformed', () => {
    const m = { kind: 'offer' as const, session: '0123456789abcdef', name: 'box-b', publicKey: Buffer.alloc(32, 7), nonce: Buffer.alloc(16, 9) };
    const body = encodePairing(m);
    expect(body[0]).toBe(PAIRING_MAGIC);
    expect(decodePairing(body)).toMatchObject({ ...m, publicKey: Buffer.alloc(32, 7) });
    expect(decodePairing(Buffer.concat([body, Buffer.from([0])]))).toBeNull();
    expect(decodePairing(body.subarray(0, body.length - 1))).toBeNull();
  });
});
