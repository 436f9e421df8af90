import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { statField, statNumber } from '../../../src/lib/proc-stat';

// Fields 1-4 and 19 (nice) of proc(5), the rest zeros, policy (41) last but one.
function stat(comm: string, nice: number, policy: number): string {
  const after = Array.from({ length: 50 }, () => '0');
  after[0] = 'S';
  after[1] = '77';
  after[19 - 3] = String(nice);
  after[41 - 3] = String(policy);
  return `1234 (${comm}) ${after.join(' ')}\n`;
}

describe('statField', () => {
  it('counts the fields after the last parenthesis, whatever the command name holds', () => {
    for (const comm of ['node', 'a b', 'x) (y', ')']) {
      const s = stat(comm, -10, 2);
      expect(statField(s, 1)).toBe('1234');
      expect(statField(s, 2)).toBe(comm);
      expect(statField(s, 3)).toBe('S');
      expect(statNumber(s, 4)).toBe(77);
      expect(statNumber(s, 19)).toBe(-10);
      expect(statNumber(s, 41)).toBe(2);
    }
  });

  it('gives undefined for a field the line does not have', () => {
    expect(statField('1 (x) S', 4)).toBeUndefined();
    expect(statNumber('1 (x) S', 3)).toBeUndefined();
    expect(statField('', 3)).toBeUndefined();
  });

  it("reads this process's own stat as the kernel writes it", () => {
    const own = readFileSync('/proc/self/stat', 'utf8');
    expect(statNumber(own, 1)).toBe(process.pid);
    expect(statNumber(own, 4)).toBe(process.ppid);
  });
});
