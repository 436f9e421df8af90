// Shared by the rootfs tarball tests: build with the real `make rootfs` (or reuse the tarball built
// from the same inputs), unpack into an empty dir.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../helpers/bundle';
import { withLockSync } from '../../helpers/file-lock';
import { patience } from '../../helpers/patience';

export const VERSION: string = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version;
export const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'x64';

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function sh(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Result {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, encoding: 'utf8', timeout: patience(opts.timeoutMs ?? 60_000), env: opts.env ?? process.env });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * What scripts/rootfs.mjs puts in the tarball, as a key: the contents of the bundle, the addon
 * for ARCH, the overlay, the boards, the build scripts and README; package.json and
 * package-lock.json for the Node.js runtime and bindings-cpp it copies (pinned versions); the
 * commit (VERSION names it and its time dates every file). A file added or removed changes it.
 */
export function tarballKey(arch: 'arm64' | 'x64', root = REPO_ROOT): string {
  const h = createHash('sha256');
  const add = (path: string): void => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) {
      h.update(`missing ${relative(root, path)}\0`);
      return;
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(path).sort()) add(join(path, e));
      return;
    }
    h.update(`${relative(root, path)}\0${st.mode & 0o111 ? 'x' : '-'}\0`);
    h.update(readFileSync(path));
    h.update('\0');
  };
  for (const f of readdirSync(join(root, 'dist')).filter((n) => n.endsWith('.js')).sort()) add(join(root, 'dist', f));
  for (const p of [join('native', 'build', arch, 'twinvip_net.node'), 'rootfs', 'board', 'scripts/rootfs.mjs', 'scripts/image-files.mjs', 'scripts/watchdog-dropin.mjs', 'scripts/node-flags.mjs', 'README.md', 'package.json', 'package-lock.json']) add(join(root, p));
  const head = spawnSync('git', ['log', '-1', '--format=%H %ct'], { cwd: root, encoding: 'utf8' });
  h.update(`commit ${head.stdout?.trim() ?? ''}\0arch ${arch}`);
  return h.digest('hex');
}

/**
 * `make rootfs ARCH=...` (the Node.js package download is cached in out/cache after the first
 * run), with `-o build`: the bundle in dist/ is the one this run's globalSetup built, and other
 * integration files run it in parallel, so make must not rebuild it (build.mjs empties dist/
 * first); the addon for ARCH is still made.
 *
 * The tarball is reused when it was built from exactly these inputs (tarballKey, written beside
 * it with the build's log after a build that succeeded): the gzip of 100 MB is most of a build's
 * 50-60 s wall on a loaded machine, and a second run of the suite (make test-stress, a developer
 * running it again) has nothing new to pack. TWINVIP_REBUILD_TARBALL=1 builds regardless.
 */
export function buildTarball(arch: 'arm64' | 'x64'): { path: string; log: string; reused: boolean } {
  // The x64 tarball is used by files of both integration projects, which run at the same time:
  // one builds it, the other waits and reuses it (never reads it half written).
  return withLockSync(join(REPO_ROOT, 'out', `.lock-tarball-${arch}`), () => buildTarballLocked(arch));
}

function buildTarballLocked(arch: 'arm64' | 'x64'): { path: string; log: string; reused: boolean } {
  const path = join(REPO_ROOT, 'out', `twinvip-${VERSION}-linux-${arch}.tar.gz`);
  const stamp = `${path}.key`;
  const addon = sh('make', ['--no-print-directory', 'addon', `ARCH=${arch}`]);
  if (addon.code !== 0) throw new Error(`make addon ARCH=${arch} failed (exit ${addon.code}):\n${addon.stdout}${addon.stderr}`);
  const key = tarballKey(arch);
  if (process.env.TWINVIP_REBUILD_TARBALL !== '1' && existsSync(path) && existsSync(stamp)) {
    const saved = JSON.parse(readFileSync(stamp, 'utf8')) as { key: string; log: string; size: number };
    if (saved.key === key && saved.size === statSync(path).size) {
      console.log(`${relative(REPO_ROOT, path)}: reused, built from the same inputs (key ${key.slice(0, 12)}; TWINVIP_REBUILD_TARBALL=1 builds it again)`);
      return { path, log: saved.log, reused: true };
    }
  }
  rmSync(stamp, { force: true });
  const r = sh('make', ['--no-print-directory', '-o', 'build', '-o', 'addon', 'rootfs', `ARCH=${arch}`], { timeoutMs: 170_000 });
  if (r.code !== 0) throw new Error(`make rootfs ARCH=${arch} failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
  writeFileSync(stamp, JSON.stringify({ key, log: r.stdout, size: statSync(path).size }));
  return { path, log: r.stdout, reused: false };
}

export function unpack(tarball: string, into: string): void {
  const r = sh('tar', ['-xzf', tarball, '-C', into]);
  if (r.code !== 0) throw new Error(`tar -xzf ${tarball} failed: ${r.stderr}`);
}
