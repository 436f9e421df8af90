// Regenerates README.md's configuration reference (between the config-reference markers) from
// the JSON Schema. Run: node_modules/.bin/node scripts/gen-config-doc.mjs
// test/unit/config/reference-doc.test.ts fails while README.md is out of step with the schema.
import { build } from 'esbuild';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url);
const dir = await mkdtemp(join(tmpdir(), 'twinvip-doc-'));
try {
  const outfile = join(dir, 'reference-doc.mjs');
  await build({
    entryPoints: [new URL('src/config/reference-doc.ts', root).pathname],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
  });
  const { spliceReference } = await import(pathToFileURL(outfile).href);
  const readmePath = new URL('README.md', root);
  const before = await readFile(readmePath, 'utf8');
  const after = spliceReference(before);
  if (after === before) {
    console.log('README.md: configuration reference already up to date');
  } else {
    await writeFile(readmePath, after);
    console.log('README.md: configuration reference regenerated');
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
