import { createServer, type Server, type Socket } from 'node:net';
import { chmod, stat, unlink } from 'node:fs/promises';
import type { SubsystemLogger } from '../log';
import { LineSplitter } from './line-splitter';
import { MAX_LINE_BYTES, encodeMessage, parseRequest, type ControlResponse, type RequestId } from './protocol';
import { prepareSocketPath } from './socket-file';

/** What a handler learns about the caller. */
export interface RequestContext {
  connectionId: number;
  cmd: string;
}

/**
 * A control command. Return the response data (sync or async). Throw `CommandError` for an
 * expected refusal (bad argument, state does not allow it): its message is the error response.
 * Any other exception is a bug: it is logged and answered with an internal error; the daemon lives on.
 */
export type CommandHandler = (args: Record<string, unknown>, ctx: RequestContext) => unknown;

export class CommandError extends Error {
  override name = 'CommandError';
}

export interface CommandInfo {
  cmd: string;
  summary: string;
}

export interface ControlServerOptions {
  log: SubsystemLogger;
  maxLineBytes?: number;
  maxClients?: number;
  /** A client that does not read its answers is dropped once this much is queued for it. */
  maxQueuedBytes?: number;
  /** Requests one connection may have running at once; more are refused, not queued. */
  maxInFlight?: number;
}

export interface ControlCounters {
  connections: number;
  requests: number;
  errors: number;
  malformed: number;
  oversize: number;
  busy: number;
  rejected_clients: number;
  slow_clients_dropped: number;
  handler_failures: number;
}

export type ListenResult = { ok: true } | { ok: false; error: string };

export class ControlServer {
  private readonly handlers = new Map<string, { handler: CommandHandler; summary: string }>();
  private readonly clients = new Set<Socket>();
  private server: Server | undefined;
  private path: string | undefined;
  private ino: number | undefined;
  private nextConnId = 1;
  private readonly maxLineBytes: number;
  private readonly maxClients: number;
  private readonly maxQueuedBytes: number;
  private readonly maxInFlight: number;
  private readonly log: SubsystemLogger;
  readonly counters: ControlCounters = {
    connections: 0, requests: 0, errors: 0, malformed: 0, oversize: 0, busy: 0, rejected_clients: 0, slow_clients_dropped: 0, handler_failures: 0,
  };

  constructor(opts: ControlServerOptions) {
    this.log = opts.log;
    this.maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
    this.maxClients = opts.maxClients ?? 16;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 1024 * 1024;
    this.maxInFlight = opts.maxInFlight ?? 32;
  }

  /**
   * Adds a command; returns a function that removes it (an extension's stop()). Registering a
   * name twice is a wiring bug and throws, unless `replace` says the caller means to take it over.
   */
  register(cmd: string, handler: CommandHandler, opts: { summary?: string; replace?: boolean } = {}): () => void {
    if (this.handlers.has(cmd) && !opts.replace) throw new Error(`control command '${cmd}' registered twice`);
    const entry = { handler, summary: opts.summary ?? '' };
    this.handlers.set(cmd, entry);
    return () => {
      if (this.handlers.get(cmd) === entry) this.handlers.delete(cmd);
    };
  }

  commands(): CommandInfo[] {
    return [...this.handlers].map(([cmd, e]) => ({ cmd, summary: e.summary })).sort((a, b) => a.cmd.localeCompare(b.cmd));
  }

  get socketPath(): string | undefined {
    return this.path;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  async listen(path: string): Promise<ListenResult> {
    if (this.server) return { ok: false, error: 'control server already listening' };
    const prep = await prepareSocketPath(path);
    if (!prep.ok) return prep;
    if (prep.removedStale) this.log.warn('removed stale control socket (nothing answered on it)', { path });
    const server = createServer({ allowHalfOpen: false }, (sock) => this.accept(sock));
    const listened = await new Promise<ListenResult>((resolve) => {
      const onError = (err: Error) => resolve({ ok: false, error: `cannot listen on ${path}: ${err.message}` });
      server.once('error', onError);
      // The socket must never be reachable with a wider mode than 0660, not even briefly.
      const oldMask = trySetUmask(0o117);
      try {
        server.listen(path, () => {
          server.off('error', onError);
          resolve({ ok: true });
        });
      } finally {
        if (oldMask !== undefined) trySetUmask(oldMask);
      }
    });
    if (!listened.ok) return listened;
    server.on('error', (err) => this.log.error('control socket error', { error: err.message }));
    try {
      await chmod(path, 0o660);
      this.ino = (await stat(path)).ino;
    } catch (err) {
      server.close();
      return { ok: false, error: `cannot set mode of ${path}: ${(err as Error).message}` };
    }
    this.server = server;
    this.path = path;
    return { ok: true };
  }

  /** Stops accepting, drops clients, and removes the socket file if it is still ours. */
  async close(): Promise<void> {
    const server = this.server;
    const path = this.path;
    if (!server || path === undefined) return;
    this.server = undefined;
    for (const c of this.clients) c.destroy();
    this.clients.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      // A newer daemon may own the path now (an operator removed ours): leave its socket alone.
      if ((await stat(path)).ino === this.ino) await unlink(path);
    } catch {
      // Already gone: libuv unlinks the pipe file on close.
    }
  }

