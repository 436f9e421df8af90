// The serial heartbeat's port binding: @serialport/bindings-cpp's Linux binding (open, termios,
// close, flush and the fs reads and writes are its own), with one part replaced — the wait for a
// readable or writable descriptor. bindings-cpp polls with a uv_poll on uv_default_loop(), which
// in a worker thread is the main thread's loop: its callback then enters the worker's isolate
// from the main thread and V8 aborts the process ("Entering the V8 API without proper locking").
// Here the wait is a poll handle of our addon on the calling thread's own loop (native/), so the
// link runs in the HA thread, and on the main thread all the same.
//
// Reads and writes are ours too: bindings-cpp reads and writes with fs.read / fs.write, a job of
// libuv's thread pool each (four threads shared with the main thread's file and crypto work),
// so every frame sent and every read — and the read that finds nothing and waits — crossed to a
// pool thread and back, and queued behind whatever the main thread had there. Here each is one
// non-blocking read(2) / write(2) on the calling thread (the addon's readFd / writeFd): a frame
// of a few dozen bytes into the tty's output buffer is written at once; a write that cannot
// finish (EAGAIN, a partial write: the twin is not reading) goes on through the binding's own
// write, which waits for the port to become writable and completes it.

import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { loadAddon, type NativeError, type NativeHandle, type TwinvipNetAddon } from '../../net/native';
import type { SerialBinding } from '../../lib/serial-port';

const READABLE = 1;
const WRITABLE = 2;
const DISCONNECT = 4;

/** What LinuxPortBinding asks of its poller (bindings-cpp dist/poller.js): once(), stop(), destroy(). */
class LoopPoller extends EventEmitter {
  private readonly handle: NativeHandle;
  private events = 0;
  private stopped = false;

  constructor(fd: number, private readonly addon: TwinvipNetAddon) {
    super();
    this.handle = addon.watchFd(fd, (err, ev) => this.onReady(err, ev ?? 0));
  }

  override once(event: string | symbol, listener: (...args: any[]) => void): this {
    if (event === 'readable') this.want(READABLE);
    else if (event === 'writable') this.want(WRITABLE);
    return super.once(event, listener);
  }

  /** Stops watching; pending waits end with a canceled error, as bindings-cpp's poller does. */
  stop(): void {
    if (!this.stopped) {
      this.stopped = true;
      this.events = 0;
      this.addon.watchFdClose(this.handle);
    }
    this.emitCanceled();
  }

  destroy(): void {
    this.stop();
  }

  private emitCanceled(): void {
    const err = Object.assign(new Error('Canceled'), { canceled: true });
    this.emit('readable', err);
    this.emit('writable', err);
  }

  private want(flag: number): void {
    if (this.stopped) {
      // A wait asked for after close: end it at once, as a closed port does.
      queueMicrotask(() => this.emitCanceled());
      return;
    }
    if (this.events & flag) return;
    this.events |= flag;
    this.addon.watchFdSet(this.handle, this.events);
  }

  private onReady(err: NativeError | null, ev: number): void {
    if (this.stopped) return;
    let fire = err ? this.events : 0;
    // A hang-up wakes a pending read, which then meets the error (EIO: the other end is gone).
    if (!err) fire = this.events & (ev | (ev & DISCONNECT ? READABLE : 0));
    this.events &= ~fire;
    if (!err) this.addon.watchFdSet(this.handle, this.events);
    if (fire & READABLE) this.emit('readable', err ?? undefined);
    if (fire & WRITABLE) this.emit('writable', err ?? undefined);
  }
}

interface LinuxModules {
  linux: { LinuxBinding: { list(): Promise<unknown[]> }; LinuxPortBinding: { prototype: object } };
  bindings: { asyncOpen(path: string, options: object): Promise<number> };
}

let modules: LinuxModules | undefined;

