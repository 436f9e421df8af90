import { connect, type Socket } from 'node:net';
import { LineSplitter } from './line-splitter';
import { MAX_LINE_BYTES, encodeMessage, parseResponse, type ControlResponse, type RequestId } from './protocol';

/** Why a request got no answer. `unreachable`: nothing listens on the socket (no daemon). */
export type ClientFailure = { reason: 'unreachable' | 'timeout' | 'closed' | 'protocol'; message: string };

export type ClientResult = { ok: true; response: ControlResponse } | ({ ok: false } & ClientFailure);

export interface ClientOptions {
  /** Per-request timeout; default 5 s. */
  timeoutMs?: number;
}

/**
 * A connection to the daemon's control socket, used by `twinvip status`, `twinvip console` and
 * tests. Several requests may be in flight; answers are matched by id. Failures are values.
 */
export class ControlClient {
  private nextId = 1;
  private readonly pending = new Map<RequestId, (r: ClientResult) => void>();
  private closedWith: ClientFailure | undefined;

  private constructor(
    private readonly sock: Socket,
    readonly path: string,
    private readonly timeoutMs: number,
  ) {
    const splitter = new LineSplitter(16 * MAX_LINE_BYTES);
    sock.on('data', (chunk: Buffer) => {
      const { lines, overflow } = splitter.push(chunk);
      for (const line of lines) this.onLine(line);
      if (overflow) this.fail({ reason: 'protocol', message: 'response line too long' });
    });
    sock.on('error', (err) => this.fail({ reason: 'closed', message: err.message }));
    sock.on('close', () => this.fail({ reason: 'closed', message: `daemon closed the connection on ${path}` }));
  }

  static connect(path: string, opts: ClientOptions = {}): Promise<{ ok: true; client: ControlClient } | ({ ok: false } & ClientFailure)> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    return new Promise((resolve) => {
      const sock = connect(path);
      const timer = setTimeout(() => {
        sock.destroy();
        resolve({ ok: false, reason: 'timeout', message: `no answer from ${path} within ${timeoutMs} ms` });
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve({ ok: true, client: new ControlClient(sock, path, timeoutMs) });
      });
      sock.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const why = err.code === 'ENOENT' ? 'no such socket' : err.code === 'ECONNREFUSED' ? 'nothing listening' : err.message;
        resolve({ ok: false, reason: 'unreachable', message: `no twinvip daemon answers on ${path} (${why})` });
      });
    });
  }

  request(cmd: string, args?: Record<string, unknown>, opts: ClientOptions = {}): Promise<ClientResult> {
    if (this.closedWith) return Promise.resolve({ ok: false, ...this.closedWith });
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, reason: 'timeout', message: `'${cmd}' got no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.sock.write(encodeMessage(args === undefined ? { id, cmd } : { id, cmd, args }));
    });
  }

  /** Sends a raw line as is (tests use it for malformed input). */
  writeRaw(text: string): void {
    this.sock.write(text);
  }

  close(): void {
    this.sock.end();
    this.fail({ reason: 'closed', message: 'client closed' });
  }

  /** Errors that arrive without a request id (malformed input, overflow) land here. */
  readonly unsolicited: ControlResponse[] = [];

  private onLine(line: string): void {
    const parsed = parseResponse(line);
    if (!parsed.ok) {
      this.fail({ reason: 'protocol', message: parsed.error });
      return;
    }
    const { response } = parsed;
    const waiter = response.id === null ? undefined : this.pending.get(response.id);
    if (!waiter || response.id === null) {
      this.unsolicited.push(response);
      return;
    }
    this.pending.delete(response.id);
    waiter({ ok: true, response });
  }

  private fail(failure: ClientFailure): void {
    if (!this.closedWith) this.closedWith = failure;
    for (const [id, waiter] of this.pending) {
      this.pending.delete(id);
      waiter({ ok: false, ...failure });
    }
  }
}

/** Connect, ask one thing, disconnect. */
export async function requestOnce(path: string, cmd: string, args?: Record<string, unknown>, opts: ClientOptions = {}): Promise<ClientResult> {
  const conn = await ControlClient.connect(path, opts);
  if (!conn.ok) return conn;
  try {
    return await conn.client.request(cmd, args, opts);
  } finally {
    conn.client.close();
  }
}
