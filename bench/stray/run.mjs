// Entry of the stray-advert benchmark (issue 15): bundles bench/stray/stray.ts (it imports src/
// and the test's rogue sender directly) with esbuild into out/bench-stray/ and runs it with this
// same (pinned) Node. Root, namespaces, keepalived, socat; `make build` first (the daemon bundle).
//   node_modules/.bin/node bench/stray/run.mjs [--seconds 30] [--flood 20000] [--impls pair,mixed,keepalived] [--cases case1,case2,case3,case4,flood]
// Results: bench/results/stray-<date>.json and bench/README.md.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outdir = join(root, 'out', 'bench-stray');
mkdirSync(outdir, { recursive: true });
await build({
  bundle: true, platform: 'node', target: 'node24', format: 'esm', external: ['@serialport/bindings-cpp'],
  define: { TWINVIP_VERSION: '"bench"' }, logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  entryPoints: { stray: join(root, 'bench', 'stray', 'stray.ts') }, outdir,
});
const r = spawnSync(process.execPath, [join(outdir, 'stray.js'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
