import type { Transaction } from '../envelope';
import { COMMAND_NAMES, isCommandName, validateCommandPayload, type CommandName } from './schemas';

/** What arrived with the PUBLISH besides its topic and payload. */
export interface RequestMeta {
  retain: boolean;
  /** MQTT 5 message expiry interval, seconds, as the broker forwarded it (already decremented). */
  messageExpiry?: number;
}

export interface ParsedRequest {
  command: CommandName;
  /** Key for de-duplication: the `id` field, else the transaction. */
  id?: string;
  transaction?: Transaction;
  args: Record<string, unknown>;
}

export type RequestResult = { ok: true; request: ParsedRequest } | { ok: false; error: string; transaction?: Transaction; details?: string[] };

/**
 * Validates one request. Never throws: a bad request is an error value answered on the response
 * topic. `now` is epoch ms; `maxAgeMs` bounds how old `sent_at` may be.
 */
export function parseRequest(command: string, payload: Buffer, meta: RequestMeta, now: number, maxAgeMs: number, parsed?: Record<string, unknown>): RequestResult {
  let body: unknown = parsed ?? {};
  const text = parsed ? '' : payload.toString('utf8').trim();
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch (err) {
      return { ok: false, error: `payload is not JSON: ${(err as Error).message}` };
    }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, error: 'payload must be a JSON object' };
  const obj = body as Record<string, unknown>;
  const transaction = typeof obj.transaction === 'string' || typeof obj.transaction === 'number' ? obj.transaction : undefined;
  if (!isCommandName(command)) return { ok: false, error: `unknown command '${command}'; known: ${COMMAND_NAMES.join(', ')}`, transaction };
  // A retained request would run again at every reconnect of every subscriber.
  if (meta.retain) return { ok: false, error: 'retained requests are refused; publish requests with retain=false', transaction };
  const problems = validateCommandPayload(command, obj);
  if (problems.length > 0) return { ok: false, error: `invalid '${command}' request: ${problems.join('; ')}`, transaction, details: problems };
  const expiry = checkExpiry(obj, now, maxAgeMs);
  if (expiry) return { ok: false, error: expiry, transaction };
  const id = typeof obj.id === 'string' ? obj.id : transaction !== undefined ? `t:${String(transaction)}` : undefined;
  const args: Record<string, unknown> = { ...obj };
  for (const k of ['id', 'transaction', 'expires_at', 'sent_at']) delete args[k];
  const request: ParsedRequest = { command, args };
  if (id !== undefined) request.id = id;
  if (transaction !== undefined) request.transaction = transaction;
  return { ok: true, request };
}

/** Epoch ms of an ISO string or a number of epoch ms; undefined when unreadable. */
export function timeOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function checkExpiry(obj: Record<string, unknown>, now: number, maxAgeMs: number): string | undefined {
  if (obj.expires_at !== undefined) {
    const t = timeOf(obj.expires_at);
    if (t === undefined) return `expires_at ${JSON.stringify(obj.expires_at)} is not an ISO time or epoch ms`;
    if (t < now) return `expired at ${new Date(t).toISOString()} (now ${new Date(now).toISOString()})`;
  }
  if (obj.sent_at !== undefined) {
    const t = timeOf(obj.sent_at);
    if (t === undefined) return `sent_at ${JSON.stringify(obj.sent_at)} is not an ISO time or epoch ms`;
    const age = now - t;
    if (age > maxAgeMs) return `too old: sent ${Math.round(age / 1000)} s ago, limit ${Math.round(maxAgeMs / 1000)} s (mqtt.command_max_age)`;
  }
  return undefined;
}
