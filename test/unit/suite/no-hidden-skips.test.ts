// A test that does not run must say why, and must fail unless a developer opted in
// (TWINVIP_ALLOW_SKIP=1): that is what describeRequiring/itRequiring do. A bare vitest skip
// (describe.skipIf, it.runIf, it.skip, a context's skip()) would pass silently, so none is
// allowed anywhere under test/ or bench/.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/bundle';

const ALLOWED = new Set(['test/helpers/prerequisites.ts', 'test/unit/suite/no-hidden-skips.test.ts']);
const BARE_SKIP = /\b(?:describe|suite|it|test)\s*\.\s*(?:skip|skipIf|runIf|todo|only)\b|\b(?:ctx|context|t)\s*\.\s*skip\s*\(/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'results' ? [] : sources(p);
    return /\.(?:ts|mts|mjs|js)$/.test(e.name) ? [p] : [];
  });
}

function bareSkips(text: string): number[] {
  return text.split('\n').flatMap((line, i) => (BARE_SKIP.test(line) ? [i + 1] : []));
}

describe('no hidden skips', () => {
  it('the pattern catches the bare forms and leaves the helpers alone', () => {
    for (const bad of ['describe.skipIf(!ok)(', 'it.runIf(isRoot)(', "it.skip('x'", 'describe.skip(', 'test.todo(', "it.only('x'", 'ctx.skip()', 't.skip();']) {
      expect(bareSkips(bad), bad).toEqual([1]);
    }
    for (const good of ["describeRequiring(NetnsLab.prerequisites, 'x', () => {", "itRequiring([needsRoot], 'x', async () => {", 'const skipped = 3;', 'frame.skip_count']) {
      expect(bareSkips(good), good).toEqual([]);
    }
  });

  it('no file under test/ or bench/ skips a test except through describeRequiring/itRequiring', () => {
    const offenders = [...sources(join(REPO_ROOT, 'test')), ...sources(join(REPO_ROOT, 'bench'))]
      .map((f) => relative(REPO_ROOT, f))
      .filter((f) => !ALLOWED.has(f))
      .flatMap((f) => bareSkips(readFileSync(join(REPO_ROOT, f), 'utf8')).map((line) => `${f}:${line}`));
    expect(offenders, 'use describeRequiring/itRequiring from test/helpers/prerequisites.ts').toEqual([]);
  });
});
