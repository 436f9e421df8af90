// globalSetup of the integration project: builds dist/ (scripts/build.mjs: esbuild, a few
// seconds) once per vitest run, before any file starts, so a run never tests a bundle older than
// the sources. Integration files run in parallel workers; a rebuild while they run would delete
// dist/ under a daemon that is starting (build.mjs starts from an empty dist/), so no test file
// builds by itself (helpers/bundle.ts buildBundle only checks), and the tarball tests run
// `make -o build rootfs` (image/tarball.ts).
import { buildBundleNow } from './bundle';

export default function setup(): void {
  buildBundleNow();
}
