// Bundles the CLI into dist/twinvip.js (the entry, run by the pinned Node.js 24) plus chunks
// beside it (dist/*-<hash>.js): each command and each optional feature (MQTT, e-mail, the
// serial port) is a dynamic import(), so the daemon only parses what its configuration uses
// (resident memory: see bench/README.md "steady"). Chunks stay in dist/ itself, so
// import.meta.url-relative lookups (the addon, board/) see the same directory as the entry.
// Native addons stay external: node-gyp-build finds their prebuilds relative to their own
// package, so they ship beside the bundle (see the rootfs target), never inside it.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// Chunk names carry a hash: start from an empty dist/ so rootfs never ships a stale one.
rmSync('dist', { recursive: true, force: true });

await build({
  // config-worker: validation of a reloaded or pushed config off the main thread (src/config/off-thread.ts);
  // ha-worker: VRRP and the serial heartbeat in their own thread (src/ha/worker/host.ts).
  entryPoints: { twinvip: 'src/cli.ts', 'config-worker': 'src/config/worker-entry.ts', 'ha-worker': 'src/ha/worker/entry.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: '[name]-[hash]',
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
