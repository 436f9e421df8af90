import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  path: string;
  /** A path inside the temp dir. */
  file(name: string): string;
  remove(): void;
}

/**
 * A fresh directory under the OS temp dir. Unix socket paths are limited to 107 bytes, so the
 * prefix is kept short; call remove() in afterAll/finally.
 */
export function makeTempDir(prefix = 'tv-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}
