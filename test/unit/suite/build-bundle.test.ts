// The integration project's globalSetup rebuilds dist/ only when a build input is newer than the
// bundle (test/helpers/build-bundle.global.ts): checked on a fake checkout with set mtimes.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUNDLE_INPUTS, bundleIsCurrent } from '../../helpers/build-bundle.global';
import { makeTempDir, type TempDir } from '../../helpers/tmp';

let dir: TempDir | undefined;
afterEach(() => dir?.remove());

/** A checkout whose every input and directory is dated `inputs` (s since the epoch), the bundle `bundle`. */
function checkout(inputs: number, bundle?: number): { root: string; bundle: string; touch: (rel: string, at: number) => void } {
  dir = makeTempDir('tv-bundle-');
  const root = dir.path;
  const touch = (rel: string, at: number) => utimesSync(join(root, rel), at, at);
  mkdirSync(join(root, 'src', 'vrrp'), { recursive: true });
  mkdirSync(join(root, 'scripts'));
  mkdirSync(join(root, 'dist'));
  for (const f of ['src/cli.ts', 'src/vrrp/instance.ts', 'scripts/build.mjs', 'package.json', 'package-lock.json']) writeFileSync(join(root, f), '');
  for (const p of ['src/cli.ts', 'src/vrrp/instance.ts', 'src/vrrp', 'src', 'scripts/build.mjs', 'package.json', 'package-lock.json']) touch(p, inputs);
  if (bundle !== undefined) {
    writeFileSync(join(root, 'dist', 'twinvip.js'), '');
    touch('dist/twinvip.js', bundle);
  }
  return { root, bundle: join(root, 'dist', 'twinvip.js'), touch };
}

describe('bundleIsCurrent', () => {
  it('is current when the bundle is newer than every input', () => {
    const c = checkout(1_000, 2_000);
    expect(bundleIsCurrent(c.root, c.bundle)).toBe(true);
  });

  it('is not current without a bundle', () => {
    const c = checkout(1_000);
    expect(bundleIsCurrent(c.root, c.bundle)).toBe(false);
  });

  it('is not current when any input, however deep, changed after the build', () => {
    for (const rel of ['src/vrrp/instance.ts', 'src/cli.ts', 'scripts/build.mjs', 'package.json', 'package-lock.json']) {
      const c = checkout(1_000, 2_000);
      c.touch(rel, 3_000);
      expect(bundleIsCurrent(c.root, c.bundle), rel).toBe(false);
      dir!.remove();
    }
    expect(BUNDLE_INPUTS).toEqual(['src', 'scripts/build.mjs', 'package.json', 'package-lock.json']);
  });

  it('is not current when a file was added or removed after the build (the directory changed)', () => {
    const c = checkout(1_000, 2_000);
    c.touch('src/vrrp', 3_000);
    expect(bundleIsCurrent(c.root, c.bundle)).toBe(false);
  });
});
