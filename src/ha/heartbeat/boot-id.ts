// This box's serial boot id: a boot number kept on disk (one more at every start) and 4 random
// bytes. The number lets the twin tell the newer of two of our lives apart when it chooses whom
// to answer (src/heartbeat/replay.ts); nothing else of the replay state needs to survive a
// restart, because every frame the twin sends echoes our current boot id.

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeBootId } from '../../heartbeat/frame';

const MAX_BOOT_NUMBER = 0xffffffff;

/**
 * Reads the last boot number from `file`, writes the next one (synced temp file renamed over it)
 * and returns the boot id made of it. Without a file, or when it cannot be written, the number
 * is 0 and the caller is told why: the link still works, the twin only ranks our lives by order
 * of arrival.
 */
export function nextBootId(file: string | undefined, warn: (line: string) => void = () => undefined): string {
  const random = randomBytes(4);
  if (file === undefined) return makeBootId(0, random);
  let last = 0;
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (/^\d{1,10}$/.test(text) && Number(text) <= MAX_BOOT_NUMBER) last = Number(text);
    else warn(`serial boot number file ${file}: not a number (${JSON.stringify(text.slice(0, 20))}); counting from 0`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`serial boot number file ${file}: ${(err as Error).message}; counting from 0`);
  }
  const next = last >= MAX_BOOT_NUMBER ? 1 : last + 1;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, `${next}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    warn(`serial boot number file ${file}: cannot write (${(err as Error).message}); boot number 0`);
    return makeBootId(0, random);
  }
  return makeBootId(next, random);
}
