// Builds out/twinvip-<version>-linux-<arch>.tar.gz: everything an image maker unpacks over a
// root filesystem. Run by `make rootfs ARCH=arm64|x64`, which first builds the bundle
// (dist/twinvip.js) and the addon for ARCH (native/build/<arch>/twinvip_net.node).
//
//   opt/twinvip/bin/twinvip       launcher (sh): exec's the bundled node on the bundle
//   opt/twinvip/runtime/node      Node.js runtime for ARCH, from the npm package node-linux-<arch>
//   opt/twinvip/lib/twinvip.js    the app (esbuild bundle: the entry)
//   opt/twinvip/lib/*-<hash>.js   its chunks, loaded on demand (commands, MQTT, nodemailer, ...),
//                                 not the demo's (scripts/image-files.mjs)
//   opt/twinvip/lib/twinvip_net.node               our N-API addon, built for ARCH
//   opt/twinvip/lib/node_modules/@serialport/...   bindings-cpp: JS + prebuilds/linux-<arch> only
//   opt/twinvip/board/<name>/board.json            board facts (node.board in the config)
//   usr/bin/twinvip -> ../../opt/twinvip/bin/twinvip
//   etc/systemd/system.conf.d/60-twinvip-watchdog.conf   the board's hardware watchdog for PID 1
//                                 (--board NAME, default generic-arm64 for arm64, none for x64)
//   etc/..., usr/lib/...          the rootfs/ overlay (unit, sysctl, tmpfiles, default config)
//
// The Node.js package is fetched once with `npm pack` into out/cache/ (or taken from
// node_modules when it is the installed one) and only bin/node and LICENSE are kept.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from './node-flags.mjs';
import { applianceOutputs } from './image-files.mjs';
import { DROPIN_PATH, watchdogDropIn } from './watchdog-dropin.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ARCHES = { x64: { gnu: 'x86_64-linux-gnu', elf: 'x86-64' }, arm64: { gnu: 'aarch64-linux-gnu', elf: 'aarch64' } };

