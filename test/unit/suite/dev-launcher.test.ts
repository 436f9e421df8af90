// bin/twinvip, the launcher of a development checkout (README "Command line"): the pinned Node.js
// with the image's runtime flags, found through a symlink, from any working directory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, buildBundle } from '../../helpers/bundle';

const LAUNCHER = join(REPO_ROOT, 'bin', 'twinvip');

describe('bin/twinvip', () => {
  it('runs the bundle on the pinned node with the flags of scripts/node-flags.mjs', async () => {
    const flagsModule: string = join(REPO_ROOT, 'scripts', 'node-flags.mjs');
    const { DAEMON_NODE_FLAGS } = (await import(flagsModule)) as { DAEMON_NODE_FLAGS: string[] };
    const text = readFileSync(LAUNCHER, 'utf8');
    const m = /^exec "\$node" ((?:--[\w-]+(?:=\S+)? )*)"\$bundle" "\$@"$/m.exec(text);
    expect(m, text).not.toBeNull();
    expect(m![1]!.trim().split(' ')).toEqual(DAEMON_NODE_FLAGS);
    expect(text).toContain('node="$root/node_modules/node-linux-$arch/bin/node"');
  });

  it('works through a symlink from another directory', () => {
    buildBundle();
    const dir = mkdtempSync(join(tmpdir(), 'tv-launcher-'));
    try {
      symlinkSync(LAUNCHER, join(dir, 'twinvip'));
      const r = spawnSync(join(dir, 'twinvip'), ['check', '--offline', '-c', join(REPO_ROOT, 'examples', 'master-backup-a.json')], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/master-backup-a\.json: ok, 1 instance/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
