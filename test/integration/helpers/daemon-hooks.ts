// The hooks of a file that runs daemons from the bundle with no namespaces: everything it makes
// lives in one temp dir (configs, control and notify sockets, state), and every process it spawns
// is stopped after its tests. Shared by daemon, fail-loudly/ha-thread-died, image/sd-notify and
// log/syslog-output.
import { spawn as spawnChild } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { buildBundle, spawnTwinvip, SpawnedProcess } from '../../helpers/bundle';
import { makeTempDir, type TempDir } from '../../helpers/tmp';

export interface SpawnedHooks {
  /** The file's temp dir (made by beforeAll, removed by afterAll). */
  readonly dir: TempDir;
  /** `twinvip ARGS` from the bundle; stopped after the file's tests. */
  twinvip(args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): SpawnedProcess;
  /** Any other program (a receiver standing in for systemd or syslog); stopped after the file's tests. */
  spawn(command: string, args: string[]): SpawnedProcess;
}

/**
 * beforeAll: the bundle is checked (built once per run by the project's globalSetup) and a fresh
 * temp dir made. afterAll: every process spawned through the hooks is stopped (SIGTERM, then
 * SIGKILL after 5 s; by its own PID) and the temp dir removed.
 *
 *   const h = useSpawnedDaemons();
 *   it('...', async () => { const d = h.twinvip(['run', '-c', h.dir.file('twinvip.json')]); ... });
 */
export function useSpawnedDaemons(prefix?: string): SpawnedHooks {
  let dir: TempDir | undefined;
  const spawned: SpawnedProcess[] = [];
  const track = (p: SpawnedProcess): SpawnedProcess => {
    spawned.push(p);
    return p;
  };

  beforeAll(() => {
    buildBundle();
    dir = makeTempDir(prefix);
  });

  afterAll(async () => {
    for (const p of spawned) await p.stop();
    dir?.remove();
  });

  return {
    get dir() {
      if (!dir) throw new Error('useSpawnedDaemons: the temp dir is made in beforeAll; use it inside a hook or a test');
      return dir;
    },
    twinvip: (args, opts) => track(spawnTwinvip(args, opts)),
    spawn: (command, args) => track(new SpawnedProcess(spawnChild(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }))),
  };
}
