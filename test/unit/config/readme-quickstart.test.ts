import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config';

// The README's quick-start configuration is what a newcomer copies first: it must pass the check.
describe('README quick start', () => {
  it('its JSON configuration passes the loader', () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Quick start'));
    const json = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    expect(json, 'a ```json block in the quick start').toBeDefined();
    const r = parseConfigText(json!, 'README quick start');
    expect(r.ok ? [] : r.errors).toEqual([]);
  });
});