/** The Linux binding with a poller on the calling thread's loop (see the header). */
export async function loopSafeSerialBinding(): Promise<SerialBinding> {
  const req = createRequire(import.meta.url);
  modules ??= {
    linux: req('@serialport/bindings-cpp/dist/linux') as LinuxModules['linux'],
    bindings: req('@serialport/bindings-cpp/dist/load-bindings') as LinuxModules['bindings'],
  };
  const { linux, bindings } = modules;
  const addon = loadAddon();
  const binding = {
    list: () => linux.LinuxBinding.list(),
    async open(options: { path: string; baudRate: number }) {
      // LinuxBinding.open's defaults; its constructor would create bindings-cpp's own poller.
      const openOptions = {
        vmin: 1, vtime: 0, dataBits: 8, lock: true, stopBits: 1, parity: 'none', rtscts: false, xon: false, xoff: false, xany: false, hupcl: true,
        ...options,
      };
      const fd = await bindings.asyncOpen(openOptions.path, openOptions);
      const port = Object.create(linux.LinuxPortBinding.prototype) as Record<string, unknown>;
      port.fd = fd;
      port.openOptions = openOptions;
      port.writeOperation = null;
      port.poller = new LoopPoller(fd, addon);
      directIo(port as unknown as DirectPort, addon, linux.LinuxPortBinding.prototype as unknown as DirectPort);
      return port;
    },
  };
  return binding as unknown as SerialBinding;
}

/** The parts of LinuxPortBinding that directIo replaces or uses. */
interface DirectPort {
  fd: number | null;
  readonly isOpen: boolean;
  poller: LoopPoller;
  writeOperation: Promise<void> | null;
  read(buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number; buffer: Buffer }>;
  write(buffer: Buffer): Promise<void>;
}

/** What the serial heartbeat's ports did, for the benchmark and tests (process-wide). */
export const serialIoCounters = { directWrites: 0, fallbackWrites: 0, directReads: 0, readWaits: 0 };

function canceled(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true });
}

/** Ports whose last read took less than it asked for: the next read waits for readable first. */
const drained = new WeakSet<DirectPort>();

/** read/write of one port by read(2)/write(2) on the calling thread (see the header). */
function directIo(port: DirectPort, addon: TwinvipNetAddon, binding: DirectPort): void {
  port.write = function write(this: DirectPort, buffer: Buffer): Promise<void> {
    if (!Buffer.isBuffer(buffer)) return Promise.reject(new TypeError('"buffer" is not a Buffer'));
    if (!this.isOpen || this.fd === null) return Promise.reject(new Error('Port is not open'));
    if (buffer.length === 0) return Promise.resolve();
    let done = 0;
    try {
      // The stream writes one buffer at a time (its _write waits for this promise), so nothing of
      // an earlier write can still be pending here: no reordering.
      done = Math.max(addon.writeFd(this.fd, buffer), 0);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (done === buffer.length) {
      serialIoCounters.directWrites++;
      this.writeOperation = null;
      return Promise.resolve();
    }
    serialIoCounters.fallbackWrites++;
    return binding.write.call(this, done > 0 ? buffer.subarray(done) : buffer);
  };
  port.read = async function read(this: DirectPort, buffer: Buffer, offset: number, length: number) {
    if (!Buffer.isBuffer(buffer)) throw new TypeError('"buffer" is not a Buffer');
    if (buffer.length < offset + length) throw new Error('buffer is too small');
    // A read that finds nothing is not free on a tty: n_tty_read first flushes the port's flip
    // buffer and waits for the kworker doing it, a normal-priority thread that a busy CPU
    // preempts (measured: one such read kept the real-time HA thread 159 ms, bench/README.md
    // ha-load). So after a read that took less than it asked for (the port is most likely
    // drained), the next one waits for the port to be readable first: epoll reports it once the
    // bytes are in the line discipline, and that read finds them without a flush.
    if (drained.has(this)) {
      drained.delete(this);
      if (!this.isOpen || this.fd === null) throw canceled();
      serialIoCounters.readWaits++;
      await new Promise<void>((resolve, reject) => this.poller.once('readable', (err?: Error) => (err ? reject(err) : resolve())));
    }
    for (;;) {
      if (!this.isOpen || this.fd === null) throw canceled();
      const n = addon.readFd(this.fd, buffer, offset, length);
      if (n > 0) {
        serialIoCounters.directReads++;
        if (n < length) drained.add(this);
        return { bytesRead: n, buffer };
      }
      // Nothing there (EAGAIN), or 0 (no data on a tty in non-blocking mode): wait on this
      // thread's loop for the port to become readable. Errors (EIO: the other end is gone) throw.
      serialIoCounters.readWaits++;
      await new Promise<void>((resolve, reject) => this.poller.once('readable', (err?: Error) => (err ? reject(err) : resolve())));
    }
  };
}
