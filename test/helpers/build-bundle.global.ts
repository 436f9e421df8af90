// globalSetup of the integration project: builds dist/ (scripts/build.mjs: esbuild, a few
// seconds) once per vitest run, before any file starts, so a run never tests a bundle older than
// the sources. Integration files run in parallel workers; a rebuild while they run would delete
// dist/ under a daemon that is starting (build.mjs starts from an empty dist/), so no test file
// builds by itself (helpers/bundle.ts buildBundle only checks), and the tarball tests run
// `make -o build rootfs` (image/tarball.ts). A bundle newer than every source is left alone: that
// is the one `make test` has just built, and a second vitest run in the same checkout (one file
// while `make test-stress` runs) does not pull dist/ from under the first.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE, REPO_ROOT, buildBundleNow } from './bundle';

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

export default function setup(): void {
  if (!bundleIsCurrent()) buildBundleNow();
}
