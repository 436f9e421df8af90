// The scheduling policy read from /proc/PID/stat: how a command started real-time by the unit
// (CPUSchedulingPolicy=rr) knows it has a policy to drop, without loading the addon otherwise.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policyFromStat } from '../../../src/ha/worker/start-boost';

// Fields 3.. of a real stat line, with policy (field 41) set to `policy`.
function stat(comm: string, policy: number): string {
  const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
  fields[0] = 'S';
  fields[41 - 3] = String(policy);
  return `4242 (${comm}) ${fields.join(' ')}\n`;
}

describe('policyFromStat', () => {
  it('reads field 41, counting from the last parenthesis (a command name may hold spaces and parentheses)', () => {
    expect(policyFromStat(stat('node', 0))).toBe(0);
    expect(policyFromStat(stat('node', 2))).toBe(2);
    expect(policyFromStat(stat('a b) (c', 2))).toBe(2);
  });

  it('this thread, as the kernel writes it: normal scheduling under the test runner', () => {
    expect(policyFromStat(readFileSync('/proc/thread-self/stat', 'utf8'))).toBe(0);
  });

  it('undefined for a text that is not a stat line', () => {
    expect(policyFromStat('')).toBeUndefined();
    expect(policyFromStat('1 (x) S')).toBeUndefined();
  });
});
