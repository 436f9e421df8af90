// Bundles the CLI into one file, dist/twinvip.js, run by the pinned Node.js 24.
// Native addons stay external: node-gyp-build finds their prebuilds relative to their own
// package, so they ship beside the bundle (see the rootfs target), never inside it.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/twinvip.js',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: 'linked',
  legalComments: 'none',
  external: ['@serialport/bindings-cpp'],
  define: { TWINVIP_VERSION: JSON.stringify(pkg.version) },
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __twinvipCreateRequire } from 'node:module';",
      'const require = __twinvipCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  logLevel: 'warning',
});
