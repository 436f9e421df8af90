/**
 * A lock between the test processes of one checkout (`make test` runs the integration projects as
 * two `vitest run`s at the same time; a developer may run a file beside them): a directory made
 * with mkdir (atomic), holding the owner's PID. A holder that died (its PID gone) leaves a stale
 * lock that the next taker removes. Synchronous, because the tarball builds it guards are.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleepSync = (ms: number): void => void Atomics.wait(sleeper, 0, 0, ms);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PID written in the lock, or undefined (not written yet, or unreadable). */
function holder(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `fn` holding the lock directory `lock`; waits for another holder up to `timeoutMs`. */
export function withLockSync<T>(lock: string, fn: () => T, timeoutMs = 30 * 60_000): T {
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = holder(lock);
    const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    // Stale: its holder is gone, or it never wrote its PID (died between mkdir and write).
    if ((pid !== undefined && !alive(pid)) || (pid === undefined && age > 10_000)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`lock ${lock} still held by PID ${pid ?? '?'} after ${timeoutMs} ms`);
    sleepSync(200);
  }
  try {
    writeFileSync(join(lock, 'pid'), String(process.pid));
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
