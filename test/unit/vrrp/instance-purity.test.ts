import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// DESIGN.md "functional core": src/vrrp does no I/O and reads no clock; time comes in as `now`.
const dir = join(import.meta.dirname, '../../../src/vrrp');

describe('the VRRP core is sans-I/O', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

  it('has source files to check', () => {
    expect(files).toEqual(expect.arrayContaining(['instance.ts', 'timers.ts', 'sync-group.ts', 'events.ts']));
  });

  it.each(files)('%s imports no I/O module and reads no clock or timer', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    expect(text).not.toMatch(/from ['"](node:)?(net|dgram|child_process|fs|fs\/promises|http|https|os)['"]/);
    expect(text).not.toMatch(/\b(Date\.now|performance\.now|setTimeout|setInterval|process\.hrtime)\b/);
  });
});
