/**
 * How long a wait may take before it counts as failed. The timeouts written in the tests are what
 * an event takes on a quiet machine with room to spare; on a loaded one (shared CI, other jobs,
 * `make test-stress`) starting a daemon or a round of `ip` commands takes several times longer,
 * while a wait that is satisfied returns at once whatever its timeout. So every wait for an event
 * (and the vitest test and hook timeouts) goes through patience(): the written timeout times
 * TWINVIP_TEST_PATIENCE (default 4). A timeout that is itself under test (a probe's timeout, a
 * daemon setting) is never scaled, and no test asserts that something happens within a time:
 * timing targets are benchmarks (bench/).
 */
const DEFAULT_PATIENCE = 4;

/** The factor from TWINVIP_TEST_PATIENCE's value; refuses nonsense rather than waiting 0 ms. */
export function patienceFactor(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_PATIENCE;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1) throw new Error(`TWINVIP_TEST_PATIENCE must be a number >= 1, got ${JSON.stringify(value)}`);
  return n;
}

export const PATIENCE = patienceFactor(process.env.TWINVIP_TEST_PATIENCE);

/** A wait's timeout, scaled for a busy machine. */
export function patience(ms: number): number {
  return Math.round(ms * PATIENCE);
}
