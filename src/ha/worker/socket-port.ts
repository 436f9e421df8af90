// The channel between the HA thread and the main thread after the start: one end of a Unix
// socket pair per thread (the addon's socketPair), each a libuv stream on that thread's own event
// loop, messages as V8's structured-clone bytes (node:v8 serialize) with a 4-byte length.
//
// Why not the worker's MessagePort: measured under mqtt-max with perf and gdb (bench/README.md
// ha-load), the real-time HA thread waited in MessagePort::OnMessage for the port's mutex while
// the main thread, preempted at normal priority, held it in its own postMessage (10 waits,
// 37 ms in 25 s, with the diagnosis' serial requests and their answers crossing every second);
// and a message's buffer is allocated by the sending thread and freed by the receiving one, whose
// free() then locks the sender's malloc arena. Here the two threads share nothing but the
// kernel's socket buffer: each side allocates, reads and frees its own memory, and a write from
// the HA thread never waits for the main thread (a full socket buffer queues in the HA thread's
// own heap, as a slow MessagePort receiver did).

import { Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';
import type { HaPort } from './protocol';

export class SocketPort implements HaPort {
  private readonly socket: Socket;
  private readonly listeners: ((message: never) => void)[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closed = false;

  /** @param fd one end of socketPair(); the port owns it from here (closed by close()). */
  constructor(fd: number) {
    this.socket = new Socket({ fd, readable: true, writable: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // The other thread ended (worker terminated, daemon stopping): nothing more arrives.
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
    });
  }

  postMessage(message: unknown): void {
    if (this.closed) return;
    const body = serialize(message);
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32LE(body.length, 0);
    this.socket.write(Buffer.concat([head, body]));
  }

  on(event: 'message', listener: (message: never) => void): this {
    if (event === 'message') this.listeners.push(listener);
    return this;
  }

  /** Keeps the thread's event loop alive only while something else does (as a MessagePort may). */
  unref(): void {
    this.socket.unref();
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes >= 4) {
      // The length first; the bytes are joined only once the whole message is there.
      if (this.pending[0]!.length < 4) this.pending = [Buffer.concat(this.pending, this.pendingBytes)];
      const len = this.pending[0]!.readUInt32LE(0);
      if (this.pendingBytes < 4 + len) return;
      const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
      const message = deserialize(all.subarray(4, 4 + len)) as never;
      const rest = all.subarray(4 + len);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      for (const l of this.listeners) l(message);
    }
  }
}
