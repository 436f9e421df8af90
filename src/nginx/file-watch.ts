import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Calls `onChange` (debounced) when one of `files` is written, replaced or removed. Watches the
 * directories, not the files: a certificate is usually replaced by a rename (certbot, `mv`), and a
 * watch on the old inode would never hear of it. Events are hints: the caller re-reads the files
 * (and also polls, for file systems without inotify).
 */
export class FileWatch {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onChange: () => void,
    private readonly debounceMs = 500,
  ) {}

  watch(files: string[]): void {
    this.close();
    const byDir = new Map<string, Set<string>>();
    for (const f of files) {
      const d = dirname(f);
      if (!byDir.has(d)) byDir.set(d, new Set());
      byDir.get(d)!.add(basename(f));
    }
    for (const [dir, names] of byDir) {
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          if (name === null || names.has(String(name))) this.kick();
        });
        w.on('error', () => {});
        this.watchers.push(w);
      } catch {
        // A directory that does not exist (yet): the poll covers it.
      }
    }
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onChange(), this.debounceMs);
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers.splice(0)) w.close();
  }
}
