// A minimal Debian root filesystem with systemd, for booting the twinvip tarball under real
// systemd (systemd-boot.test.ts). Built by mmdebstrap from the Debian mirror this machine's apt
// uses, once, and cached as a tar under /var/cache/twinvip-test keyed by everything that decides
// its content (suite, variant, packages, mirror, architecture): later runs only unpack it.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { patience } from '../../helpers/patience';

export const ROOTFS_RECIPE = {
  suite: 'bookworm',
  variant: 'minbase',
  // systemd as PID 1, dbus for systemctl/logind, iproute2 for the checks, rsyslog and logrotate
  // for the image's /etc/rsyslog.d and /etc/logrotate.d rules; nothing else.
  include: ['systemd', 'systemd-sysv', 'dbus', 'iproute2', 'rsyslog', 'logrotate'],
  arch: 'amd64',
};

export const CACHE_DIR = process.env.TWINVIP_TEST_CACHE ?? '/var/cache/twinvip-test';

/**
 * The first Debian (not security) mirror in /etc/apt/sources.list and sources.list.d/*
 * (one-line and deb822 formats); deb.debian.org when none is found.
 */
export function debianMirror(aptDir = '/etc/apt'): string {
  const files: string[] = [];
  if (existsSync(join(aptDir, 'sources.list'))) files.push(join(aptDir, 'sources.list'));
  const d = join(aptDir, 'sources.list.d');
  if (existsSync(d)) for (const f of readdirSync(d).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(d, f));
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/gm)) {
      if (isDebianMain(m[1]!, m[2]!)) return m[1]!.replace(/\/$/, '');
    }
    for (const stanza of text.split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(.+)$/im.exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
      const suites = /^Suites:\s*(.+)$/im.exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
      if (!/^Types:.*\bdeb\b/im.test(stanza)) continue;
      for (const u of uris) if (suites.some((s) => isDebianMain(u, s))) return u.replace(/\/$/, '');
    }
  }
  return 'http://deb.debian.org/debian';
}

function isDebianMain(uri: string, suite: string): boolean {
  return /\/debian\/?$/.test(uri) && suite === ROOTFS_RECIPE.suite;
}

/** Path of the cached rootfs tar for this recipe and mirror (built now when missing), and whether it was built. */
export function cachedRootfs(log: (s: string) => void = () => {}): { tar: string; built: boolean; seconds: number } {
  const mirror = debianMirror();
  const key = createHash('sha256').update(JSON.stringify({ ...ROOTFS_RECIPE, mirror, v: 1 })).digest('hex').slice(0, 16);
  mkdirSync(CACHE_DIR, { recursive: true });
  const tar = join(CACHE_DIR, `rootfs-${ROOTFS_RECIPE.suite}-${ROOTFS_RECIPE.variant}-${key}.tar`);
  if (existsSync(tar) && statSync(tar).size > 0) return { tar, built: false, seconds: 0 };
  // One builder at a time (flock), the result renamed into place whole.
  // mmdebstrap picks the output format from the name: it must end in .tar.
  const tmp = `${tar}.${process.pid}.tmp.tar`;
  const started = Date.now();
  const args = [
    '--quiet',
    `--variant=${ROOTFS_RECIPE.variant}`,
    `--include=${ROOTFS_RECIPE.include.join(',')}`,
    `--architectures=${ROOTFS_RECIPE.arch}`,
    ROOTFS_RECIPE.suite,
    tmp,
    mirror,
  ];
  log(`building the Debian rootfs: mmdebstrap ${args.join(' ')}`);
  const script = 'tar=$1; tmp=$2; shift 2; [ -s "$tar" ] || { mmdebstrap "$@" && mv "$tmp" "$tar"; }';
  const r = spawnSync('flock', [`${tar}.lock`, 'sh', '-c', script, 'sh', tar, tmp, ...args], {
    encoding: 'utf8',
    timeout: patience(600_000),
  });
  rmSync(tmp, { force: true, recursive: true });
  if (r.error || r.status !== 0 || !existsSync(tar)) {
    throw new Error(`mmdebstrap failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${r.stdout}${r.stderr}`);
  }
  return { tar, built: true, seconds: (Date.now() - started) / 1000 };
}

/** Unpacks the rootfs tar into an empty directory (as root: owners, modes and device nodes kept). */
export function unpackRootfs(tar: string, into: string): void {
  execFileSync('tar', ['--numeric-owner', '-xpf', tar, '-C', into], { stdio: ['ignore', 'ignore', 'pipe'], timeout: patience(120_000) });
}