  private accept(sock: Socket): void {
    if (this.clients.size >= this.maxClients) {
      this.counters.rejected_clients++;
      sock.end(encodeMessage({ id: null, status: 'error', error: `too many control clients (max ${this.maxClients})` }));
      sock.on('error', () => {});
      return;
    }
    const connectionId = this.nextConnId++;
    this.counters.connections++;
    this.clients.add(sock);
    const splitter = new LineSplitter(this.maxLineBytes);
    const conn = { id: connectionId, inFlight: 0 };
    sock.on('error', () => {
      // A client vanishing mid-write is its problem, not the daemon's.
    });
    sock.on('close', () => this.clients.delete(sock));
    sock.on('data', (chunk: Buffer) => {
      const { lines, overflow } = splitter.push(chunk);
      for (const line of lines) {
        if (line.trim() === '') continue;
        void this.handleLine(sock, line, conn);
      }
      if (overflow) {
        this.counters.oversize++;
        this.counters.errors++;
        this.log.warn('control request longer than the limit; closing the connection', { limit: this.maxLineBytes, connection: connectionId });
        this.send(sock, { id: null, status: 'error', error: `request line longer than ${this.maxLineBytes} bytes` });
        sock.end();
        sock.pause();
      }
    });
  }

  private async handleLine(sock: Socket, line: string, conn: { id: number; inFlight: number }): Promise<void> {
    const connectionId = conn.id;
    this.counters.requests++;
    const parsed = parseRequest(line);
    if (!parsed.ok) {
      this.counters.malformed++;
      this.counters.errors++;
      this.log.debug('malformed control request', { error: parsed.error, connection: connectionId });
      this.send(sock, { id: parsed.id, status: 'error', error: parsed.error });
      return;
    }
    const { id, cmd, args } = parsed.request;
    const entry = this.handlers.get(cmd);
    if (!entry) {
      this.counters.errors++;
      this.send(sock, { id, status: 'error', error: `unknown command '${cmd}' (known: ${[...this.handlers.keys()].sort().join(', ')})` });
      return;
    }
    if (conn.inFlight >= this.maxInFlight) {
      // Bounded work per client: a flood of slow requests is refused, not queued without limit.
      this.counters.busy++;
      this.counters.errors++;
      this.send(sock, { id, status: 'error', error: `busy: ${this.maxInFlight} requests already running on this connection` });
      return;
    }
    conn.inFlight++;
    try {
      this.send(sock, await this.runHandler(id, cmd, entry.handler, args ?? {}, { connectionId, cmd }));
    } finally {
      conn.inFlight--;
    }
  }

  private async runHandler(id: RequestId, cmd: string, handler: CommandHandler, args: Record<string, unknown>, ctx: RequestContext): Promise<ControlResponse> {
    try {
      const data = await handler(args, ctx);
      return data === undefined ? { id, status: 'ok' } : { id, status: 'ok', data };
    } catch (err) {
      this.counters.errors++;
      if (err instanceof CommandError) return { id, status: 'error', error: err.message };
      this.counters.handler_failures++;
      this.log.error(`control command '${cmd}' failed`, { error: err instanceof Error ? err.message : String(err) });
      return { id, status: 'error', error: `internal error in '${cmd}': ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  private send(sock: Socket, response: ControlResponse): void {
    if (sock.destroyed || !sock.writable) return;
    let text: string;
    try {
      text = encodeMessage(response);
    } catch (err) {
      text = encodeMessage({ id: response.id, status: 'error', error: `response not serialisable: ${(err as Error).message}` });
    }
    sock.write(text);
    // Never let a client that does not read make the daemon buffer without bound.
    if (sock.writableLength > this.maxQueuedBytes) {
      this.counters.slow_clients_dropped++;
      this.log.warn('control client not reading its answers; dropped', { queued: sock.writableLength });
      sock.destroy();
    }
  }
}

function trySetUmask(mask: number): number | undefined {
  try {
    return process.umask(mask);
  } catch {
    // Worker threads cannot change the umask; the chmod after listen still applies.
    return undefined;
  }
}
