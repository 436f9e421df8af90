// First-boot pairing over the serial link: two boxes without a heartbeat key agree on one with
// an X25519 exchange that the technician authenticates by carrying a 6-digit code from box A
// (`twinvip pair`) to box B (`twinvip pair --confirm CODE`). Sans-I/O like the rest of the
// core: bytes and the time come in, bytes to send and the key to store go out; X25519, SHA-256,
// HKDF and HMAC and the random draws are the shell's (src/ha/heartbeat/pair-crypto.ts).
//
// Protocol (a commitment scheme with a short authentication string, as ZRTP and Bluetooth's
// numeric comparison do; A = initiator, B = responder):
//   1. A -> B  commit  session, nameA, C = SHA-256(tag | PA | NA)     (A's public key hidden)
//   2. B -> A  offer   session, nameB, PB, NB                         (B's key, B's nonce)
//   3. A -> B  reveal  session, PA, NA                                (B checks C)
//   Both: T = SHA-256 of the transcript (session, names, PA, PB, NA, NB),
//         code = 6 digits of SHA-256("sas" | T), Z = X25519,
//         key = HKDF-SHA256(Z, salt T, "twinvip heartbeat key v1"), Kc = HKDF(Z, T, "confirm").
//   A shows the code. The technician types it on B; B compares it with its own code:
//   4. B -> A  confirm session, HMAC(Kc, "confirm" | T)   (B stored the key first)   or
//      B -> A  abort   session, reason 'mismatch'         (B stores nothing)
//   A stores the key only on a valid confirm.
// Why a man-in-the-middle on the cable cannot pass: to end up with a key it knows on both sides
// it must run one exchange with A (values PA, PM1) and another with B (PM2, PB), and the two
// codes must agree. A fixed PA in its commitment before it saw anything from the other side, and
// B sent PB before it saw any A-side value; the MITM must send PM1 to A before A reveals PA and
// commit to PM2 before B shows PB. So neither code is anything it can steer: they agree with
// probability 1e-6 per attempt, and every attempt costs the technician a visible mismatch. (A
// commitment is what stops it from trying public keys offline until both codes agree.)
// The code travels one way (A to B), so B authenticates A; A trusts B's confirm. A MITM that
// answers A itself could send A a confirm under its own key; then B, which it could not fool,
// showed the technician a mismatch and stored nothing: README tells to pair both boxes again
// (`twinvip pair --unpair` removes A's key).
//
// Wire: pairing frames use the heartbeat's framing (COBS, CRC-32, framing.ts) with their own
// first byte PAIRING_MAGIC where an authenticated frame has its version (3): a paired receiver
// refuses them before any MAC work (counted as 'pairing'), and a pairing receiver ignores
// everything else. At most MAX_PAIRING_BODY bytes, at most RATE_PER_S frames a second are read
// (the rest counted and dropped), one session at a time.
//
// Body: u8 magic | u8 kind | 8 bytes session | kind payload:
//   commit:  u8 n, n bytes name | 32 commitment
//   offer:   u8 n, n bytes name | 32 public key | 16 nonce
//   reveal:  32 public key | 16 nonce
//   confirm: 32 HMAC
//   abort:   u8 reason (1 mismatch, 2 cancelled, 3 busy, 4 timeout, 5 bad-commitment, 6 store-failed)

export const PAIRING_MAGIC = 0x50;
export const MAX_PAIRING_BODY = 128;
export const PAIRING_NAME_MAX = 64;
/** Frames read per second (bucket size and refill): a few are enough for a pairing. */
export const RATE_PER_S = 10;
/** How often unanswered messages are sent again (a box may start listening later). */
export const RESEND_MS = 1000;
/** How long the exchange (commit to code) may take. */
export const EXCHANGE_TIMEOUT_MS = 30_000;
/** How long a code waits for the technician. */
export const CODE_TIMEOUT_MS = 600_000;

