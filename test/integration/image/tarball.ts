// Shared by the rootfs tarball tests: build with the real `make rootfs`, unpack into an empty dir.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/bundle';
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
 * `make rootfs ARCH=...` (the Node.js package download is cached in out/cache after the first
 * run), with `-o build`: the bundle in dist/ is the one this run's globalSetup built, and other
 * integration files run it in parallel, so make must not rebuild it (build.mjs empties dist/
 * first); the addon for ARCH is still made.
 */
export function buildTarball(arch: 'arm64' | 'x64'): { path: string; log: string } {
  const r = sh('make', ['--no-print-directory', '-o', 'build', 'addon', 'rootfs', `ARCH=${arch}`], { timeoutMs: 170_000 });
  if (r.code !== 0) throw new Error(`make rootfs ARCH=${arch} failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
  return { path: join(REPO_ROOT, 'out', `twinvip-${VERSION}-linux-${arch}.tar.gz`), log: r.stdout };
}

export function unpack(tarball: string, into: string): void {
  const r = sh('tar', ['-xzf', tarball, '-C', into]);
  if (r.code !== 0) throw new Error(`tar -xzf ${tarball} failed: ${r.stderr}`);
}

/** What `make rootfs` reads besides dist/ and the addon, relative to the checkout. */
const TARBALL_INPUTS = ['dist', 'rootfs', 'board', 'scripts/rootfs.mjs', 'scripts/image-files.mjs', 'README.md', 'package.json'];

function newestUnder(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((e) => newestUnder(join(path, e))));
}

/**
 * The tarball for ARCH, built only when out/ has none newer than everything it is made of (the
 * image test files run one after another, and each needs the same tarball: one build per run).
 */
export function currentTarball(arch: 'arm64' | 'x64'): { path: string; log: string } {
  const path = join(REPO_ROOT, 'out', `twinvip-${VERSION}-linux-${arch}.tar.gz`);
  const addon = join(REPO_ROOT, 'native', 'build', arch, 'twinvip_net.node');
  const built = statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const inputs = Math.max(newestUnder(addon), ...TARBALL_INPUTS.map((p) => newestUnder(join(REPO_ROOT, p))));
  if (built > inputs && newestUnder(join(REPO_ROOT, 'native')) < built) return { path, log: '(reused: newer than its inputs)' };
  return buildTarball(arch);
}
