// The gate every request passes before anything runs: bounded before it is parsed, then either
// an unsigned read-only request the local config allows, or a signed request whose key is
// trusted, whose signature covers this very topic, which is neither from the future, nor
// expired, nor seen before, and whose key's role allows the command. Pure: the caller passes the
// time, the trusted keys and the nonce cache, so every refusal is a unit test with a fake clock.
import type { TwinvipConfig } from '../../config';
import { roleAllows, requiredRole } from '../../fleet/roles';
import { looksSigned, parseSignedRequest, verifySignature } from '../../fleet/signed-request';
import type { Transaction } from '../envelope';
import type { NonceCache } from './nonce-cache';
import type { RefusalReason } from './refusals';
import { parseRequest, type ParsedRequest, type RequestMeta } from './request';
import { COMMAND_NAMES, isCommandName, validateCommandPayload } from './schemas';
import type { TrustedSigner, TrustStore } from './trust-store';

type CommandSettings = TwinvipConfig['mqtt']['commands'];

export interface GateContext {
  now: number;
  settings: CommandSettings;
  /** mqtt.command_max_age in ms: the longest life of a request. */
  maxAgeMs: number;
  trust: TrustStore;
  nonces: NonceCache;
}

export interface SignerInfo {
  name: string;
  role: TrustedSigner['role'];
  fingerprint: string;
}

export type GateResult =
  | { ok: true; request: ParsedRequest; signer?: SignerInfo; nonce?: string; nonceUntil?: number }
  | { ok: false; reason: RefusalReason; error: string; transaction?: Transaction; nonce?: string; signer?: SignerInfo; details?: string[] };

export function authorizeRequest(command: string, topic: string, payload: Buffer, meta: RequestMeta, g: GateContext): GateResult {
  const cap = g.settings.max_payload;
  if (payload.length > cap) return refuse('oversize', `request of ${payload.length} bytes is over the limit of ${cap} (mqtt.commands.max_payload); not read`);
  if (meta.retain) return refuse('retained', 'retained requests are refused; publish requests with retain=false');
  if (!isCommandName(command)) return refuse('unknown-command', `unknown command '${command.slice(0, 64)}'; known: ${COMMAND_NAMES.join(', ')}`);

  const text = payload.toString('utf8').trim();
  let body: unknown = {};
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch (err) {
      return refuse('malformed', `payload is not JSON: ${(err as Error).message}`);
    }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return refuse('malformed', 'payload must be a JSON object');
  const obj = body as Record<string, unknown>;

  if (!looksSigned(obj)) {
    const transaction = typeof obj.transaction === 'string' || typeof obj.transaction === 'number' ? obj.transaction : undefined;
    if (!g.settings.unsigned.includes(command as never)) {
      const why = requiredRole(command) === 'read'
        ? `'${command}' must be signed here (it is not in mqtt.commands.unsigned)`
        : `'${command}' changes the box: it must be signed by a trusted key with the ${requiredRole(command)} role (twinvip request)`;
      return { ...refuse('unsigned', why), ...(transaction !== undefined ? { transaction } : {}) };
    }
    const parsed = parseRequest(command, payload, meta, g.now, g.maxAgeMs, obj);
    if (!parsed.ok) {
      const reason: RefusalReason = /^(expired|too old)/.test(parsed.error) ? 'expired' : 'malformed';
      return { ok: false, reason, error: parsed.error, ...(parsed.transaction !== undefined ? { transaction: parsed.transaction } : {}), ...(parsed.details ? { details: parsed.details } : {}) };
    }
    return { ok: true, request: parsed.request };
  }

  const env = parseSignedRequest(obj);
  const nonceOf = typeof obj.nonce === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(obj.nonce) ? { nonce: obj.nonce } : {};
  if (!env.ok) return { ...refuse('malformed', `bad signed request: ${env.error}`), ...nonceOf };
  const req = env.request;
  const nonce = { nonce: req.nonce };
  const found = g.trust.lookup(req.key);
  if (!found) return { ...refuse('unknown-key', `key ${req.key} is not in this box's trusted_keys`), ...nonce };
  const signer: SignerInfo = { name: found.name, role: found.role, fingerprint: found.fingerprint };
  const who = { ...nonce, signer };
  if (!verifySignature(found.key, topic, req)) {
    return { ...refuse('bad-signature', `signature does not verify for key '${found.name}' over this topic and payload`), ...who };
  }

  const sent = Date.parse(req.sent_at);
  const expires = Date.parse(req.expires_at);
  const skewMs = g.settings.clock_skew * 1000;
  if (Number.isNaN(sent) || Number.isNaN(expires)) return { ...refuse('malformed', 'sent_at or expires_at is not a valid time'), ...who };
  if (expires <= sent) return { ...refuse('malformed', `expires_at ${req.expires_at} is not after sent_at ${req.sent_at}`), ...who };
  if (sent > g.now + skewMs) {
    return { ...refuse('future', `sent_at ${req.sent_at} is ${secs(sent - g.now)} s ahead of this box's clock (${iso(g.now)}); allowed skew ${g.settings.clock_skew} s`), ...who };
  }
  if (expires < g.now - skewMs) {
    return { ...refuse('expired', `expired at ${req.expires_at} (now ${iso(g.now)}, allowed skew ${g.settings.clock_skew} s)`), ...who };
  }
  if (expires - sent > g.maxAgeMs) {
    return { ...refuse('too-long', `valid for ${secs(expires - sent)} s, longer than mqtt.command_max_age (${secs(g.maxAgeMs)} s)`), ...who };
  }
  if (!roleAllows(found.role, command)) {
    return { ...refuse('forbidden', `key '${found.name}' has the ${found.role} role; '${command}' needs ${requiredRole(command)}`), ...who };
  }
  const nonceUntil = expires + skewMs;
  const admitted = g.nonces.admit(req.nonce, nonceUntil, g.now);
  if (admitted === 'replay') return { ...refuse('replay', `nonce ${req.nonce} was already used: a replayed request is not run again`), ...who };
  if (admitted === 'full') return { ...refuse('nonce-cache-full', `too many unexpired requests remembered (mqtt.commands.nonce_cache ${g.settings.nonce_cache}); retry later`), ...who };

  let args: unknown;
  try {
    args = req.payload.trim() === '' ? {} : JSON.parse(req.payload);
  } catch (err) {
    return { ...refuse('malformed', `signed payload is not JSON: ${(err as Error).message}`), ...who };
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return { ...refuse('malformed', 'signed payload must be a JSON object'), ...who };
  const a = args as Record<string, unknown>;
  const transaction = typeof a.transaction === 'string' || typeof a.transaction === 'number' ? { transaction: a.transaction } : {};
  for (const k of ['sent_at', 'expires_at', 'id']) {
    if (Object.hasOwn(a, k)) return { ...refuse('malformed', `'${k}' belongs to the signed envelope, not to the payload`), ...who, ...transaction };
  }
  const problems = validateCommandPayload(command, a);
  if (problems.length > 0) return { ...refuse('malformed', `invalid '${command}' request: ${problems.join('; ')}`), ...who, ...transaction, details: problems };
  const rest = { ...a };
  delete rest.transaction;
  const request: ParsedRequest = { command, args: rest, ...transaction };
  return { ok: true, request, signer, nonce: req.nonce, nonceUntil };
}

function refuse(reason: RefusalReason, error: string): { ok: false; reason: RefusalReason; error: string } {
  return { ok: false, reason, error };
}

const secs = (ms: number) => Math.round(ms / 100) / 10;
const iso = (ms: number) => new Date(ms).toISOString();
