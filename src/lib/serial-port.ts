// A serial port that is opened, and reopened with exponential back-off whenever it fails to
// open or is lost (a USB adapter unplugged, a pty's other end gone). Shared by the serial
// heartbeat (src/ha/heartbeat/serial-link.ts) and the serial console
// (src/console/serial-transport.ts). Port access is @serialport/stream with the bindings-cpp
// autoDetect binding (N-API prebuilds, non-blocking reads through libuv's poller), so nothing
// here blocks the event loop. Both packages (and the native addon) load with the first port
// opened, so a daemon without a serial heartbeat or console never maps them.
import { existsSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { autoDetect as AutoDetect } from '@serialport/bindings-cpp';
import type { SerialPortStream } from '@serialport/stream';
import { FeatureError, errnoFromText } from './feature-failure';

export type FirstOpen = { ok: true } | { ok: false; error: FeatureError };

/**
 * serialport gives only glibc's text ("Error: Is a directory, cannot open /dev/x"): the line
 * names the call and the errno as every start failure does ("open /dev/x EISDIR (Is a directory)").
 */
export function openError(path: string, err: Error): FeatureError {
  const text = err.message.replace(/^(Error:\s*)+/, '');
  const errno = (err as { code?: unknown }).code;
  const code = typeof errno === 'string' && /^E[A-Z0-9]+$/.test(errno) ? errno : errnoFromText(text);
  const what = text.replace(new RegExp(`,?\\s*cannot open ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`), '');
  const call = /baud|ioctl|setting/i.test(what) && !/cannot open/.test(text) ? `configure ${path}` : `open ${path}`;
  return new FeatureError(`${call}${code ? ` ${code}` : ''} (${what})`, { call, ...(code ? { errno: code } : {}), cause: err });
}

interface SerialModules {
  autoDetect: typeof AutoDetect;
  SerialPortStream: typeof SerialPortStream;
}

let serialModules: Promise<SerialModules> | undefined;

function loadSerialModules(): Promise<SerialModules> {
  serialModules ??= import('./serial-modules').then(
    (m) => ({ autoDetect: m.autoDetect, SerialPortStream: m.SerialPortStream }),
    (err: unknown) => {
      // A missing addon is retried with the port's back-off, like any other open failure.
      serialModules = undefined;
      throw err;
    },
  );
  return serialModules;
}

/** A serial binding as @serialport/stream takes it (autoDetect()'s, or a replacement). */
export type SerialBinding = ReturnType<typeof AutoDetect>;

export interface ReopeningPortOptions {
  path: string;
  /**
   * The binding to open the port with; autoDetect()'s by default. The HA thread passes one that
   * waits for readability on its own event loop (src/ha/heartbeat/serial-binding.ts).
   */
  binding?: () => Promise<SerialBinding>;
  baudRate: number;
  reopen: { initialMs: number; maxMs: number };
  /** Whether a pending reopen may let the process exit. */
  unrefReopenTimer: boolean;
  /** The port is open and current; called before its 'data' listener is attached. */
  onOpen(port: SerialPortStream): void;
  onData(chunk: Buffer): void;
  /** Creating or opening the port failed; a reopen follows. */
  onOpenFailure(err: Error): void;
  /** An open port closed without stop(); a reopen follows. */
  onLost(reason: string): void;
  /** A reopen is scheduled `delayMs` from now because of `why`. */
  onRetry(why: string, delayMs: number): void;
  onError?(err: Error): void;
}

export class ReopeningSerialPort {
  private port: SerialPortStream | null = null;
  private opening = false;
  private running = false;
  private backoff: number;
  private reopenTimer: NodeJS.Timeout | null = null;
  private settleFirst: ((r: FirstOpen) => void) | undefined;
  /**
   * How the first open after start() went: a feature that must not start without its port awaits
   * this and fails loudly (the reopening goes on only for a port lost later).
   */
  readonly firstOpen: Promise<FirstOpen>;

  constructor(private readonly opts: ReopeningPortOptions) {
    this.backoff = opts.reopen.initialMs;
    this.firstOpen = new Promise((r) => (this.settleFirst = r));
  }

  private first(r: FirstOpen): void {
    this.settleFirst?.(r);
    this.settleFirst = undefined;
  }

  private watcher: FSWatcher | null = null;

  /** The open port, or null. */
  get current(): SerialPortStream | null {
    return this.port;
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
    this.unwatch();
    this.first({ ok: false, error: new FeatureError(`serial ${this.opts.path}: stopped before it opened`) });
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = null;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** The next failure waits the initial delay again (the caller decides what counts as working). */
  resetBackoff(): void {
    this.backoff = this.opts.reopen.initialMs;
  }

  private openPort(): void {
    if (!this.running || this.opening || this.port) return;
    this.opening = true;
    loadSerialModules().then(
      async (modules) => this.openWith(modules, this.opts.binding ? await this.opts.binding() : modules.autoDetect()),
    ).catch((err: unknown) => this.cannotCreate(err));
  }

  private openWith({ SerialPortStream: Stream }: SerialModules, binding: SerialBinding): void {
    if (!this.running) {
      this.opening = false;
      return;
    }
    let port: SerialPortStream;
    try {
      port = new Stream({ binding, path: this.opts.path, baudRate: this.opts.baudRate, autoOpen: false });
    } catch (err) {
      this.cannotCreate(err);
      return;
    }
    // Errors also arrive as 'close' (disconnect) or through the open callback; this listener
    // only keeps an unplugged port from becoming an uncaught exception.
    port.on('error', (err: Error) => this.opts.onError?.(err));
    port.open((err) => {
      this.opening = false;
      if (err) {
        this.first({ ok: false, error: openError(this.opts.path, err) });
        this.opts.onOpenFailure(err);
        this.scheduleReopen(`open failed (${err.message})`);
        return;
      }
      if (!this.running) {
        port.close();
        return;
      }
      this.port = port;
      this.unwatch();
      this.first({ ok: true });
      this.opts.onOpen(port);
      port.on('data', (chunk: Buffer) => this.opts.onData(chunk));
      port.on('close', (closeErr: Error | null) => this.onClose(port, closeErr));
    });
  }

  /** Invalid options or a missing native binding: say so and keep retrying, never crash the daemon. */
  private cannotCreate(err: unknown): void {
    this.opening = false;
    if (!this.running) return;
    const e = err instanceof Error ? err : new Error(String(err));
    this.first({ ok: false, error: openError(this.opts.path, e) });
    this.opts.onOpenFailure(e);
    this.scheduleReopen(`cannot create port (${e.message})`);
  }

  private onClose(port: SerialPortStream, err: Error | null): void {
    // The stream can report a disconnect twice (read and write side); act once.
    if (this.port !== port) return;
    this.port = null;
    if (!this.running) return;
    const reason = err?.message ?? 'closed';
    this.opts.onLost(reason);
    this.scheduleReopen(`port lost (${reason})`);
  }

  /**
   * While the port is away, watch its directory (inotify): a device node or pty link that
   * reappears (a cable or USB adapter plugged back, socat restarted) is opened at once instead of
   * after the back-off (which grows to maxMs). The back-off stays for a node that is there but
   * does not open.
   */
  private watch(): void {
    if (this.watcher || !this.running) return;
    const name = basename(this.opts.path);
    try {
      this.watcher = fsWatch(dirname(this.opts.path), (_event, file) => {
        if (file !== name || !this.reopenTimer || !this.running || !existsSync(this.opts.path)) return;
        clearTimeout(this.reopenTimer);
        this.reopenTimer = null;
        this.opts.onRetry('device node appeared', 0);
        this.openPort();
      });
      this.watcher.on('error', () => this.unwatch());
    } catch {
      this.watcher = null; // no directory or no inotify: the back-off alone
    }
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  private scheduleReopen(why: string): void {
    if (!this.running || this.reopenTimer) return;
    this.watch();
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.opts.reopen.maxMs);
    this.opts.onRetry(why, delay);
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      this.openPort();
    }, delay);
    if (this.opts.unrefReopenTimer) this.reopenTimer.unref();
  }
}
