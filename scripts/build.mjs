// Bundles the CLI into dist/twinvip.js (the entry, run by the pinned Node.js 24) plus chunks
// beside it (dist/*-<hash>.js): each command and each optional feature (MQTT, e-mail, the
// serial port) is a dynamic import(), so the daemon only parses what its configuration uses
// (resident memory: see bench/README.md "steady"). Chunks stay in dist/ itself, so
// import.meta.url-relative lookups (the addon, board/) see the same directory as the entry.
// Native addons stay external: node-gyp-build finds their prebuilds relative to their own
// package, so they ship beside the bundle (see the rootfs target), never inside it.
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// Chunk names carry a hash: start from an empty dist/ so rootfs never ships a stale one.
rmSync('dist', { recursive: true, force: true });

// The config validator as ajv standalone code, generated here from the TypeBox schema with the
// options of src/config/config-validator.ts: the daemon then neither loads ajv's compiler nor
// compiles the schema at start (bench/README.md "steady"). The generator is bundled to a
// temporary module first (the sources are TypeScript), run, and thrown away.
let schemaDataSource;
async function standaloneValidatorSource() {
  const dir = mkdtempSync(join(tmpdir(), 'twinvip-validator-'));
  try {
    const file = join(dir, 'gen.mjs');
    await build({
      entryPoints: ['src/config/config-validator.ts'],
      outfile: file,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
      logLevel: 'warning',
    });
    const gen = await import(pathToFileURL(file).href);
    const code = await gen.standaloneConfigValidator();
    schemaDataSource = `export const CONFIG_SCHEMA_DATA = JSON.parse(${JSON.stringify(gen.configSchemaData())});`;
    return [
      `import { TWINVIP_FORMATS as ${gen.STANDALONE_FORMATS_NAME} } from './format-functions';`,
      eagerValidator(code),
      'export function loadConfigValidator() { return validate; }',
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * ajv's standalone code is one function, `validate10`, of 0.65 MB. V8 compiles a function lazily,
 * at its first call: parsing and compiling this one took 45-70 ms of the main thread at every
 * start, between reading the configuration and starting the HA thread (bench/README.md "start"),
 * and a lazily compiled function is not in Node's compile cache (NODE_COMPILE_CACHE, set by the
 * unit), which holds what was compiled with the module. A parenthesized function expression is
 * compiled eagerly with its module (V8's PIFE heuristic), so the unit's compile cache keeps it
 * and a warm start deserializes it instead (main-thread CPU from import to validated config
 * 102 -> 49 ms). The exports move below the function (a `const` is not hoisted).
 */
function eagerValidator(code) {
  const exportsLine = 'export const validate = validate10;export default validate10;';
  const head = 'function validate10(';
  const tail = 'validate10.errors = vErrors;return errors === 0;}';
  if (code.split(head).length !== 2 || !code.includes(exportsLine) || !code.endsWith(tail)) {
    throw new Error('build: ajv standalone code changed shape (one function validate10, exports first, ending with it): update eagerValidator() in scripts/build.mjs');
  }
  return `${code.replace(exportsLine, '').replace(head, 'const validate10 = (function validate10(')});\n${exportsLine}`;
}

const validatorSource = await standaloneValidatorSource();
const COMPILED_VALIDATOR = resolve('src/config/compiled-validator.ts');
const SCHEMA_DATA = resolve('src/config/schema-data.ts');
/**
 * Replaces src/config/compiled-validator.ts (run-time compilation) with the generated code, and
 * src/config/schema-data.ts (the TypeBox schema) with the schema as JSON: TypeBox and ajv's
 * compiler stay out of the daemon's start-up (only `check --schema` and the docs load TypeBox).
 */
const standaloneValidator = {
  name: 'standalone-config-validator',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]config[\\/](compiled-validator|schema-data)\.ts$/ }, (args) => {
      if (resolve(args.path) === COMPILED_VALIDATOR) return { contents: validatorSource, loader: 'js', resolveDir: resolve('src/config') };
      if (resolve(args.path) === SCHEMA_DATA) return { contents: schemaDataSource, loader: 'js', resolveDir: resolve('src/config') };
      return undefined;
    });
  },
};

const common = {
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
  plugins: [standaloneValidator],
  metafile: true,
  logLevel: 'warning',
};

const result = await build({
  ...common,
  // config-worker: validation of a reloaded or pushed config off the main thread (src/config/off-thread.ts);
  // serial-modules: the serial port packages, import()ed at the first open by either thread
  // (src/lib/serial-port.ts), under a fixed name so the HA worker's own bundle below finds it.
  entryPoints: { twinvip: 'src/cli.ts', 'config-worker': 'src/config/worker-entry.ts', 'serial-modules': 'src/lib/serial-modules.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: '[name]-[hash]',
});

/**
 * dist/ha-worker.js, VRRP and the serial heartbeat in their own thread (src/ha/worker/host.ts), is
 * a bundle of its own: one file, no chunks shared with the daemon's, whitespace and syntax
 * minified (names kept: stack traces stay readable, with the source map beside it). Its start is
 * on the path from `twinvip run` to the instances in BACKUP (bench/README.md "start"): one file
 * to resolve, read and look up in the compile cache instead of 22, and a third less source to
 * hash (process CPU from spawn to the worker's graph loaded, 15 processes each, medians:
 * 157 -> 141 ms). The serial port packages stay out (loaded at the first open), as
 * dist/serial-modules.js. The worker's entry is a small file of its own (dist/ha-worker.js): its
 * first instruction gives the thread real-time priority for the start (src/ha/worker/
 * start-boost.ts), then it import()s the HA side, dist/ha-side.js, whose loading then runs boosted.
 */
const serialModulesOutside = {
  name: 'serial-modules-outside',
  setup(b) {
    b.onResolve({ filter: /[\\/]serial-modules$/ }, () => ({ path: './serial-modules.js', external: true }));
    b.onResolve({ filter: /^\.\/side$/ }, (args) => (/[\\/]ha[\\/]worker[\\/]entry\.ts$/.test(args.importer) ? { path: './ha-side.js', external: true } : undefined));
  },
};
const haWorker = await build({
  ...common,
  entryPoints: { 'ha-worker': 'src/ha/worker/entry.ts', 'ha-side': 'src/ha/worker/side.ts' },
  outdir: 'dist',
  splitting: false,
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [...common.plugins, serialModulesOutside],
});
// Which output holds which sources and imports which chunks: scripts/rootfs.mjs ships only what the
// appliance can load (not the demo), and the image test checks it. Not shipped itself. The worker's
// import of ./serial-modules.js is external to its own build: recorded as the output it is.
for (const o of Object.values(haWorker.metafile.outputs)) {
  for (const i of o.imports) if (i.path === './serial-modules.js' || i.path === './ha-side.js') Object.assign(i, { path: `dist/${i.path.slice(2)}`, external: false });
}
const meta = {
  inputs: { ...result.metafile.inputs, ...haWorker.metafile.inputs },
  outputs: { ...result.metafile.outputs, ...haWorker.metafile.outputs },
};
writeFileSync('dist/meta.json', JSON.stringify(meta));
