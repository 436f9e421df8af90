import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../lib/atomic-file';
import { dirname } from 'node:path';

export interface OutboxOptions {
  /** JSON-lines file, e.g. <state_dir>/mqtt-outbox.jsonl. */
  path: string;
  maxCount: number;
  maxBytes: number;
  /** Disk errors are reported, never thrown: the outbox keeps working from memory. */
  onError?: (what: string, err: unknown) => void;
}

export interface OutboxCounters {
  queued: number;
  dropped: number;
  delivered: number;
  corrupt_lines: number;
  disk_errors: number;
}

/**
 * Events waiting for the broker, oldest first, bounded by count and bytes (the oldest are dropped
 * and counted). Memory holds the queue; the file is an append-only journal of it so events
 * survive a restart during an outage. Appends are plain writes without fsync (a power cut may
 * lose the last ones, which is the price of never stalling on the disk). The file is rewritten
 * only when it has grown well past what memory holds, and emptied once everything is delivered;
 * a rewrite goes to a temporary file that is synced and renamed over the journal, so a cut
 * during it leaves the old journal or the new one, never a truncated one. A journal found with
 * a torn or corrupt line is rewritten from what parsed before anything is appended: the next
 * event must start on a line of its own, not be glued to the fragment and lost with it. A failed
 * append may leave a fragment too, so the next write after one is a rewrite.
 * All file operations run one after another on a promise chain, never blocking the loop.
 */
export class Outbox {
  readonly counters: OutboxCounters = { queued: 0, dropped: 0, delivered: 0, corrupt_lines: 0, disk_errors: 0 };
  private readonly entries: string[] = [];
  private bytes = 0;
  /** Lines in the file, delivered or dropped ones included, to know when to compact. */
  private fileLines = 0;
  private chain: Promise<void> = Promise.resolve();
  /** The file may end in a fragment (torn on load, or an append failed): rewrite before appending. */
  private dirty = false;

  private constructor(private readonly opts: OutboxOptions) {}

  /** Opens (and creates) the journal, loading what a previous run left undelivered. */
  static async open(opts: OutboxOptions): Promise<Outbox> {
    const box = new Outbox(opts);
    let text = '';
    try {
      await mkdir(dirname(opts.path), { recursive: true });
      text = await readFile(opts.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') box.diskError('read', err);
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      if (!isEvent(line)) {
        // A torn line after a power cut (or any damage): skip it, keep the rest.
        box.counters.corrupt_lines++;
        box.dirty = true;
        continue;
      }
      box.push(line);
      box.fileLines++;
    }
    if (text !== '' && !text.endsWith('\n')) box.dirty = true;
    if (box.dirty) box.rewrite();
    return box;
  }

  get size(): number {
    return this.entries.length;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Appends one event (a JSON object). */
  append(event: object): void {
    const line = JSON.stringify(event);
    this.push(line);
    if (this.dirty || this.fileLines >= 2 * Math.max(this.opts.maxCount, 1) + 16) {
      this.rewrite();
    } else {
      this.fileLines++;
      this.enqueue('append', async () => {
        try {
          await appendFile(this.opts.path, `${line}\n`);
        } catch (err) {
          this.dirty = true;
          throw err;
        }
      });
    }
  }

  /** The oldest event, parsed; undefined when empty. */
  peek(): unknown {
    const line = this.entries[0];
    return line === undefined ? undefined : JSON.parse(line);
  }

  /** Removes the oldest event once the broker has acknowledged it. */
  shift(): void {
    const line = this.entries.shift();
    if (line === undefined) return;
    this.bytes -= Buffer.byteLength(line) + 1;
    this.counters.delivered++;
    this.counters.queued = this.entries.length;
    if (this.entries.length === 0) this.rewrite();
  }

  /** Every pending event, oldest first (tests, diagnostics). */
  all(): unknown[] {
    return this.entries.map((l) => JSON.parse(l) as unknown);
  }

  /** Resolves when every file operation queued so far is done. */
  flush(): Promise<void> {
    return this.chain;
  }

  private push(line: string): void {
    this.entries.push(line);
    this.bytes += Buffer.byteLength(line) + 1;
    while (this.entries.length > 0 && (this.entries.length > this.opts.maxCount || this.bytes > this.opts.maxBytes)) {
      const old = this.entries.shift()!;
      this.bytes -= Buffer.byteLength(old) + 1;
      this.counters.dropped++;
    }
    this.counters.queued = this.entries.length;
  }

  /** Replaces the file by what memory holds (after a drain, when the journal grew too long, or to repair it). */
  private rewrite(): void {
    this.fileLines = this.entries.length;
    this.dirty = false;
    const snapshot = this.entries.length === 0 ? '' : `${this.entries.join('\n')}\n`;
    this.enqueue('rewrite', async () => {
      try {
        // One writer (flushes are serialised): a fixed temporary name, so a crash leaves at most one.
        await writeFileAtomic(this.opts.path, snapshot, { tmp: `${this.opts.path}.tmp` });
      } catch (err) {
        this.dirty = true;
        throw err;
      }
    });
  }

  private enqueue(what: string, op: () => Promise<void>): void {
    this.chain = this.chain.then(op).catch((err: unknown) => this.diskError(what, err));
  }

  private diskError(what: string, err: unknown): void {
    this.counters.disk_errors++;
    this.opts.onError?.(what, err);
  }
}

/** A journal line is one JSON object; a fragment of one rarely parses, and never as an object with its closing brace. */
function isEvent(line: string): boolean {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
