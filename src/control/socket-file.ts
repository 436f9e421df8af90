import { connect } from 'node:net';
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export type SocketFileState =
  | { state: 'absent' }
  | { state: 'stale' }
  | { state: 'live' }
  | { state: 'not-a-socket' };

/** Does something answer on this unix socket path? Connecting is the only reliable test. */
export function probeSocket(path: string, timeoutMs = 1000): Promise<'live' | 'dead' | 'absent'> {
  return new Promise((resolve) => {
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      // Accepting but never answering still means a live process holds it.
      resolve('live');
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve('live');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === 'ENOENT' ? 'absent' : 'dead');
    });
  });
}

export async function inspectSocketFile(path: string): Promise<SocketFileState> {
  try {
    const st = await lstat(path);
    if (!st.isSocket()) return { state: 'not-a-socket' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
    throw err;
  }
  const probe = await probeSocket(path);
  if (probe === 'live') return { state: 'live' };
  return probe === 'absent' ? { state: 'absent' } : { state: 'stale' };
}

export type PrepareResult = { ok: true; removedStale: boolean } | { ok: false; error: string };

/**
 * Makes `path` free for a new listener: creates the parent directory, removes a socket file that
 * nothing answers on (left by a killed daemon), and refuses when another daemon is live or the
 * path is something other than a socket (never delete a file we did not make).
 */
export async function prepareSocketPath(path: string): Promise<PrepareResult> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o750 });
  } catch (err) {
    return { ok: false, error: `cannot create directory ${dirname(path)}: ${(err as Error).message}` };
  }
  let st: SocketFileState;
  try {
    st = await inspectSocketFile(path);
  } catch (err) {
    return { ok: false, error: `cannot inspect ${path}: ${(err as Error).message}` };
  }
  switch (st.state) {
    case 'absent':
      return { ok: true, removedStale: false };
    case 'live':
      return { ok: false, error: `another twinvip daemon is already answering on ${path}; stop it first (or set control.socket to another path)` };
    case 'not-a-socket':
      return { ok: false, error: `${path} exists and is not a socket; refusing to remove it` };
    case 'stale':
      try {
        await unlink(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { ok: false, error: `cannot remove stale socket ${path}: ${(err as Error).message}` };
      }
      return { ok: true, removedStale: true };
  }
}
