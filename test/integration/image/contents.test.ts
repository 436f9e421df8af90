// What the x64 appliance tarball holds, entry by entry (issue 25, image hygiene): every file is
// covered by a row of README's tarball table and every row by a file; owners and modes; only the
// bundle outputs the appliance can load (no demo, bench or test code, no source maps); no
// systeminformation; and its size, recorded. The arm64 tarball is built by the same script
// (rootfs-arm64.test.ts runs it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/bundle';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { patience } from '../../helpers/patience';
import { applianceOutputs, NEVER_SHIPPED_SOURCES } from '../../../scripts/image-files.mjs';
import { buildTarball, sh, unpack } from './tarball';

interface Entry {
  type: string;
  mode: number;
  owner: string;
  size: number;
  path: string;
  link?: string;
}

let tarball: string;
let entries: Entry[];
let dir: TempDir;

/** `tar -tvz --numeric-owner`: "-rw-r--r-- 0/0 427 2026-12-03 10:14 ./etc/logrotate.d/twinvip". */
function list(path: string): Entry[] {
  const r = sh('tar', ['--numeric-owner', '--full-time', '-tvzf', path]);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^(\S)(\S{9})\s+(\S+)\s+(\d+)\s+\S+\s+\S+\s+\.\/(.*?)(?: -> (.*))?$/.exec(line);
      if (!m) throw new Error(`unparsed tar line: ${line}`);
      const perm = m[2]!;
      let mode = 0;
      for (let i = 0; i < 9; i++) if (perm[i] !== '-') mode |= 1 << (8 - i);
      return { type: m[1]!, mode, owner: m[3]!, size: Number(m[4]), path: m[5]!.replace(/\/$/, '') || '.', ...(m[6] ? { link: m[6] } : {}) };
    });
}

/** README's appliance table: the first column's paths, as patterns (`<x>` and `*` one path segment; a trailing / a whole subtree). */
function readmeRows(): Array<{ path: string; mode: string; re: RegExp }> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Appliance image'), readme.indexOf('### Putting it into an image'));
  const rows = [...section.matchAll(/^\| `([^`]+)` \| (\S+) \|/gm)].map((m) => ({ path: m[1]!, mode: m[2]! }));
  return rows.map((r) => {
    const body = r.path
      .split(/(<[^>]+>|\*)/)
      .map((part) => (part === '*' || /^<.+>$/.test(part) ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    return { ...r, re: new RegExp(r.path.endsWith('/') ? `^${body}` : `^${body}$`) };
  });
}

beforeAll(() => {
  tarball = buildTarball('x64').path;
  entries = list(tarball);
  dir = makeTempDir('tv-contents-');
  unpack(tarball, dir.path);
}, patience(180_000));

afterAll(() => dir?.remove());

describe('x64 tarball contents', () => {
  it('every file is a row of README\'s table, and every row is in the tarball', () => {
    const rows = readmeRows();
    expect(rows.length).toBeGreaterThan(10);
    const files = entries.filter((e) => e.type !== 'd');
    const stray = files.filter((f) => !rows.some((r) => r.re.test(f.path))).map((f) => f.path);
    expect(stray, 'files in the tarball that README does not list').toEqual([]);
    // A row marked "/arm64" (the board's watchdog drop-in) is in the arm64 tarball only.
    const unmatched = rows.filter((r) => !r.mode.endsWith('/arm64') && !files.some((f) => r.re.test(f.path))).map((r) => r.path);
    expect(unmatched, 'README rows with no file in the tarball').toEqual([]);
    // The mode column says what it is.
    for (const r of rows) {
      for (const f of files.filter((x) => r.re.test(x.path))) {
        if (r.mode === 'link') expect(f.type, f.path).toBe('l');
        else if (!r.path.endsWith('/')) expect(f.mode.toString(8).padStart(4, '0'), f.path).toBe(r.mode.replace(/\/arm64$/, ''));
      }
    }
  });

  it('root-owned; nothing group- or world-writable; programs executable; the configuration 0750/0600', () => {
    for (const e of entries) {
      expect(e.owner, e.path).toBe('0/0');
      if (e.type !== 'l') expect(e.mode & 0o022, `${e.path} ${e.mode.toString(8)}`).toBe(0);
    }
    const mode = (p: string) => entries.find((e) => e.path === p)?.mode.toString(8);
    expect(mode('.')).toBe('755'); // unpacked over /, it must not loosen the root directory
    expect(mode('etc/twinvip')).toBe('750');
    expect(mode('etc/twinvip/twinvip.json')).toBe('600');
    for (const p of ['opt/twinvip/bin/twinvip', 'opt/twinvip/runtime/node', 'opt/twinvip/lib/twinvip_net.node']) expect(mode(p), p).toBe('755');
    expect(entries.find((e) => e.path === 'usr/bin/twinvip')?.link).toBe('../../opt/twinvip/bin/twinvip');
  });

  it('only the bundle outputs the appliance loads: no demo, bench or test code, no source maps, no systeminformation', () => {
    const meta = JSON.parse(readFileSync(join(REPO_ROOT, 'dist', 'meta.json'), 'utf8'));
    const { ship, leftOut } = applianceOutputs(meta);
    const libJs = entries.filter((e) => /^opt\/twinvip\/lib\/[^/]+\.js$/.test(e.path)).map((e) => `dist/${e.path.slice('opt/twinvip/lib/'.length)}`);
    expect(libJs.sort()).toEqual(ship);
    // The demo is a chunk of its own in dist/ (so this check can fail) and stays out.
    expect(leftOut.some((o) => Object.keys(meta.outputs[o].inputs).some((i) => i.startsWith('src/demo/')))).toBe(true);
    for (const o of ship) {
      const from = Object.keys(meta.outputs[o].inputs).filter((i) => NEVER_SHIPPED_SOURCES.some((s) => i.startsWith(s)));
      expect(from, `${o} carries code from`).toEqual([]);
    }
    expect(entries.filter((e) => /\.(map|ts|md)$/.test(e.path) && e.path !== 'opt/twinvip/README.md' && !/licen[cs]e/i.test(e.path)).map((e) => e.path)).toEqual([]);
    expect(entries.filter((e) => /systeminformation/.test(e.path))).toEqual([]);
    expect(entries.filter((e) => /prebuilds\/(?!linux-x64)[^/]+/.test(e.path)).map((e) => e.path)).toEqual([]);
  });

  it('twinvip demo on the box says it is not in the image', () => {
    const r = sh(join(dir.path, 'opt/twinvip/bin/twinvip'), ['demo'], { cwd: '/' });
    expect(r.stderr.trim()).toBe('twinvip: the demo is not part of the appliance image; run `make demo` in the source tree');
    expect(r.code).toBe(2);
  });

  it('records its size', () => {
    const compressed = Number(sh('stat', ['-c', '%s', tarball]).stdout.trim());
    const unpacked = entries.reduce((n, e) => n + (e.type === '-' ? e.size : 0), 0);
    const node = entries.find((e) => e.path === 'opt/twinvip/runtime/node')!.size;
    const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
    console.log(`x64 tarball: ${mib(compressed)} MiB compressed, ${mib(unpacked)} MiB unpacked (node ${mib(node)} MiB, the rest ${mib(unpacked - node)} MiB), ${entries.length} entries`);
    // A guard against an accident (a second runtime, node_modules pulled in whole), not a target.
    expect(unpacked - node).toBeLessThan(8 * 1024 * 1024);
  });
});