function die(msg) {
  process.stderr.write(`rootfs: ${msg}\n`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) die(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) die(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r.stdout ?? '';
}

const arch = process.argv.find((a) => a.startsWith('--arch='))?.slice('--arch='.length) ?? process.argv[process.argv.indexOf('--arch') + 1];
if (!arch || !(arch in ARCHES)) die(`usage: rootfs.mjs --arch x64|arm64 (got ${arch ?? 'nothing'})`);
const hostArch = process.arch === 'arm64' ? 'arm64' : 'x64';
const boardArg = process.argv.find((a) => a.startsWith('--board='))?.slice('--board='.length) ?? (process.argv.includes('--board') ? process.argv[process.argv.indexOf('--board') + 1] : undefined);
// The board whose watchdog the image's systemd drives: "none" for no drop-in.
const boardName = boardArg || (arch === 'arm64' ? 'generic-arm64' : 'none');
if (boardName !== 'none' && !existsSync(join(ROOT, 'board', boardName, 'board.json'))) die(`--board ${boardName}: no board/${boardName}/board.json`);

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const nodePkg = `node-linux-${arch}`;
const nodeVersion = pkg.optionalDependencies?.[nodePkg];
if (!nodeVersion) die(`package.json pins no ${nodePkg} in optionalDependencies`);

const bundle = join(ROOT, 'dist', 'twinvip.js');
const addon = join(ROOT, 'native', 'build', arch, 'twinvip_net.node');
for (const f of [bundle, addon]) if (!existsSync(f)) die(`${relative(ROOT, f)} missing (run "make build addon ARCH=${arch}" or "make rootfs")`);
const elf = run('file', ['-b', addon]);
if (!elf.includes(ARCHES[arch].elf)) die(`${relative(ROOT, addon)} is not an ${arch} binary: ${elf.trim()}`);

const out = join(ROOT, 'out');
const cache = join(out, 'cache');
const stage = join(out, `stage-linux-${arch}`);
const tarball = join(out, `twinvip-${pkg.version}-linux-${arch}.tar.gz`);
mkdirSync(cache, { recursive: true });
rmSync(stage, { recursive: true, force: true });

// ---- Node.js runtime: the installed package when it is this one, else npm pack (cached).
function nodeRuntimeDir() {
  const installed = join(ROOT, 'node_modules', nodePkg);
  if (existsSync(join(installed, 'bin', 'node'))) {
    const v = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version;
    if (v === nodeVersion) return installed;
  }
  const unpacked = join(cache, `${nodePkg}-${nodeVersion}`);
  if (existsSync(join(unpacked, 'bin', 'node'))) return unpacked;
  const tgz = join(cache, `${nodePkg}-${nodeVersion}.tgz`);
  if (!existsSync(tgz)) {
    process.stdout.write(`rootfs: fetching ${nodePkg}@${nodeVersion} (npm pack, cached in out/cache)\n`);
    // --ignore-scripts: nothing of the package runs here; only its files are used.
    run('npm', ['pack', `${nodePkg}@${nodeVersion}`, '--pack-destination', cache, '--ignore-scripts', '--silent'], { cwd: cache });
  }
  const tmp = `${unpacked}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  run('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
  cpSync(tmp, unpacked, { recursive: true });
  rmSync(tmp, { recursive: true, force: true });
  return unpacked;
}

const runtime = nodeRuntimeDir();
const opt = join(stage, 'opt', 'twinvip');
mkdirSync(join(opt, 'runtime'), { recursive: true });
mkdirSync(join(opt, 'bin'), { recursive: true });
mkdirSync(join(opt, 'lib'), { recursive: true });

// Debug info and the static symbol table are about 15 % of node's size and unused at run time
// (the dynamic symbols that addons link against stay).
const strip = arch === hostArch ? 'strip' : `${ARCHES[arch].gnu}-strip`;
const nodeOut = join(opt, 'runtime', 'node');
if (spawnSync(strip, ['--version']).status === 0) {
  run(strip, ['--strip-unneeded', '-o', nodeOut, join(runtime, 'bin', 'node')]);
} else {
  process.stdout.write(`rootfs: ${strip} not found, shipping node unstripped\n`);
  cpSync(join(runtime, 'bin', 'node'), nodeOut);
}
chmodSync(nodeOut, 0o755);
cpSync(join(runtime, 'LICENSE'), join(opt, 'runtime', 'LICENSE'));

// ---- the app and our addon; the addon sits beside the bundle, where src/net/native.ts looks.
// The entry and every chunk it may import() (scripts/build.mjs splits the bundle); no source maps.
// Only what the appliance can load: the demo's chunks stay out (scripts/image-files.mjs).
const metaPath = join(ROOT, 'dist', 'meta.json');
if (!existsSync(metaPath)) die('dist/meta.json missing (run "make build")');
const { ship, leftOut } = applianceOutputs(JSON.parse(readFileSync(metaPath, 'utf8')));
const appFiles = ship.map((o) => relative('dist', o));
for (const f of appFiles) if (!existsSync(join(ROOT, 'dist', f))) die(`dist/${f} missing: dist/meta.json is stale (run "make build")`);
for (const f of appFiles) cpSync(join(ROOT, 'dist', f), join(opt, 'lib', f));
cpSync(addon, join(opt, 'lib', 'twinvip_net.node'));

// ---- @serialport/bindings-cpp and its runtime dependencies, resolved as Node resolves them.
// Only what runs: package.json and JS; of the prebuilds only linux-<arch> (glibc and musl).
// node-addon-api is a build-time header package and stays out.
const BUILD_ONLY = new Set(['node-addon-api']);
const copied = new Set();
function copyPackage(name, fromDir) {
  if (copied.has(name) || BUILD_ONLY.has(name)) return;
  // Node's lookup: node_modules/<name> in this directory, then in each parent (require.resolve
  // of <name>/package.json would trip over packages whose "exports" hide it).
  let pjPath;
  for (let d = fromDir; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) {
      pjPath = candidate;
      break;
    }
    if (dirname(d) === d) die(`cannot resolve ${name} from ${relative(ROOT, fromDir)} (npm ci?)`);
  }
  copied.add(name);
  const src = dirname(pjPath);
  const dest = join(opt, 'lib', 'node_modules', name);
  cpSync(src, dest, {
    recursive: true,
    filter: (p) => {
      const rel = relative(src, p);
      if (rel === '') return true;
      const top = rel.split('/')[0];
      if (top === 'node_modules' || top === 'test' || top === 'binding.gyp') return false;
      if (top === 'prebuilds') return rel === 'prebuilds' || rel.startsWith(`prebuilds/linux-${arch}`);
      if (/\.(d\.ts|map|md|markdown|ts|cc|cpp|h|gyp)$/.test(rel) && !/LICENSE/i.test(rel)) return false;
      return true;
    },
  });
  const pj = JSON.parse(readFileSync(pjPath, 'utf8'));
  for (const dep of Object.keys(pj.dependencies ?? {})) copyPackage(dep, src);
}
copyPackage('@serialport/bindings-cpp', ROOT);
// The filter above leaves folders whose every file was dropped (bindings-cpp's C++ src/).
function pruneEmpty(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) pruneEmpty(join(dir, e.name));
  if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
}
pruneEmpty(join(opt, 'lib', 'node_modules'));
if (!existsSync(join(opt, 'lib', 'node_modules', '@serialport', 'bindings-cpp', 'prebuilds', `linux-${arch}`))) {
  die(`@serialport/bindings-cpp has no prebuilds/linux-${arch}`);
}

// ---- launcher. readlink -f exists in busybox and coreutils; the bundle finds the addon and
// node_modules relative to itself, so the tree can live anywhere (tests unpack it in /tmp).
const launcher = join(opt, 'bin', 'twinvip');
writeFileSync(
  launcher,
  `#!/bin/sh
# twinvip launcher: the bundled Node.js ${nodeVersion} (${arch}) running the bundled app.
here=$(dirname "$(readlink -f "$0")")
exec "$here/../runtime/node" ${DAEMON_NODE_FLAGS.join(' ')} "$here/../lib/twinvip.js" "$@"
`,
);
chmodSync(launcher, 0o755);

// ---- boards and the overlay
cpSync(join(ROOT, 'board'), join(opt, 'board'), { recursive: true });
cpSync(join(ROOT, 'rootfs'), stage, { recursive: true });
mkdirSync(join(stage, 'usr', 'bin'), { recursive: true });
symlinkSync('../../opt/twinvip/bin/twinvip', join(stage, 'usr', 'bin', 'twinvip'));
if (boardName !== 'none') {
  const text = watchdogDropIn(JSON.parse(readFileSync(join(ROOT, 'board', boardName, 'board.json'), 'utf8')));
  if (text) {
    mkdirSync(dirname(join(stage, DROPIN_PATH)), { recursive: true });
    writeFileSync(join(stage, DROPIN_PATH), text, { mode: 0o644 });
    process.stdout.write(`rootfs: ${DROPIN_PATH} for board ${boardName}\n`);
  } else process.stdout.write(`rootfs: board ${boardName} has no hardware watchdog: no ${DROPIN_PATH}\n`);
}
const gitRev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || 'unknown';
writeFileSync(join(opt, 'VERSION'), `twinvip ${pkg.version} (${gitRev}) linux-${arch}, Node.js ${nodeVersion}\n`);
if (existsSync(join(ROOT, 'README.md'))) cpSync(join(ROOT, 'README.md'), join(opt, 'README.md'));

// ---- modes, set here rather than inherited from the checkout and the builder's umask: directories
// 0755, files 0644 (0755 when executable), nothing group- or world-writable; the configuration
// directory and file, which name or will hold secrets (console password, MQTT credentials), 0750
// and 0600. test/integration/image/contents.test.ts checks the result.
const MODES = { 'etc/twinvip': 0o750, 'etc/twinvip/twinvip.json': 0o600 };
function normaliseModes(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) continue;
    if (e.isDirectory()) {
      chmodSync(p, 0o755);
      normaliseModes(p);
    } else chmodSync(p, statSync(p).mode & 0o111 ? 0o755 : 0o644);
  }
}
chmodSync(stage, 0o755); // the tarball's "./": unpacked over / it must not change the root's mode
normaliseModes(stage);
for (const [rel, mode] of Object.entries(MODES)) chmodSync(join(stage, rel), mode);

// ---- tarball: root-owned, stable order and times, so two builds of one commit are identical.
// gzip -6 (its default level), not -9: on the x64 stage's node (108.5 MB) -9 took 13.4 s of CPU
// for 40.10 MB, -6 4.9 s for 40.32 MB (+0.5 %); `make test` builds two tarballs.
const epoch = Number(run('git', ['log', '-1', '--format=%ct'], { cwd: ROOT }).trim() || 0);
rmSync(tarball, { force: true });
const tar = spawnSync(
  'sh',
  ['-c', 'tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" -C "$STAGE" -cf - . | gzip -6n > "$OUT"'],
  { env: { ...process.env, EPOCH: String(epoch), STAGE: stage, OUT: tarball }, encoding: 'utf8' },
);
if (tar.status !== 0) die(`tar failed: ${tar.stderr}`);

function treeSize(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += treeSize(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}
const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
process.stdout.write(
  `rootfs: ${relative(ROOT, tarball)}: ${mb(statSync(tarball).size)} compressed, ${mb(treeSize(stage))} unpacked ` +
    `(node ${mb(statSync(nodeOut).size)}, app ${mb(appFiles.reduce((n, f) => n + statSync(join(opt, 'lib', f)).size, 0))} in ${appFiles.length} files, ` +
    `node_modules ${mb(treeSize(join(opt, 'lib', 'node_modules')))}; left out of the image: ${leftOut.length} demo file(s))\n`,
);
