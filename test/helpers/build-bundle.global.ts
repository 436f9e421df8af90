// globalSetup of the integration project: builds dist/ (scripts/build.mjs: esbuild, a few
// seconds) once per vitest run, before any file starts, so a run never tests a bundle older than
// the sources. Integration files run in parallel workers; a rebuild while they run would delete
// dist/ under a daemon that is starting (build.mjs starts from an empty dist/), so no test file
// builds by itself (helpers/bundle.ts buildBundle only checks), and the tarball tests run
// `make -o build rootfs` (image/tarball.ts). A bundle newer than every source is left alone: that
// is the one `make test` has just built, and a second vitest run in the same checkout (one file
// while `make test-stress` runs) does not pull dist/ from under the first.
//
// The native addon (native/build/<arch>/twinvip_net.node, loaded by every daemon from the source
// tree) gets the same check: older than native/*.c or native/Makefile, or missing, it is rebuilt
// with `make -C native` before any file starts; when that fails the run stops with the reason
// instead of testing yesterday's addon.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BUNDLE, REPO_ROOT, buildBundleNow } from './bundle';
import { withLockSync } from './file-lock';

/** The newest modification time (ms) of a file under `dir`, or of `dir` itself when a file. */
function newest(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let n = st.mtimeMs;
  for (const e of readdirSync(path)) n = Math.max(n, newest(join(path, e)));
  return n;
}

/** What scripts/build.mjs reads, relative to the checkout. */
export const BUNDLE_INPUTS = ['src', 'scripts/build.mjs', 'package.json', 'package-lock.json'];

/** dist/twinvip.js exists and is newer than every input of the build. */
export function bundleIsCurrent(root = REPO_ROOT, bundle = BUNDLE): boolean {
  if (!existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  return Math.max(...BUNDLE_INPUTS.map((p) => newest(join(root, p)))) < built;
}

export const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'x64';

/** What the addon is built from (native/Makefile): every native/*.c and the Makefile. */
export function addonInputs(root = REPO_ROOT): string[] {
  const dir = join(root, 'native');
  const names = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.c') || f === 'Makefile') : [];
  return names.sort().map((f) => join(dir, f));
}

export function addonPath(root = REPO_ROOT, arch = HOST_ARCH): string {
  return join(root, 'native', 'build', arch, 'twinvip_net.node');
}

/** The inputs newer than the built addon (every input when it is missing); [] when current. */
export function addonStaleInputs(root = REPO_ROOT, arch = HOST_ARCH): string[] {
  const inputs = addonInputs(root);
  const addon = statSync(addonPath(root, arch), { throwIfNoEntry: false });
  if (!addon) return inputs;
  return inputs.filter((f) => statSync(f).mtimeMs > addon.mtimeMs);
}

/**
 * Rebuilds a missing or stale addon with `make -C native`; throws, naming the inputs and make's
 * output, when it stays stale. `make` is what `make addon` runs (the pinned runtime's headers).
 */
export function ensureAddonCurrent(root = REPO_ROOT, arch = HOST_ARCH, makeCmd = 'make'): void {
  const stale = addonStaleInputs(root, arch);
  if (stale.length === 0) return;
  const r = spawnSync(makeCmd, ['--no-print-directory', '-C', join(root, 'native'), `ARCH=${arch}`], { encoding: 'utf8' });
  const still = addonStaleInputs(root, arch);
  if (r.status === 0 && still.length === 0) return;
  const addon = relative(root, addonPath(root, arch));
  const why = existsSync(addonPath(root, arch)) ? `is older than ${still.map((f) => relative(root, f)).join(', ')}` : 'is missing';
  const out = r.error ? `failed: ${r.error.message}` : r.status !== 0 ? `failed (exit ${r.status})` : 'left it stale';
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`.trimEnd();
  throw new Error(
    `integration tests not started: the native addon ${addon} ${why}, and rebuilding it (make -C native ARCH=${arch}) ${out}. ` +
      `Every daemon of the tests loads this addon; run "make addon" and fix what it reports.${log ? `\n${log}` : ''}`,
  );
}

/**
 * Both integration projects have this globalSetup, and `make test` starts them as two vitest
 * runs at the same time: the lock makes the second wait for the first's build and then find
 * everything current, so the bundle is built once and never under a running file.
 */
export default function setup(): void {
  withLockSync(join(REPO_ROOT, 'out', '.lock-build'), () => {
    ensureAddonCurrent();
    if (!bundleIsCurrent()) buildBundleNow();
  });
}
