// Restart back-off for a feature that cannot start (fail loudly, #18). The unit restarts the
// daemon 2 s after any exit, forever (Restart=always, no start limit: an HA daemon must not give
// up), and systemd 252 (Debian 12) has no growing restart delay (RestartSteps= is 254+). So under
// systemd the daemon itself waits before exiting: 1 s after the first failure in a row, then
// 2, 4, 8, 16, at most 30 s (well inside TimeoutStartSec=60s), counting in node.state_dir.
// STATUS= already carries the reason meanwhile; a SIGTERM ends the wait at once; READY=1 resets it.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'start-failures';
export const MAX_BACKOFF_MS = 30_000;

/** The wait before exiting after the n-th consecutive start failure (n >= 1). */
export function backoffMs(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, failures - 1));
}

/** Counts one more failure in a row; returns the count (1 when the file is missing or unreadable). */
export async function recordStartFailure(stateDir: string): Promise<number> {
  const path = join(stateDir, FILE);
  let n = 0;
  try {
    n = Number.parseInt(await readFile(path, 'utf8'), 10) || 0;
  } catch {
    n = 0;
  }
  n += 1;
  await mkdir(stateDir, { recursive: true, mode: 0o750 }).catch(() => undefined);
  await writeFile(path, `${n}\n`).catch(() => undefined);
  return n;
}

/** Every configured feature runs: the next failure starts from 1 s again. */
export async function clearStartFailures(stateDir: string): Promise<void> {
  await rm(join(stateDir, FILE), { force: true }).catch(() => undefined);
}

/** Resolves after `ms`, or at once on SIGTERM/SIGINT (a stop during the wait is not delayed). */
export function waitUnlessStopped(ms: number): Promise<'waited' | 'signal'> {
  return new Promise((resolve) => {
    const done = (how: 'waited' | 'signal') => {
      clearTimeout(timer);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(how);
    };
    const onSignal = () => done('signal');
    const timer = setTimeout(() => done('waited'), ms);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
