// Entry of the Nginx benchmarks: bundles a TypeScript benchmark (which imports src/ directly) with
// esbuild into out/bench-nginx-<name>.mjs and runs it with this same (pinned) Node.
//   node_modules/.bin/node bench/nginx/run.mjs            # every benchmark
//   node_modules/.bin/node bench/nginx/run.mjs reload     # reload-under-load only
//   node_modules/.bin/node bench/nginx/run.mjs upstream   # upstream killed -> removal only
//   node_modules/.bin/node bench/nginx/run.mjs hung       # upstream hung (SIGSTOP) -> removal only
//   node_modules/.bin/node bench/nginx/run.mjs tls        # HTTPS: reloads/rotations under load, handshakes/s vs plain
// Plain `--experimental-strip-types` cannot run src/: it imports without extensions and uses
// parameter properties, hence the bundle.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BENCHES = {
  reload: { file: 'reload-under-load', env: {} },
  upstream: { file: 'upstream-removal', env: { NBENCH_FAULT: 'kill' } },
  hung: { file: 'upstream-removal', env: { NBENCH_FAULT: 'stop' } },
  tls: { file: 'tls', env: {} },
};

const wanted = process.argv.slice(2);
for (const w of wanted) {
  if (!(w in BENCHES)) {
    console.error(`unknown benchmark ${JSON.stringify(w)}; choose from: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
}
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);

mkdirSync(join(root, 'out'), { recursive: true });
let failed = 0;
for (const name of names) {
  const { file, env } = BENCHES[name];
  const outfile = join(root, 'out', `bench-nginx-${file}.mjs`);
  await build({
    entryPoints: [join(root, 'bench', 'nginx', `${file}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    external: ['@serialport/bindings-cpp'],
    define: { TWINVIP_VERSION: '"bench"' },
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  console.log(`\n=== ${name}: ${file} ${JSON.stringify(env)} ===`);
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [outfile], { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });
    // Forward an interrupt so the benchmark cleans up what it started.
    const fwd = (sig) => child.kill(sig);
    process.on('SIGINT', fwd);
    process.on('SIGTERM', fwd);
    child.on('exit', (c, sig) => {
      process.off('SIGINT', fwd);
      process.off('SIGTERM', fwd);
      resolve(c ?? (sig ? 1 : 0));
    });
  });
  if (code !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
