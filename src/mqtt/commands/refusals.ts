/**
 * Why a request was refused. Each reason is its own counter (`refused_<reason>` in the mqtt
 * counters: status, console, diagnostics) and appears in the audit event, so an operator can tell
 * a misconfigured fleet tool (unknown-key, expired: a clock) from an attack (bad-signature, replay).
 */
export const REFUSAL_REASONS = [
  'rate-limited', // beyond mqtt.commands.rate/burst: dropped unread, no answer
  'oversize', // over mqtt.commands.max_payload: refused before parsing
  'retained', // a retained request would run again at every reconnect
  'unknown-command',
  'malformed', // not JSON, bad envelope, bad arguments
  'unsigned', // a command that must be signed arrived without a signature
  'unknown-key', // signed by a key not in trusted_keys
  'bad-signature',
  'future', // sent_at ahead of this box's clock by more than clock_skew
  'expired', // expires_at passed (beyond clock_skew), or sent_at older than command_max_age
  'too-long', // expires_at further than command_max_age after sent_at
  'replay', // nonce already used
  'nonce-cache-full',
  'forbidden', // the key's role does not allow the command
  'push-disabled', // config push while mqtt.commands.config_push is false
  'local-only', // a pushed config changes local-only fields
  'shed', // arrived while the box had stopped listening after a flood (flood-shed.ts): dropped unread
] as const;

export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export function refusalCounterName(reason: RefusalReason): string {
  return `refused_${reason.replaceAll('-', '_')}`;
}

export function emptyRefusalCounts(): Record<RefusalReason, number> {
  return Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>;
}
