// The serial heartbeat's core (src/heartbeat/) does no I/O and holds no key: no node: module (the
// MAC function and the boot id's random part come from the shell, src/ha/heartbeat/), no package.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = resolve(import.meta.dirname, '../../../src/heartbeat');
const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

describe('src/heartbeat stays I/O-free', () => {
  it('imports only relative modules (no node:crypto, node:fs, packages)', () => {
    const offending: string[] = [];
    for (const name of readdirSync(CORE).filter((f) => f.endsWith('.ts'))) {
      for (const m of readFileSync(join(CORE, name), 'utf8').matchAll(IMPORT)) {
        if (!m[1]!.startsWith('.')) offending.push(`${name}: ${m[1]}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
