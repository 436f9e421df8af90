// Issue #19: the configuration shipped in the image and the examples carry no secret inline:
// every secret is named by a *_file field (README "Security", where secrets live).
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const SHIPPED = [
  'rootfs/etc/twinvip/twinvip.json',
  ...readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).map((f) => `examples/${f}`),
];
/** The inline forms of the secrets that have a *_file form. */
const INLINE = new Set(['key', 'password']);

function inlineSecrets(value: unknown, path: string, out: string[]): string[] {
  if (Array.isArray(value)) value.forEach((v, i) => inlineSecrets(v, `${path}/${i}`, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (INLINE.has(k) && typeof v === 'string') out.push(`${path}/${k}`);
      inlineSecrets(v, `${path}/${k}`, out);
    }
  }
  return out;
}

describe('shipped configuration', () => {
  it('names its files', () => {
    expect(SHIPPED.length).toBeGreaterThan(3);
  });

  it.each(SHIPPED)('%s carries no secret inline (key, password): only *_file', (file) => {
    const config = JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as unknown;
    expect(inlineSecrets(config, '', [])).toEqual([]);
  });

  it('the check catches an inline secret', () => {
    expect(inlineSecrets({ heartbeat: { serial: { key: 'x' } }, console: { password: 'y' } }, '', [])).toEqual(['/heartbeat/serial/key', '/console/password']);
  });
});
