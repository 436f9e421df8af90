// Entry of the fleet-trust benchmarks: bundles a TypeScript benchmark (it imports src/ directly)
// with esbuild into out/bench-fleet/ (with the config worker beside it, as in dist/) and runs it
// with this same (pinned) Node. Results: bench/results/fleet-*.json and bench/README.md.
//   node_modules/.bin/node bench/fleet/run.mjs          # both
//   node_modules/.bin/node bench/fleet/run.mjs parse    # the largest allowed request, in process
//   node_modules/.bin/node bench/fleet/run.mjs flood    # advert jitter under a hostile flood (root, namespaces)
//   node_modules/.bin/node bench/fleet/run.mjs scale    # twinvip fleet against 2,000 simulated pairs (make build first)
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BENCHES = ['parse', 'flood', 'scale'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const extra = process.argv.slice(2).filter((a) => a.startsWith('--'));
for (const w of wanted) if (!BENCHES.includes(w)) { console.error(`unknown benchmark ${w}; choose from ${BENCHES.join(', ')}`); process.exit(2); }
const outdir = join(root, 'out', 'bench-fleet');
mkdirSync(outdir, { recursive: true });
const common = {
  bundle: true, platform: 'node', target: 'node24', format: 'esm', external: ['@serialport/bindings-cpp'],
  define: { TWINVIP_VERSION: '"bench"' }, logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};
await build({ ...common, entryPoints: { 'config-worker': join(root, 'src/config/worker-entry.ts') }, outdir });
await build({ ...common, entryPoints: { hostile: join(root, 'test/integration/mqtt/hostile-publisher.ts') }, outdir });
let failed = 0;
for (const name of wanted.length ? wanted : BENCHES) {
  await build({ ...common, entryPoints: { [name]: join(root, 'bench', 'fleet', `${name}.ts`) }, outdir });
  console.log(`\n=== fleet ${name} ===`);
  const r = spawnSync(process.execPath, [join(outdir, `${name}.js`), ...extra], { cwd: root, stdio: 'inherit', env: { ...process.env, FLEET_BENCH_DIR: outdir } });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
