// The nonce cache survives a restart: a request captured on the wire must not run again because
// the box rebooted inside its validity window. One line per accepted nonce is appended before the
// command runs; at start-up the unexpired ones are loaded and the file rewritten with only them.
import { appendFile, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../lib/atomic-file';
import type { NonceCache } from './nonce-cache';

export class NonceFile {
  private lines = 0;

  constructor(
    readonly path: string,
    private readonly cache: NonceCache,
    private readonly onError: (what: string, err: unknown) => void,
  ) {}

  /** Loads unexpired nonces into the cache and compacts the file. A missing file is an empty one. */
  async load(now: number): Promise<void> {
    const cache = this.cache;
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onError('read', err);
      return;
    }
    const entries: [string, number][] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const [n, until] = JSON.parse(line) as [unknown, unknown];
        if (typeof n === 'string' && typeof until === 'number') entries.push([n, until]);
      } catch {
        // A line cut short by a crash: skip it.
      }
    }
    cache.load(entries, now);
    await this.compact(now);
  }

  /** Rewrites the file with the unexpired nonces only. */
  async compact(now: number): Promise<void> {
    const entries = this.cache.entries(now);
    this.lines = entries.length;
    try {
      await writeFileAtomic(this.path, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    } catch (err) {
      this.onError('compact', err);
    }
  }

  /** Resolves once the line is written (or failed: the command still runs, the failure is logged). */
  async append(nonce: string, until: number, now: number): Promise<void> {
    try {
      await appendFile(this.path, `${JSON.stringify([nonce, until])}\n`, { mode: 0o600 });
    } catch (err) {
      this.onError('append', err);
    }
    // Expired lines pile up between restarts; the cache itself is bounded, so is the file.
    if (++this.lines > 2 * Math.max(100, this.cache.size)) await this.compact(now);
  }
}
