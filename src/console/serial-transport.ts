// The shell on a serial console port, opened and reopened with back-off by
// src/lib/serial-port.ts. The port is raw (no tty line discipline), so the shell echoes and
// sends CRLF itself.
import { ReopeningSerialPort } from '../lib/serial-port';
import type { Shell } from './shell';

export interface SerialConsoleCounters {
  port_opens: number;
  port_open_failures: number;
  port_losses: number;
  /** Output bytes not written: port closed, or the terminal stopped reading (flow control). */
  output_dropped: number;
  idle_timeouts: number;
}

export function newSerialConsoleCounters(): SerialConsoleCounters {
  return { port_opens: 0, port_open_failures: 0, port_losses: 0, output_dropped: 0, idle_timeouts: 0 };
}

export interface SerialConsoleOptions {
  path: string;
  baudRate: number;
  /** Builds the shell once; it lives across port reopenings (so a password lockout does too). */
  makeShell(write: (text: string) => void): Shell;
  /** Silence that ends a session (forgets the password); 0 = never. */
  idleTimeoutMs: number;
  counters: SerialConsoleCounters;
  log: (level: 'info' | 'warn', msg: string) => void;
  reopen?: { initialMs?: number; maxMs?: number };
  /** Output allowed to wait for the port before more is dropped. */
  maxQueuedOutput?: number;
}

export class SerialConsole {
  readonly shell: Shell;
  private readonly serial: ReopeningSerialPort;
  private idleTimer: NodeJS.Timeout | null = null;
  private inSession = false;
  private lastFailure = '';
  private readonly maxQueued: number;

  constructor(private readonly opts: SerialConsoleOptions) {
    const reopenMax = opts.reopen?.maxMs ?? 10_000;
    this.maxQueued = opts.maxQueuedOutput ?? 64 * 1024;
    this.shell = opts.makeShell((text) => this.write(text));
    this.serial = new ReopeningSerialPort({
      path: opts.path,
      baudRate: opts.baudRate,
      reopen: { initialMs: opts.reopen?.initialMs ?? 250, maxMs: reopenMax },
      unrefReopenTimer: true,
      onOpen: () => {
        this.serial.resetBackoff();
        this.lastFailure = '';
        opts.counters.port_opens++;
        opts.log('info', `console: serving the diagnostic shell on ${opts.path} at ${opts.baudRate} baud`);
        this.shell.start();
      },
      onData: (chunk) => this.onData(chunk),
      onOpenFailure: () => opts.counters.port_open_failures++,
      onLost: () => opts.counters.port_losses++,
      onRetry: (why) => {
        // A missing device retried for hours would fill the journal: say each new reason once.
        if (why !== this.lastFailure) opts.log('warn', `console: ${opts.path}: ${why}; retrying with back-off up to ${reopenMax / 1000} s`);
        this.lastFailure = why;
      },
    });
  }

  get isOpen(): boolean {
    return this.serial.isOpen;
  }

  /** Why the port is not open (the last open failure), or '' while open or before the first try. */
  get failure(): string {
    return this.lastFailure;
  }

  start(): void {
    this.serial.start();
  }

  async stop(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    await this.serial.stop();
  }

  private onData(chunk: Buffer): void {
    this.inSession = true;
    this.armIdle();
    this.shell.feed(chunk);
  }

  private armIdle(): void {
    if (this.opts.idleTimeoutMs <= 0) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (!this.inSession) return;
      this.inSession = false;
      this.opts.counters.idle_timeouts++;
      this.shell.endSession(`idle for ${Math.round(this.opts.idleTimeoutMs / 1000)} s`);
    }, this.opts.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private write(text: string): void {
    const port = this.serial.current;
    if (!port || !port.isOpen) {
      this.opts.counters.output_dropped += text.length;
      return;
    }
    // A terminal that stopped reading (or a cable pulled under hardware flow control) must not
    // make the daemon buffer without bound.
    if (port.writableLength > this.maxQueued) {
      this.opts.counters.output_dropped += text.length;
      return;
    }
    port.write(Buffer.from(text, 'latin1'));
  }
}
