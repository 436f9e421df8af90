// The integration project's globalSetup rebuilds dist/ only when a build input is newer than the
// bundle (test/helpers/build-bundle.global.ts), and rebuilds or refuses a native addon older than its
// sources: checked on fake checkouts with set mtimes.
import { chmodSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUNDLE_INPUTS, addonPath, addonStaleInputs, bundleIsCurrent, ensureAddonCurrent } from '../../helpers/build-bundle.global';
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

describe('ensureAddonCurrent (native addon older than native/*.c)', () => {
  /** A checkout with native/twinvip_net.c and native/Makefile dated `inputs`, the addon `addon`. */
  function native(inputs: number, addon?: number): { root: string; addon: string; touch: (rel: string, at: number) => void } {
    dir = makeTempDir('tv-addon-');
    const root = dir.path;
    const touch = (rel: string, at: number) => utimesSync(join(root, rel), at, at);
    mkdirSync(join(root, 'native', 'build', 'x64'), { recursive: true });
    for (const f of ['native/twinvip_net.c', 'native/Makefile']) {
      writeFileSync(join(root, f), '');
      touch(f, inputs);
    }
    if (addon !== undefined) {
      writeFileSync(addonPath(root, 'x64'), '');
      touch('native/build/x64/twinvip_net.node', addon);
    }
    return { root, addon: addonPath(root, 'x64'), touch };
  }
  /** A stand-in for make: an executable script in the checkout. */
  function fakeMake(root: string, body: string): string {
    const path = join(root, 'fake-make');
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  it('a current addon: nothing is run', () => {
    const c = native(1_000, 2_000);
    expect(addonStaleInputs(c.root, 'x64')).toEqual([]);
    expect(() => ensureAddonCurrent(c.root, 'x64', join(c.root, 'no-such-make'))).not.toThrow();
  });

  it('a .c file newer than the addon is stale; a make that rebuilds it lets the run start', () => {
    const c = native(1_000, 2_000);
    c.touch('native/twinvip_net.c', 3_000);
    expect(addonStaleInputs(c.root, 'x64')).toEqual([join(c.root, 'native', 'twinvip_net.c')]);
    ensureAddonCurrent(c.root, 'x64', fakeMake(c.root, `touch '${c.addon}'`));
    expect(addonStaleInputs(c.root, 'x64')).toEqual([]);
  });

  it('stale and the rebuild fails: refuses with the addon, the newer source, make exit status and output', () => {
    const c = native(1_000, 2_000);
    c.touch('native/twinvip_net.c', 3_000);
    const make = fakeMake(c.root, 'echo "twinvip_net.c:12: error: expected ;" >&2; exit 2');
    expect(() => ensureAddonCurrent(c.root, 'x64', make)).toThrow(
      /native addon native\/build\/x64\/twinvip_net\.node is older than native\/twinvip_net\.c, and rebuilding it \(make -C native ARCH=x64\) failed \(exit 2\)[\s\S]*make addon[\s\S]*expected ;/,
    );
  });

  it('stale and make succeeds without rebuilding: still refused (left it stale)', () => {
    const c = native(1_000, 2_000);
    c.touch('native/Makefile', 3_000);
    expect(() => ensureAddonCurrent(c.root, 'x64', fakeMake(c.root, 'exit 0'))).toThrow(/older than native\/Makefile.*left it stale/);
  });

  it('a missing addon is rebuilt, or refused as missing', () => {
    const c = native(1_000);
    expect(addonStaleInputs(c.root, 'x64')).toHaveLength(2);
    expect(() => ensureAddonCurrent(c.root, 'x64', fakeMake(c.root, 'exit 1'))).toThrow(/twinvip_net\.node is missing, and rebuilding it .* failed \(exit 1\)/);
    ensureAddonCurrent(c.root, 'x64', fakeMake(c.root, `touch '${c.addon}'`));
    expect(addonStaleInputs(c.root, 'x64')).toEqual([]);
  });
});
