// The signed request: what a fleet operator publishes to `<prefix>request/<command>` and what a
// box verifies. The signature (Ed25519) covers a canonical encoding of every field that gives the
// request its meaning: the topic (so a request for one box or command cannot be replayed to
// another), the command's payload bytes, sent_at, expires_at, the nonce and the signer's key.
//
// Canonical encoding: the netstrings ("<byte length>:<bytes>,") of a context string and of the
// fields in a fixed order. Length prefixes make it unambiguous (no field can borrow bytes from
// its neighbour), and the payload is signed as the exact text sent, so a signer in any language
// needs no JSON canonicalisation.
import { randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { publicKeyText } from './keys';

export const SIGNATURE_CONTEXT = 'twinvip-request-v1';
export const WIRE_VERSION = 1;

/** An ISO 8601 UTC time as Date.toISOString() writes it (milliseconds optional). */
export const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{86}==$/;
const KEY_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

/** The envelope as it travels (JSON). */
export interface SignedRequest {
  v: typeof WIRE_VERSION;
  /** The signer's public key (base64 of 32 bytes); the box looks it up among its trusted keys. */
  key: string;
  sent_at: string;
  expires_at: string;
  nonce: string;
  /** The command's arguments as JSON text, e.g. {"on":true}. Signed byte for byte. */
  payload: string;
  /** base64 Ed25519 signature of signedBytes(topic, this). */
  signature: string;
}

export type UnsignedFields = Omit<SignedRequest, 'v' | 'signature'>;

export function signedBytes(topic: string, f: UnsignedFields): Buffer {
  const parts = [SIGNATURE_CONTEXT, topic, f.key, f.sent_at, f.expires_at, f.nonce, f.payload];
  return Buffer.concat(parts.map((p) => {
    const b = Buffer.from(p, 'utf8');
    return Buffer.concat([Buffer.from(`${b.length}:`), b, Buffer.from(',')]);
  }));
}

export interface SignOptions {
  /** Epoch ms; default now. */
  now?: number;
  /** Seconds the request stays valid (expires_at - sent_at). */
  validSeconds: number;
  nonce?: string;
}

/** Signs `payload` (the command's arguments) for `topic` with an Ed25519 private key. */
export function signRequest(privateKey: KeyObject, topic: string, payload: unknown, opts: SignOptions): SignedRequest {
  const now = opts.now ?? Date.now();
  const fields: UnsignedFields = {
    key: publicKeyText(privateKey),
    sent_at: new Date(now).toISOString(),
    expires_at: new Date(now + Math.round(opts.validSeconds * 1000)).toISOString(),
    nonce: opts.nonce ?? randomBytes(16).toString('base64url'),
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload ?? {}),
  };
  const signature = sign(null, signedBytes(topic, fields), privateKey).toString('base64');
  return { v: WIRE_VERSION, ...fields, signature };
}

export function verifySignature(publicKey: KeyObject, topic: string, req: SignedRequest): boolean {
  const sig = Buffer.from(req.signature, 'base64');
  // One text per signature: base64 decoders ignore stray low bits of the last character.
  if (sig.length !== 64 || sig.toString('base64') !== req.signature) return false;
  try {
    return verify(null, signedBytes(topic, req), publicKey, sig);
  } catch {
    return false;
  }
}

/** A message with the `signature` field is meant as a signed request (then it must be one). */
export function looksSigned(obj: Record<string, unknown>): boolean {
  return Object.hasOwn(obj, 'signature');
}

const FIELDS = ['v', 'key', 'sent_at', 'expires_at', 'nonce', 'payload', 'signature'] as const;

/** Checks the envelope's shape (not the signature): an error value names the first bad field. */
export function parseSignedRequest(obj: Record<string, unknown>): { ok: true; request: SignedRequest } | { ok: false; error: string } {
  for (const k of Object.keys(obj)) {
    if (!(FIELDS as readonly string[]).includes(k)) return { ok: false, error: `unknown field '${k}' in a signed request; fields: ${FIELDS.join(', ')}` };
  }
  if (obj.v !== WIRE_VERSION) return { ok: false, error: `v must be ${WIRE_VERSION} (got ${JSON.stringify(obj.v) ?? 'nothing'})` };
  const str = (k: string, re: RegExp, what: string): string | undefined => (typeof obj[k] === 'string' && re.test(obj[k]) ? undefined : `${k} must be ${what}`);
  const problem =
    str('key', KEY_PATTERN, 'a base64 Ed25519 public key (44 characters)') ??
    str('sent_at', TIME_PATTERN, 'an ISO 8601 UTC time such as 2026-01-01T12:00:00.000Z') ??
    str('expires_at', TIME_PATTERN, 'an ISO 8601 UTC time such as 2026-01-01T12:01:00.000Z') ??
    str('nonce', NONCE_PATTERN, '16 to 64 characters of base64url') ??
    (typeof obj.payload === 'string' ? undefined : 'payload must be a string holding the JSON arguments') ??
    str('signature', SIGNATURE_PATTERN, 'a base64 Ed25519 signature (88 characters)');
  if (problem) return { ok: false, error: problem };
  return { ok: true, request: obj as unknown as SignedRequest };
}
