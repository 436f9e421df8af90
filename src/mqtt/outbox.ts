import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
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
 * only when it has grown well past what memory holds, and emptied once everything is delivered.
 * All file operations run one after another on a promise chain, never blocking the loop.
 */
export class Outbox {
  readonly counters: OutboxCounters = { queued: 0, dropped: 0, delivered: 0, corrupt_lines: 0, disk_errors: 0 };
  private readonly entries: string[] = [];
  private bytes = 0;
  /** Lines in the file, delivered or dropped ones included, to know when to compact. */
  private fileLines = 0;
  private chain: Promise<void> = Promise.resolve();

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
      try {
        JSON.parse(line);
      } catch {
        // A torn last line after a power cut: skip it, keep the rest.
        box.counters.corrupt_lines++;
        continue;
      }
      box.push(line);
      box.fileLines++;
    }
    return box;
  }

  get size(): number {
    return this.entries.length;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Appends one event (any JSON value). */
  append(event: unknown): void {
    const line = JSON.stringify(event);
    this.push(line);
    if (this.fileLines >= 2 * Math.max(this.opts.maxCount, 1) + 16) {
      this.rewrite();
    } else {
      this.fileLines++;
      this.enqueue('append', () => appendFile(this.opts.path, `${line}\n`));
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

  /** Replaces the file by what memory holds (after a drain, or when the journal grew too long). */
  private rewrite(): void {
    this.fileLines = this.entries.length;
    const snapshot = this.entries.length === 0 ? '' : `${this.entries.join('\n')}\n`;
    this.enqueue('rewrite', () => writeFile(this.opts.path, snapshot));
  }

  private enqueue(what: string, op: () => Promise<void>): void {
    this.chain = this.chain.then(op).catch((err: unknown) => this.diskError(what, err));
  }

  private diskError(what: string, err: unknown): void {
    this.counters.disk_errors++;
    this.opts.onError?.(what, err);
  }
}
