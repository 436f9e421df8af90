import { fstatSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { formatText, type LogFormat } from './format';
import type { Level } from './levels';
import type { LogRecord } from './record';
import { streamSink, type LogSink } from './sink';
import { journalPrefix, stdoutIsJournal, syslogDatagram, withJournalPrefix, type SyslogFacility } from './syslog';

/** The `logging` settings that choose where lines go (config: logging.journal_priority, logging.syslog). */
export interface LogOutputSettings {
  format: LogFormat;
  journal_priority: 'auto' | 'always' | 'never';
  syslog: { enabled: boolean; facility: SyslogFacility; socket: string; tag: string };
}

/** Sends one datagram to a unix socket (the addon's sendUnixDatagram; Node has none); throws on failure. */
export type DatagramSend = (socket: string, payload: Buffer) => void;

/** `dev:ino` of a descriptor, for the JOURNAL_STREAM comparison; undefined when it cannot be read. */
export function streamId(fd: number): { dev: bigint; ino: bigint } | undefined {
  try {
    const st = fstatSync(fd, { bigint: true });
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/**
 * The daemon's log outputs: stdout (with the journal priority prefix when stdout is the journal,
 * or when told to), plus the optional syslog datagrams. Reconfigured on reload. A syslog socket
 * that refuses (missing, full, no reader) never blocks or throws: the line is dropped, one warning
 * goes to stdout when it starts failing and one when it works again, with the count lost.
 */
export class LogOutputs {
  private settings: LogOutputSettings;
  private readonly stdoutSink: (text: string) => void;
  private prefix = false;
  private failing: string | undefined;
  private lost = 0;
  /** Lines the syslog output could not deliver since start (shown when it recovers). */
  lostTotal = 0;

  constructor(
    private readonly opts: {
      stdout: Writable;
      settings: LogOutputSettings;
      env?: NodeJS.ProcessEnv;
      /** dev:ino of stdout (default: fstat of fd 1). */
      stdoutId?: { dev: bigint; ino: bigint } | undefined;
      send?: DatagramSend;
      pid?: number;
      now?: () => number;
    },
  ) {
    this.settings = opts.settings;
    this.configure(opts.settings);
    this.stdoutSink = streamSink(opts.stdout);
  }

  /** Whether stdout lines carry the `<N>` priority prefix now. */
  get prefixed(): boolean {
    return this.prefix;
  }

  configure(settings: LogOutputSettings): void {
    this.settings = settings;
    const mode = settings.journal_priority;
    this.prefix =
      mode === 'always' ||
      (mode === 'auto' && stdoutIsJournal(this.opts.env ?? process.env, 'stdoutId' in this.opts ? this.opts.stdoutId : streamId(1)));
  }

  /** The Logger's sink. */
  readonly sink: LogSink = (line, record) => {
    this.stdoutSink(this.prefix && record ? journalPrefix(record.level) + line : line);
    if (record && this.settings.syslog.enabled) this.toSyslog(record);
  };

  /** A message for stderr at `level`, every line prefixed when stdout is the journal (stderr shares the stream under systemd). */
  forStderr(text: string, level: Level = 'error'): string {
    return this.prefix ? withJournalPrefix(text, level) : text;
  }

  private toSyslog(record: LogRecord): void {
    const { syslog, format } = this.settings;
    const send = this.opts.send;
    if (!send) return;
    try {
      send(syslog.socket, Buffer.from(syslogDatagram(record, { format, facility: syslog.facility, tag: syslog.tag, pid: this.opts.pid ?? process.pid })));
      if (this.failing !== undefined) {
        const lost = this.lost;
        this.failing = undefined;
        this.lost = 0;
        this.note('info', `syslog output to ${syslog.socket} works again; ${lost} line(s) were not delivered to it`);
      }
    } catch (err) {
      this.lost++;
      this.lostTotal++;
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      if (this.failing === undefined) {
        this.failing = why;
        this.note('warn', `syslog output: cannot send to ${syslog.socket} (${why}); lines go to stdout only until it accepts them`);
      }
    }
  }

  /** A line about the outputs themselves: stdout only (never back into a failing syslog). */
  private note(level: Level, msg: string): void {
    const line = formatText({ ts: (this.opts.now ?? Date.now)(), level, subsystem: 'daemon', msg });
    this.stdoutSink(this.prefix ? journalPrefix(level) + line : line);
  }
}
