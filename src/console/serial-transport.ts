// The shell on a serial console port. @serialport/stream with the bindings-cpp autoDetect
// binding (N-API prebuilds; reads go through libuv's poller, so nothing blocks the event loop).
// The port is raw (no tty line discipline), so the shell echoes and sends CRLF itself.
import { autoDetect } from '@serialport/bindings-cpp';
import { SerialPortStream } from '@serialport/stream';
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
  private port: SerialPortStream | null = null;
  private opening = false;
  private running = false;
  private backoff: number;
  private reopenTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private inSession = false;
  private lastFailure = '';
  private readonly reopenInitial: number;
  private readonly reopenMax: number;
  private readonly maxQueued: number;

  constructor(private readonly opts: SerialConsoleOptions) {
    this.reopenInitial = opts.reopen?.initialMs ?? 250;
    this.reopenMax = opts.reopen?.maxMs ?? 10_000;
    this.backoff = this.reopenInitial;
    this.maxQueued = opts.maxQueuedOutput ?? 64 * 1024;
    this.shell = opts.makeShell((text) => this.write(text));
  }

  get isOpen(): boolean {
    return this.port?.isOpen === true;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.openPort();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.reopenTimer = this.idleTimer = null;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private openPort(): void {
    if (!this.running || this.opening || this.port) return;
    this.opening = true;
    let port: SerialPortStream;
    try {
      port = new SerialPortStream({ binding: autoDetect(), path: this.opts.path, baudRate: this.opts.baudRate, autoOpen: false });
    } catch (err) {
      this.opening = false;
      this.opts.counters.port_open_failures++;
      this.scheduleReopen(`cannot create port (${err instanceof Error ? err.message : String(err)})`);
      return;
    }
    // Disconnects also arrive as 'close'; this keeps an unplugged port from being an uncaught error.
    port.on('error', () => {});
    port.open((err) => {
      this.opening = false;
      if (err) {
        this.opts.counters.port_open_failures++;
        this.scheduleReopen(`open failed (${err.message})`);
        return;
      }
      if (!this.running) {
        port.close();
        return;
      }
      this.port = port;
      this.backoff = this.reopenInitial;
      this.lastFailure = '';
      this.opts.counters.port_opens++;
      port.on('data', (chunk: Buffer) => this.onData(chunk));
      port.on('close', (closeErr: Error | null) => this.onClose(port, closeErr));
      this.opts.log('info', `console: serving the diagnostic shell on ${this.opts.path} at ${this.opts.baudRate} baud`);
      this.shell.start();
    });
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

  private onClose(port: SerialPortStream, err: Error | null): void {
    if (this.port !== port) return;
    this.port = null;
    if (!this.running) return;
    this.opts.counters.port_losses++;
    this.scheduleReopen(`port lost (${err?.message ?? 'closed'})`);
  }

  private scheduleReopen(why: string): void {
    if (!this.running || this.reopenTimer) return;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.reopenMax);
    // A missing device retried for hours would fill the journal: say each new reason once.
    if (why !== this.lastFailure) this.opts.log('warn', `console: ${this.opts.path}: ${why}; retrying with back-off up to ${this.reopenMax / 1000} s`);
    this.lastFailure = why;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      this.openPort();
    }, delay);
    this.reopenTimer.unref();
  }

  private write(text: string): void {
    const port = this.port;
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
