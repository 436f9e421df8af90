import { formatRecord, type LogFormat } from './format';
import { redactFields, redactUrlCredentials } from './redact';
import { levelEnabled, type Level, type Subsystem } from './levels';
import type { LogFields, LogRecord } from './record';
import { RingBuffer } from './ring';
import type { LogSink } from './sink';

export interface LoggerOptions {
  level?: Level;
  format?: LogFormat;
  /** Per-subsystem thresholds overriding `level`. */
  levels?: Partial<Record<Subsystem, Level>>;
  sink: LogSink;
  /** Lines kept for `log [n]`; default 1000. */
  ringSize?: number;
  /** Clock in epoch ms; injectable for tests. */
  now?: () => number;
}

export type RecordListener = (record: LogRecord, line: string) => void;

/**
 * The daemon's one logger. Subsystems log through `logger.for('vrrp')` (optionally bound to an
 * instance: `logger.for('vrrp', 'VI_1')`). Every emitted line is written to the sink, kept in a
 * ring buffer, and handed to listeners (the daemon forwards them onto the event bus), with the
 * passwords of URLs in its message and fields redacted first.
 */
export class Logger {
  private level: Level;
  private format: LogFormat;
  private levels: Partial<Record<Subsystem, Level>>;
  private readonly sink: LogSink;
  private readonly ring: RingBuffer<string>;
  private readonly now: () => number;
  private readonly listeners = new Set<RecordListener>();
  private inListener = false;

  constructor(opts: LoggerOptions) {
    this.level = opts.level ?? 'info';
    this.format = opts.format ?? 'text';
    this.levels = { ...opts.levels };
    this.sink = opts.sink;
    this.ring = new RingBuffer<string>(opts.ringSize ?? 1000);
    this.now = opts.now ?? Date.now;
  }

  /** Applies a (re)loaded configuration's logging section. */
  configure(opts: { level?: Level; format?: LogFormat; levels?: Partial<Record<Subsystem, Level>> }): void {
    if (opts.level) this.level = opts.level;
    if (opts.format) this.format = opts.format;
    if (opts.levels) this.levels = { ...opts.levels };
  }

  setSubsystemLevel(subsystem: Subsystem, level: Level | undefined): void {
    if (level === undefined) delete this.levels[subsystem];
    else this.levels[subsystem] = level;
  }

  thresholdOf(subsystem: Subsystem): Level {
    return this.levels[subsystem] ?? this.level;
  }

  enabled(subsystem: Subsystem, level: Level): boolean {
    return levelEnabled(this.thresholdOf(subsystem), level);
  }

  for(subsystem: Subsystem, instance?: string): SubsystemLogger {
    return new SubsystemLogger(this, subsystem, instance);
  }

  log(level: Level, subsystem: Subsystem, msg: string, fields?: LogFields, instance?: string): void {
    if (!this.enabled(subsystem, level)) return;
    const record: LogRecord = { ts: this.now(), level, subsystem, msg: redactUrlCredentials(msg) };
    if (instance !== undefined) record.instance = instance;
    if (fields !== undefined && Object.keys(fields).length > 0) record.fields = redactFields(fields);
    this.write(record);
  }

  /**
   * A record made by another thread's logger (the HA worker, src/ha/worker/): written, kept and
   * handed to listeners as if logged here, with its own time; this logger's thresholds apply.
   */
  ingest(record: LogRecord): void {
    if (!this.enabled(record.subsystem, record.level)) return;
    this.write(record);
  }

  private write(record: LogRecord): void {
    const line = formatRecord(record, this.format);
    this.ring.push(line);
    this.sink(line, record);
    // A listener that logs would recurse without end; its lines still reach sink and ring.
    if (this.inListener || this.listeners.size === 0) return;
    this.inListener = true;
    try {
      for (const l of this.listeners) {
        try {
          l(record, line);
        } catch {
          // A broken listener must not break logging for everyone else.
        }
      }
    } finally {
      this.inListener = false;
    }
  }

  /** The newest n lines, oldest first, as formatted. */
  recent(n?: number): string[] {
    return this.ring.last(n);
  }

  onRecord(listener: RecordListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export class SubsystemLogger {
  constructor(
    private readonly root: Logger,
    readonly subsystem: Subsystem,
    readonly instance?: string,
  ) {}

  /** The same subsystem bound to one VRRP instance, so lines read `VI_1: ...`. */
  forInstance(instance: string): SubsystemLogger {
    return new SubsystemLogger(this.root, this.subsystem, instance);
  }

  enabled(level: Level): boolean {
    return this.root.enabled(this.subsystem, level);
  }

  debug(msg: string, fields?: LogFields): void {
    this.root.log('debug', this.subsystem, msg, fields, this.instance);
  }
  info(msg: string, fields?: LogFields): void {
    this.root.log('info', this.subsystem, msg, fields, this.instance);
  }
  warn(msg: string, fields?: LogFields): void {
    this.root.log('warn', this.subsystem, msg, fields, this.instance);
  }
  error(msg: string, fields?: LogFields): void {
    this.root.log('error', this.subsystem, msg, fields, this.instance);
  }
}
