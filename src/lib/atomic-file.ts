// Replacing a file so that a reader (or a crash) sees the old content or the new, never half.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** Mode of a new file; default 0600. */
  mode?: number;
  /** The temporary file; default a hidden sibling with a unique name (writers may overlap). */
  tmp?: string;
}

/**
 * Writes `path` as a whole: a temporary sibling file (same filesystem), synced, renamed over it
 * (rename is atomic). On failure the temporary file is removed and the error thrown.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const tmp = opts.tmp ?? join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const mode = opts.mode ?? 0o600;
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
