import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REFERENCE_END, REFERENCE_START, renderConfigReference, spliceReference } from '../../../src/config/reference-doc';

const README = join(import.meta.dirname, '../../../README.md');

describe('README configuration reference', () => {
  it('is in step with the schema (regenerate: node_modules/.bin/node scripts/gen-config-doc.mjs)', () => {
    const readme = readFileSync(README, 'utf8');
    const start = readme.indexOf(REFERENCE_START);
    const end = readme.indexOf(REFERENCE_END);
    expect(start, 'README.md lacks the config-reference markers; run scripts/gen-config-doc.mjs').toBeGreaterThanOrEqual(0);
    expect(readme.slice(start, end + REFERENCE_END.length), 'README.md is out of date: run node_modules/.bin/node scripts/gen-config-doc.mjs').toBe(
      renderConfigReference(),
    );
  });

  it('documents every key with type and default', () => {
    const doc = renderConfigReference();
    expect(doc).toContain('| `instances.<name>.priority` | integer 1..255 | `100` |');
    expect(doc).toContain('| `instances.<name>.vips[].address` | string (ip) |');
    expect(doc).toContain('| `checks.<name>.port (tcp)` | integer 1..65535 |');
    expect(doc).toContain('| `heartbeat.serial.baud` |');
    expect(doc).toContain('| `logging.level` | "debug" \\| "info" \\| "warn" \\| "error" | `"info"` |');
  });

  it('replaces only what lies between the markers, and appends the section when they are missing', () => {
    const doc = renderConfigReference();
    expect(spliceReference(`intro\n${REFERENCE_START}\nold\n${REFERENCE_END}\nafter\n`)).toBe(`intro\n${doc}\nafter\n`);
    expect(spliceReference('intro\n')).toBe(`intro\n\n${doc}\n`);
  });
});