const KINDS = ['commit', 'offer', 'reveal', 'confirm', 'abort'] as const;
export type PairingKind = (typeof KINDS)[number];
const ABORTS = ['mismatch', 'cancelled', 'busy', 'timeout', 'bad-commitment', 'store-failed'] as const;
export type AbortReason = (typeof ABORTS)[number];

export type PairingMessage =
  | { kind: 'commit'; session: string; name: string; commitment: Uint8Array }
  | { kind: 'offer'; session: string; name: string; publicKey: Uint8Array; nonce: Uint8Array }
  | { kind: 'reveal'; session: string; publicKey: Uint8Array; nonce: Uint8Array }
  | { kind: 'confirm'; session: string; mac: Uint8Array }
  | { kind: 'abort'; session: string; reason: AbortReason };

/** The crypto the shell hands in (node:crypto there): the core holds no key generator. */
export interface PairingCrypto {
  /** A fresh X25519 key pair: raw 32-byte public key and an opaque private key. */
  keyPair(): { publicKey: Uint8Array; privateKey: unknown };
  /** X25519(privateKey, peerPublic); null when the peer's key is unusable (all-zero result). */
  dh(privateKey: unknown, peerPublic: Uint8Array): Uint8Array | null;
  sha256(data: Uint8Array): Uint8Array;
  hkdf(ikm: Uint8Array, salt: Uint8Array, info: string, length: number): Uint8Array;
  hmac(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** n bytes from a CSPRNG. */
  draw(n: number): Uint8Array;
}

export function isPairingBody(body: Uint8Array): boolean {
  return body.length > 0 && body[0] === PAIRING_MAGIC;
}

export function encodePairing(m: PairingMessage): Buffer {
  const parts: Buffer[] = [Buffer.from([PAIRING_MAGIC, KINDS.indexOf(m.kind) + 1]), sessionBytes(m.session)];
  const name = (n: string) => {
    const b = Buffer.from(n, 'utf8');
    if (b.length < 1 || b.length > PAIRING_NAME_MAX) throw new RangeError(`pairing: name must be 1..${PAIRING_NAME_MAX} bytes`);
    parts.push(Buffer.from([b.length]), b);
  };
  const fixed = (b: Uint8Array, n: number, what: string) => {
    if (b.length !== n) throw new RangeError(`pairing: ${what} must be ${n} bytes`);
    parts.push(Buffer.from(b));
  };
  switch (m.kind) {
    case 'commit':
      name(m.name);
      fixed(m.commitment, 32, 'commitment');
      break;
    case 'offer':
      name(m.name);
      fixed(m.publicKey, 32, 'public key');
      fixed(m.nonce, 16, 'nonce');
      break;
    case 'reveal':
      fixed(m.publicKey, 32, 'public key');
      fixed(m.nonce, 16, 'nonce');
      break;
    case 'confirm':
      fixed(m.mac, 32, 'mac');
      break;
    case 'abort':
      parts.push(Buffer.from([ABORTS.indexOf(m.reason) + 1]));
      break;
  }
  return Buffer.concat(parts);
}

/** Parses one pairing body; null for anything malformed (never throws). */
export function decodePairing(body: Uint8Array): PairingMessage | null {
  if (body.length < 10 || body.length > MAX_PAIRING_BODY || body[0] !== PAIRING_MAGIC) return null;
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const kind = KINDS[b[1]! - 1];
  const session = b.subarray(2, 10).toString('hex');
  let at = 10;
  const take = (n: number): Buffer | null => {
    if (at + n > b.length) return null;
    const v = Buffer.from(b.subarray(at, at + n));
    at += n;
    return v;
  };
  const name = (): string | null => {
    const n = take(1)?.[0];
    if (n === undefined || n < 1 || n > PAIRING_NAME_MAX) return null;
    const raw = take(n);
    if (!raw) return null;
    const s = raw.toString('utf8');
    return Buffer.from(s, 'utf8').equals(raw) && !/[\x00-\x1f\x7f]/.test(s) ? s : null;
  };
  let m: PairingMessage | null = null;
  switch (kind) {
    case 'commit': {
      const n = name();
      const c = take(32);
      if (n !== null && c) m = { kind, session, name: n, commitment: c };
      break;
    }
    case 'offer': {
      const n = name();
      const pk = take(32);
      const nonce = take(16);
      if (n !== null && pk && nonce) m = { kind, session, name: n, publicKey: pk, nonce };
      break;
    }
    case 'reveal': {
      const pk = take(32);
      const nonce = take(16);
      if (pk && nonce) m = { kind, session, publicKey: pk, nonce };
      break;
    }
    case 'confirm': {
      const mac = take(32);
      if (mac) m = { kind, session, mac };
      break;
    }
    case 'abort': {
      const r = ABORTS[(take(1)?.[0] ?? 0) - 1];
      if (r) m = { kind, session, reason: r };
      break;
    }
    default:
      return null;
  }
  return m && at === b.length ? m : null;
}

function sessionBytes(session: string): Buffer {
  if (!/^[0-9a-f]{16}$/.test(session)) throw new RangeError('pairing: session must be 16 hex digits');
  return Buffer.from(session, 'hex');
}

/** Length-prefixed concatenation, so no two transcripts hash alike by shifting bytes. */
function lp(...items: (Uint8Array | string)[]): Buffer {
  return Buffer.concat(
    items.flatMap((i) => {
      const b = typeof i === 'string' ? Buffer.from(i, 'utf8') : Buffer.from(i);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(b.length);
      return [len, b];
    }),
  );
}

const COMMIT_TAG = 'twinvip-pair-commit-v1';

export function commitment(c: PairingCrypto, publicKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return c.sha256(lp(COMMIT_TAG, publicKey, nonce));
}

export interface Transcript {
  session: string;
  nameA: string;
  nameB: string;
  publicA: Uint8Array;
  publicB: Uint8Array;
  nonceA: Uint8Array;
  nonceB: Uint8Array;
}

export function transcriptHash(c: PairingCrypto, t: Transcript): Uint8Array {
  return c.sha256(lp('twinvip-pair-v1', sessionBytes(t.session), t.nameA, t.nameB, t.publicA, t.publicB, t.nonceA, t.nonceB));
}

/** The 6 digits both boxes derive from the transcript (the short authentication string). */
export function shortCode(c: PairingCrypto, th: Uint8Array): string {
  const h = Buffer.from(c.sha256(lp('twinvip-pair-sas-v1', th)));
  return String(h.readUInt32BE(0) % 1_000_000).padStart(6, '0');
}

/** "123 456" as shown; input accepts any spacing or dashes. */
export function formatCode(code: string): string {
  return `${code.slice(0, 3)} ${code.slice(3)}`;
}

export function normaliseCode(input: string): string | null {
  const s = input.replace(/[\s-]/g, '');
  return /^\d{6}$/.test(s) ? s : null;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export type PairingRole = 'initiator' | 'responder';
export type PairingPhase =
  /** listening: a commit from the twin starts a session as responder (when accepting) */
  | 'idle'
  /** A: commit sent, waiting for B's offer */
  | 'committed'
  /** B: offer sent, waiting for A's reveal */
  | 'offered'
  /** both: the code is known; A waits for B's confirm, B for the technician's code */
  | 'compare'
  /** the key is being stored by the shell */
  | 'storing'
  | 'paired'
  | 'failed';

export type PairingOutput =
  | { type: 'send'; body: Buffer; kind: PairingKind }
  /** Store this key (then call stored()); `peer` is the twin's name. */
  | { type: 'store-key'; key: Uint8Array; peer: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string };

export interface PairingCounters {
  received: number;
  /** over the rate limit */
  rate_limited: number;
  malformed: number;
  /** for another session than ours, or a commit while one runs */
  ignored: number;
  sent: number;
}

export interface PairingStatus {
  phase: PairingPhase;
  role?: PairingRole;
  peer?: string;
  /** The code, once the exchange is done: A shows it; B shows it only after a match. */
  code?: string;
  /** Why the last session failed. */
  error?: string;
  counters: PairingCounters;
}

export interface PairingOptions {
  crypto: PairingCrypto;
  /** Our name as the twin shows it (node.name). */
  name: string;
  /** Whether a commit from the twin may start a session (unpaired, or re-pairing asked for). */
  accepting: boolean;
}

interface Session {
  id: string;
  role: PairingRole;
  peer?: string;
  priv: unknown;
  publicKey: Uint8Array;
  nonce: Uint8Array;
  /** A: our commitment; B: A's commitment. */
  commitment: Uint8Array;
  th?: Uint8Array;
  code?: string;
  key?: Uint8Array;
  confirmKey?: Uint8Array;
  /** The last message we sent, repeated every RESEND_MS while we wait. */
  last?: Buffer;
  lastKind?: PairingKind;
  lastSentAt: number;
  deadline: number;
}

export class Pairing {
  private phase: PairingPhase = 'idle';
  private s: Session | undefined;
  private error: string | undefined;
  private tokens = RATE_PER_S;
  private tokensAt: number;
  readonly counters: PairingCounters = { received: 0, rate_limited: 0, malformed: 0, ignored: 0, sent: 0 };

  constructor(private readonly opts: PairingOptions, now: number) {
    this.tokensAt = now;
  }

  get accepting(): boolean {
    return this.opts.accepting;
  }

  status(): PairingStatus {
    const s = this.s;
    const showCode = s?.code !== undefined && (s.role === 'initiator' || this.phase === 'paired' || this.phase === 'storing');
    return {
      phase: this.phase,
      ...(s ? { role: s.role } : {}),
      ...(s?.peer ? { peer: s.peer } : {}),
      ...(showCode ? { code: s!.code } : {}),
      ...(this.error ? { error: this.error } : {}),
      counters: { ...this.counters },
    };
  }

  /** `twinvip pair` on this box: start a session as initiator (a running one is replaced). */
  start(now: number): PairingOutput[] {
    if (this.phase === 'storing') return [{ type: 'log', level: 'warn', message: 'pairing: a key is being stored; not starting again' }];
    const out: PairingOutput[] = [];
    if (this.s && this.phase !== 'paired' && this.phase !== 'failed') out.push(...this.abort('cancelled', now, 'replaced by a new pairing started here'));
    const c = this.opts.crypto;
    const kp = c.keyPair();
    const nonce = c.draw(16);
    this.s = {
      id: Buffer.from(c.draw(8)).toString('hex'), role: 'initiator', priv: kp.privateKey, publicKey: kp.publicKey, nonce,
      commitment: commitment(c, kp.publicKey, nonce), lastSentAt: now, deadline: now + EXCHANGE_TIMEOUT_MS,
    };
    this.phase = 'committed';
    this.error = undefined;
    out.push(this.send({ kind: 'commit', session: this.s.id, name: this.opts.name, commitment: this.s.commitment }, now, true));
    out.push({ type: 'log', level: 'info', message: `pairing ${this.s.id}: started as initiator, waiting for the twin` });
    return out;
  }

  /** Stops the current session (the twin is told). */
  cancel(now: number): PairingOutput[] {
    if (!this.s || this.phase === 'paired' || this.phase === 'failed' || this.phase === 'idle') return [];
    return this.abort('cancelled', now, 'cancelled here');
  }

  /** One frame body from the line (already deframed, CRC checked). */
  receive(body: Uint8Array, now: number): PairingOutput[] {
    this.refill(now);
    if (this.tokens < 1) {
      this.counters.rate_limited++;
      return [];
    }
    this.tokens -= 1;
    this.counters.received++;
    const m = decodePairing(body);
    if (!m) {
      this.counters.malformed++;
      return [];
    }
    const s = this.s;
    if (m.kind === 'commit') return this.onCommit(m, now);
    if (!s || m.session !== s.id) {
      this.counters.ignored++;
      return [];
    }
    switch (m.kind) {
      case 'offer':
        return this.onOffer(s, m, now);
      case 'reveal':
        return this.onReveal(s, m, now);
      case 'confirm':
        return this.onConfirm(s, m, now);
      case 'abort':
        if (this.phase === 'paired' || this.phase === 'failed' || this.phase === 'storing') return [];
        return this.fail(`the twin ${s.peer ?? ''} aborted: ${abortText(m.reason)}`.replace('  ', ' '), now);
    }
  }

  /** B: the code the technician typed (as shown on box A). */
  enterCode(input: string, now: number): { ok: boolean; message: string; out: PairingOutput[] } {
    const code = normaliseCode(input);
    if (code === null) return { ok: false, message: 'the code is 6 digits, as box A shows it (e.g. 123 456)', out: [] };
    const s = this.s;
    if (!s || s.role !== 'responder' || this.phase !== 'compare') {
      const why = this.phase === 'offered' ? 'the exchange with the twin is still running: try again in a second'
        : s?.role === 'initiator' && this.phase === 'compare' ? 'this box started the pairing: type the code on the twin, not here'
        : 'no pairing in progress: run `twinvip pair` on the twin first (it shows the code)';
      return { ok: false, message: why, out: [] };
    }
    if (!equalBytes(Buffer.from(code), Buffer.from(s.code!))) {
      const out = this.abort('mismatch', now, `code mismatch: typed ${formatCode(code)}, this box computed another one — the serial link may be tampered with (or the code was mistyped); no key stored, pair again`);
      return { ok: false, message: this.error!, out };
    }
    this.phase = 'storing';
    return { ok: true, message: `code matches: storing the key shared with ${s.peer}`, out: [{ type: 'store-key', key: s.key!, peer: s.peer! }] };
  }

  /** The shell stored the key (or could not). */
  stored(ok: boolean, now: number, detail = ''): PairingOutput[] {
    const s = this.s;
    if (!s || this.phase !== 'storing') return [];
    if (!ok) return this.abort('store-failed', now, `the key could not be stored: ${detail}`);
    this.phase = 'paired';
    const out: PairingOutput[] = [{ type: 'log', level: 'info', message: `pairing ${s.id}: paired with ${s.peer}, key stored` }];
    if (s.role === 'responder') {
      out.unshift(this.send({ kind: 'confirm', session: s.id, mac: this.confirmMac(s) }, now, false));
    }
    return out;
  }

  /** Resends and timeouts; call at nextDeadline() (or more often). */
  tick(now: number): PairingOutput[] {
    const s = this.s;
    if (!s || this.phase === 'idle' || this.phase === 'paired' || this.phase === 'failed' || this.phase === 'storing') return [];
    if (now >= s.deadline) {
      const what = this.phase === 'compare'
        ? (s.role === 'initiator' ? 'the code was not confirmed on the twin in time' : 'no code was typed here in time')
        : 'the twin did not answer (is it running and unpaired, and the cable connected?)';
      return this.abort('timeout', now, `timed out: ${what}`);
    }
    // A waits for B's offer (commit), then for its confirm (reveal, in case it was lost); B for the reveal (offer).
    const resend = (this.phase === 'committed' || (this.phase === 'compare' && s.role === 'initiator') || this.phase === 'offered');
    if (resend && s.last && now - s.lastSentAt >= RESEND_MS) {
      s.lastSentAt = now;
      this.counters.sent++;
      return [{ type: 'send', body: s.last, kind: s.lastKind! }];
    }
    return [];
  }

  nextDeadline(): number | null {
    const s = this.s;
    if (!s || this.phase === 'idle' || this.phase === 'paired' || this.phase === 'failed' || this.phase === 'storing') return null;
    return Math.min(s.deadline, s.lastSentAt + RESEND_MS);
  }

  // ----------------------------------------------------------------------------------------

  private onCommit(m: Extract<PairingMessage, { kind: 'commit' }>, now: number): PairingOutput[] {
    const s = this.s;
    if (s && s.id === m.session && s.role === 'responder') {
      // A repeated commit: our offer was lost.
      if (this.phase === 'offered' && s.last) return [this.resend(s, now)];
      this.counters.ignored++;
      return [];
    }
    if (!this.opts.accepting) {
      this.counters.ignored++;
      return [{ type: 'log', level: 'warn', message: `pairing request from ${m.name} refused: this box is paired (twinvip pair --unpair to pair again)` }];
    }
    const running = s && (this.phase === 'committed' || this.phase === 'offered' || this.phase === 'compare' || this.phase === 'storing');
    if (running) {
      // Both started at once: the lower session id yields, so one of the two sessions survives.
      if (s.role === 'initiator' && this.phase === 'committed' && m.session < s.id) {
        this.s = undefined;
        this.phase = 'idle';
      } else {
        this.counters.ignored++;
        return [];
      }
    }
    const c = this.opts.crypto;
    const kp = c.keyPair();
    this.s = {
      id: m.session, role: 'responder', peer: m.name, priv: kp.privateKey, publicKey: kp.publicKey, nonce: c.draw(16),
      commitment: m.commitment, lastSentAt: now, deadline: now + EXCHANGE_TIMEOUT_MS,
    };
    this.phase = 'offered';
    this.error = undefined;
    return [
      { type: 'log', level: 'info', message: `pairing ${m.session}: ${m.name} asks to pair; waiting for the code shown on ${m.name}` },
      this.send({ kind: 'offer', session: m.session, name: this.opts.name, publicKey: kp.publicKey, nonce: this.s.nonce }, now, true),
    ];
  }

  private onOffer(s: Session, m: Extract<PairingMessage, { kind: 'offer' }>, now: number): PairingOutput[] {
    if (s.role !== 'initiator') {
      this.counters.ignored++;
      return [];
    }
    if (this.phase === 'compare') {
      // B repeats its offer: our reveal was lost (the same offer only).
      if (s.last && equalBytes(m.publicKey, this.peerPublic!)) return [this.resend(s, now)];
      this.counters.ignored++;
      return [];
    }
    if (this.phase !== 'committed') {
      this.counters.ignored++;
      return [];
    }
    const c = this.opts.crypto;
    const t: Transcript = { session: s.id, nameA: this.opts.name, nameB: m.name, publicA: s.publicKey, publicB: m.publicKey, nonceA: s.nonce, nonceB: m.nonce };
    const derived = this.derive(s, t, m.publicKey);
    if (!derived) return this.abort('bad-commitment', now, `the twin ${m.name} sent an unusable public key`);
    s.peer = m.name;
    this.peerPublic = m.publicKey;
    this.phase = 'compare';
    s.deadline = now + CODE_TIMEOUT_MS;
    return [
      this.send({ kind: 'reveal', session: s.id, publicKey: s.publicKey, nonce: s.nonce }, now, true),
      { type: 'log', level: 'info', message: `pairing ${s.id}: code ${formatCode(s.code!)} — type it on ${m.name} (twinvip pair --confirm ${s.code})` },
    ];
  }

  private peerPublic: Uint8Array | undefined;

  private onReveal(s: Session, m: Extract<PairingMessage, { kind: 'reveal' }>, now: number): PairingOutput[] {
    if (s.role !== 'responder') {
      this.counters.ignored++;
      return [];
    }
    if (this.phase === 'paired') {
      // A repeats its reveal: our confirm was lost.
      return s.last && s.lastKind === 'confirm' ? [this.resend(s, now)] : [];
    }
    if (this.phase === 'failed' && s.last && s.lastKind === 'abort') return [this.resend(s, now)];
    if (this.phase !== 'offered') {
      this.counters.ignored++;
      return [];
    }
    const c = this.opts.crypto;
    if (!equalBytes(commitment(c, m.publicKey, m.nonce), s.commitment)) {
      return this.abort('bad-commitment', now, `${s.peer}'s public key does not match its commitment: the serial link may be tampered with; no key stored`);
    }
    const t: Transcript = { session: s.id, nameA: s.peer!, nameB: this.opts.name, publicA: m.publicKey, publicB: s.publicKey, nonceA: m.nonce, nonceB: s.nonce };
    if (!this.derive(s, t, m.publicKey)) return this.abort('bad-commitment', now, `${s.peer} sent an unusable public key`);
    this.phase = 'compare';
    s.deadline = now + CODE_TIMEOUT_MS;
    s.last = undefined;
    return [{ type: 'log', level: 'info', message: `pairing ${s.id}: exchange with ${s.peer} done; type the code ${s.peer} shows: twinvip pair --confirm CODE` }];
  }

  private onConfirm(s: Session, m: Extract<PairingMessage, { kind: 'confirm' }>, now: number): PairingOutput[] {
    if (s.role !== 'initiator' || this.phase !== 'compare') {
      this.counters.ignored++;
      return [];
    }
    if (!equalBytes(m.mac, this.confirmMac(s))) {
      return this.abort('mismatch', now, `${s.peer}'s confirmation does not match our key: the serial link may be tampered with; no key stored`);
    }
    this.phase = 'storing';
    return [{ type: 'store-key', key: s.key!, peer: s.peer! }];
  }

  private derive(s: Session, t: Transcript, peerPublic: Uint8Array): boolean {
    const c = this.opts.crypto;
    const z = c.dh(s.priv, peerPublic);
    if (!z) return false;
    const th = transcriptHash(c, t);
    s.th = th;
    s.code = shortCode(c, th);
    s.key = c.hkdf(z, th, 'twinvip heartbeat key v1', 32);
    s.confirmKey = c.hkdf(z, th, 'twinvip pair confirm v1', 32);
    return true;
  }

  private confirmMac(s: Session): Uint8Array {
    return this.opts.crypto.hmac(s.confirmKey!, lp('confirm', s.th!));
  }

  private abort(reason: AbortReason, now: number, message: string): PairingOutput[] {
    const s = this.s!;
    const out = [this.send({ kind: 'abort', session: s.id, reason }, now, false)];
    return [...out, ...this.fail(message, now)];
  }

  private fail(message: string, _now: number): PairingOutput[] {
    this.phase = 'failed';
    this.error = message;
    if (this.s) {
      this.s.key = undefined;
      this.s.confirmKey = undefined;
    }
    return [{ type: 'log', level: 'warn', message: `pairing ${this.s?.id ?? ''}: ${message}` }];
  }

  private send(m: PairingMessage, now: number, repeat: boolean): PairingOutput {
    const body = encodePairing(m);
    const s = this.s;
    if (s) {
      s.last = body;
      s.lastKind = m.kind;
      s.lastSentAt = now;
      if (!repeat && m.kind !== 'confirm' && m.kind !== 'abort') s.last = undefined;
    }
    this.counters.sent++;
    return { type: 'send', body, kind: m.kind };
  }

  private resend(s: Session, now: number): PairingOutput {
    s.lastSentAt = now;
    this.counters.sent++;
    return { type: 'send', body: s.last!, kind: s.lastKind! };
  }

  private refill(now: number): void {
    const dt = Math.max(0, now - this.tokensAt);
    this.tokensAt = now;
    this.tokens = Math.min(RATE_PER_S, this.tokens + (dt * RATE_PER_S) / 1000);
  }
}

function abortText(r: AbortReason): string {
  switch (r) {
    case 'mismatch': return 'the code did not match (the serial link may be tampered with, or the code was mistyped)';
    case 'cancelled': return 'cancelled there';
    case 'busy': return 'it is pairing with someone else';
    case 'timeout': return 'timed out';
    case 'bad-commitment': return 'our public key did not match what it expected (the serial link may be tampered with)';
    case 'store-failed': return 'it could not store the key';
  }
}
