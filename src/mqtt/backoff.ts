/**
 * Reconnect delay after `failures` consecutive failures: exponential from minMs, capped at maxMs,
 * with "equal jitter" (half fixed, half random) so a fleet of boxes that lost the same broker
 * does not reconnect in lock-step, while no box retries much faster than the curve.
 */
export function reconnectDelay(failures: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.max(minMs, maxMs);
  const exp = Math.min(cap, minMs * 2 ** Math.max(0, Math.min(failures, 30)));
  const half = exp / 2;
  return Math.max(1, Math.round(half + random() * half));
}
