// Wait timeouts stretch by TWINVIP_TEST_PATIENCE on a busy machine (test/helpers/patience.ts).
import { describe, expect, it } from 'vitest';
import { patienceFactor } from '../../helpers/patience';
import { waitFor } from '../../helpers/wait';

describe('patience', () => {
  it('defaults to 4 and takes a number >= 1 from the environment', () => {
    expect(patienceFactor(undefined)).toBe(4);
    expect(patienceFactor('')).toBe(4);
    expect(patienceFactor('1')).toBe(1);
    expect(patienceFactor('2.5')).toBe(2.5);
  });

  it('refuses a factor that would shorten or break every wait', () => {
    for (const bad of ['0', '0.5', '-2', 'fast', 'NaN', 'Infinity']) expect(() => patienceFactor(bad), bad).toThrow(/TWINVIP_TEST_PATIENCE must be a number >= 1/);
  });

  it('a failed wait names what never happened, asked at the failure, and the stretched timeout', async () => {
    let seen = 'nothing yet';
    const wait = waitFor(() => false, { timeoutMs: 1, intervalMs: 1, what: () => `the log to say done (log: ${seen})` });
    seen = 'starting';
    await expect(wait).rejects.toThrow(/^timed out after \d+ ms waiting for the log to say done \(log: starting\)$/);
  });
});
