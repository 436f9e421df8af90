// The serial heartbeat's shell: owns the period timer and the port (opened and reopened with
// back-off by src/lib/serial-port.ts, non-blocking), and feeds bytes through the I/O-free
// FrameReceiver.

import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { ReopeningSerialPort, type FirstOpen } from '../../lib/serial-port';
import { loopSafeSerialBinding } from './serial-binding';
import { newCounters, type HeartbeatCounters, type RejectReason } from '../../heartbeat/counters';
import type { Family, HeartbeatBody, HeartbeatFrame, PeerFrame, PeerMessage, ReleaseFrame } from '../../heartbeat/frame';
import { FrameReceiver } from '../../heartbeat/frame-receiver';
import { FrameSender } from '../../heartbeat/frame-sender';
import { ChannelLiveness, DEFAULT_DEAD_PERIODS, DEFAULT_SERIAL_PERIOD_MS } from '../../heartbeat/peer-liveness';
import { MAX_RESPONSE_PARTS } from '../../heartbeat/frame';
import { splitResponse } from '../../heartbeat/response-chunks';
import { hmacSha256 } from './frame-crypto';
import { nextBootId } from './boot-id';
import { ReplayGuard } from '../../heartbeat/replay';

export interface SerialLinkOptions {
  /** Device path, e.g. /dev/ttyS1 or /dev/serial/by-id/... */
  path: string;
  baudRate?: number;
  periodMs?: number;
  deadPeriods?: number;
  /** Shared HMAC key (same on both boxes). */
  key: Uint8Array;
  nodeId: string;
  /** Our boot id; by default the next one from `bootNumberFile` (see boot-id.ts). */
  bootId?: string;
  /** Where the boot number is kept across restarts, e.g. <state_dir>/serial-boot. */
  bootNumberFile?: string;
  /**
   * The content of the next heartbeat; called once per period and on sendHeartbeatNow().
   * uptimeMs must be monotonic (e.g. Math.round(performance.now())): the peer uses its progress
   * to tell current heartbeats from ones held back in a buffer.
   */
  heartbeat: () => HeartbeatBody;
  /** Answers the peer's diagnostic requests; the body is JSON text by convention. */
  onRequest?: (what: string) => string | Promise<string>;
  reopen?: { initialMs?: number; maxMs?: number };
  log?: (line: string) => void;
  /** Monotonic ms; performance.now() by default. */
  clock?: () => number;
  /**
   * True while heartbeat and release frames must not leave (the stall gate checks whether the
   * twin took over while this node was frozen, src/ha/stall-gate.ts). Called first on each send.
   */
  hold?: () => boolean;
}

export type RequestResult =
  | { ok: true; body: string }
  | { ok: false; error: 'timeout' | 'port-closed' | 'stopped' };

export interface SerialLinkCounters extends HeartbeatCounters {
  opens: number;
  openFailures: number;
  portLosses: number;
  /** Frames not written because the port was closed (never queued: stale heartbeats are useless). */
  droppedPortClosed: number;
  /** Heartbeats skipped because the previous writes had not drained (peer not reading). */
  skippedBusy: number;
  requestTimeouts: number;
  /** Peer requests not answered because the response queue was full (a peer asking faster than the line carries). */
  responsesDropped: number;
}

export interface SerialLinkEvents {
  open: [];
  'port-lost': [reason: string];
  /** `sentAt`: when the peer sent it, on our clock (at less its delay behind the promptest heartbeat). */
  heartbeat: [frame: HeartbeatFrame, at: number, sentAt: number];
  release: [frame: ReleaseFrame, at: number];
  reject: [reason: RejectReason];
  'peer-rebooted': [frame: PeerFrame];
  'peer-silent': [silentMs: number];
  'peer-alive': [nodeId: string];
}

const DEFAULT_BAUD = 115_200;
/** Bytes allowed to wait in the write queue before heartbeats are skipped (a few frames). */
const MAX_QUEUED_BYTES = 2048;
/**
 * Response parts allowed to wait for line capacity: two of the largest responses. A response that
 * does not fit is not queued at all (half an answer is worse than a timeout), so a peer that asks
 * faster than the line carries cannot grow our memory.
 */
export const MAX_QUEUED_RESPONSE_PARTS = 2 * MAX_RESPONSE_PARTS;
/** Peer requests being answered at once; more are dropped and counted. */
const MAX_ANSWERING = 4;

/** What a rejection most likely means, for the log's summary (counters carry the numbers). */
const REJECT_HINTS: Partial<Record<RejectReason, string>> = {
  'bad-hmac': 'the twin has another heartbeat key',
  'bad-version': 'the twin runs another heartbeat protocol version: upgrade both boxes',
  'own-frame': 'our own node id or boot id: the line loops back, or the twin has our heartbeat.serial.node_id',
  unsynced: 'the twin has not heard our frames yet: it just started, or our direction of the line is broken',
  pairing: 'the twin has no heartbeat key and asks to pair; this box is paired (twinvip pair --unpair here, then pair both again)',
};

export class SerialLink extends EventEmitter<SerialLinkEvents> {
  readonly counters: SerialLinkCounters;
  private readonly sender: FrameSender;
  private readonly receiver: FrameReceiver;
  private readonly guard: ReplayGuard;
  private readonly liveness: ChannelLiveness;
  private readonly clock: () => number;
  private readonly periodMs: number;
  private readonly baudRate: number;
  private readonly serial: ReopeningSerialPort;
  private periodTimer: NodeJS.Timeout | null = null;
  private running = false;
  private peerSilent = true;
  private framesSinceOpen = 0;
  /**
   * Response parts waiting for line capacity; heartbeats always go first. Queued as messages and
   * stamped only when written: a seq taken earlier would arrive behind newer heartbeats and be
   * rejected as a replay.
   */
  private readonly bulk: { msg: PeerMessage; estimate: number }[] = [];
  private answering = 0;
  private nextReqId = 1;
  private readonly pending = new Map<number, { parts: (string | undefined)[]; done: (r: RequestResult) => void; timer: NodeJS.Timeout }>();
  private readonly rejectLog = new Map<RejectReason, number>();
  private lastRejectLogAt = -Infinity;

  constructor(private readonly opts: SerialLinkOptions) {
    super();
    const c = newCounters();
    this.counters = { ...c, opens: 0, openFailures: 0, portLosses: 0, droppedPortClosed: 0, skippedBusy: 0, requestTimeouts: 0, responsesDropped: 0 };
    const mac = hmacSha256(opts.key);
    const deadMs = (opts.periodMs ?? DEFAULT_SERIAL_PERIOD_MS) * (opts.deadPeriods ?? DEFAULT_DEAD_PERIODS);
    const bootId = opts.bootId ?? nextBootId(opts.bootNumberFile, (line) => this.log(line));
    // A frame must echo a seq we sent at most two dead times ago: a round trip and a period, with
    // room for a busy box; anything recorded earlier is refused.
    this.guard = new ReplayGuard({ nodeId: opts.nodeId, bootId, windowMs: 2 * deadMs });
    this.sender = new FrameSender({ mac, nodeId: opts.nodeId, guard: this.guard, counters: this.counters });
    this.receiver = new FrameReceiver({ mac, guard: this.guard, counters: this.counters, staleAfterMs: deadMs });
    this.clock = opts.clock ?? (() => performance.now());
    this.periodMs = opts.periodMs ?? DEFAULT_SERIAL_PERIOD_MS;
    this.baudRate = opts.baudRate ?? DEFAULT_BAUD;
    this.serial = new ReopeningSerialPort({
      path: opts.path,
      // Waits for the port on this thread's own loop: the link runs in the HA thread.
      binding: loopSafeSerialBinding,
      baudRate: this.baudRate,
      reopen: { initialMs: opts.reopen?.initialMs ?? 100, maxMs: opts.reopen?.maxMs ?? 5000 },
      unrefReopenTimer: false,
      onOpen: (port) => {
        this.counters.opens++;
        this.framesSinceOpen = 0;
        // Bytes that waited in the tty buffer while nobody read them are old news, not liveness.
        port.flush();
        this.log(`serial ${this.opts.path}: open at ${this.baudRate} baud`);
        this.emit('open');
        this.sendHeartbeat();
      },
      onData: (chunk) => this.onData(chunk),
      onOpenFailure: () => this.counters.openFailures++,
      onLost: (reason) => {
        this.bulk.length = 0;
        this.counters.portLosses++;
        this.emit('port-lost', reason);
      },
      onRetry: (why, delayMs) => this.log(`serial ${this.opts.path}: ${why}; reopening in ${delayMs} ms`),
      onError: (err) => this.log(`serial ${this.opts.path}: ${err.message}`),
    });
    this.liveness = new ChannelLiveness(this.periodMs * (opts.deadPeriods ?? DEFAULT_DEAD_PERIODS), this.clock());
  }

  get bootId(): string {
    return this.sender.bootId;
  }

  /** Response parts waiting to be written (bounded by MAX_QUEUED_RESPONSE_PARTS). */
  get queuedResponseParts(): number {
    return this.bulk.length;
  }

  get isOpen(): boolean {
    return this.serial.isOpen;
  }

  /** How the first open after start() went (the error names the call and the errno). */
  get firstOpen(): Promise<FirstOpen> {
    return this.serial.firstOpen;
  }

  /** Whether a frame was accepted within the dead time. */
  peerAlive(): boolean {
    return !this.liveness.isSilent(this.clock());
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.serial.start();
    this.periodTimer = setInterval(() => this.onPeriod(), this.periodMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.periodTimer) clearInterval(this.periodTimer);
    this.periodTimer = null;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.done({ ok: false, error: 'stopped' });
      this.pending.delete(id);
    }
    await this.serial.stop();
  }

  /** An extra heartbeat now, e.g. right after a VRRP state change, so the peer learns it at once. */
  sendHeartbeatNow(): void {
    this.sendHeartbeat();
  }

  /** Tells the peer this node gives the instance up now (the daemon demotes it as well). */
  sendRelease(vrid: number, family: Family): boolean {
    if (this.opts.hold?.()) return false;
    return this.write(this.sender.encode({ kind: 'release', vrid, family }, this.clock()), true);
  }

  /** Asks the peer for diagnostics (`status`, ...); resolves with its body or why not. */
  request(what: string, timeoutMs: number): Promise<RequestResult> {
    if (!this.isOpen) return Promise.resolve({ ok: false, error: 'port-closed' });
    const reqId = this.nextReqId;
    this.nextReqId = this.nextReqId >= 0xffffffff ? 1 : this.nextReqId + 1;
    return new Promise<RequestResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        this.counters.requestTimeouts++;
        resolve({ ok: false, error: 'timeout' });
      }, timeoutMs);
      this.pending.set(reqId, { parts: [], done: resolve, timer });
      this.write(this.sender.encode({ kind: 'request', reqId, what }, this.clock()), true);
    });
  }

  private onPeriod(): void {
    this.sendHeartbeat();
    this.flushBulk();
    const now = this.clock();
    if (!this.peerSilent && this.liveness.isSilent(now)) {
      this.peerSilent = true;
      const silentMs = Math.round(now - this.liveness.lastEvidence());
      this.log(`serial ${this.opts.path}: peer silent for ${silentMs} ms`);
      this.emit('peer-silent', silentMs);
    }
  }

  private sendHeartbeat(): void {
    if (this.opts.hold?.()) return;
    if (!this.isOpen) {
      this.counters.droppedPortClosed++;
      return;
    }
    this.write(this.sender.encode({ kind: 'heartbeat', ...this.opts.heartbeat() }, this.clock()), false);
  }

  /** Response parts use at most half the line per period, so heartbeats are never starved. */
  private flushBulk(): void {
    const budget = Math.max(1, Math.floor(((this.baudRate / 10) * this.periodMs) / 1000 / 2));
    let spent = 0;
    while (this.bulk.length > 0 && (spent === 0 || spent + this.bulk[0]!.estimate <= budget)) {
      const { msg, estimate } = this.bulk.shift()!;
      spent += estimate;
      this.write(this.sender.encode(msg, this.clock()), true);
    }
  }

  private write(wire: Buffer, urgent: boolean): boolean {
    const port = this.serial.current;
    if (!port || !port.isOpen) {
      this.counters.droppedPortClosed++;
      return false;
    }
    if (!urgent && port.writableLength > MAX_QUEUED_BYTES) {
      this.counters.skippedBusy++;
      return false;
    }
    port.write(wire);
    return true;
  }

  private onData(chunk: Buffer): void {
    const at = this.clock();
    for (const r of this.receiver.push(chunk, at)) {
      if (!r.ok) {
        this.noteReject(r.reason);
        this.emit('reject', r.reason);
        continue;
      }
      const f = r.frame;
      this.liveness.heard(at);
      if (this.framesSinceOpen++ === 0) this.serial.resetBackoff();
      if (this.peerSilent) {
        this.peerSilent = false;
        this.log(`serial ${this.opts.path}: peer ${f.nodeId} heard`);
        this.emit('peer-alive', f.nodeId);
      }
      if (r.newBoot) {
        this.log(`serial ${this.opts.path}: peer ${f.nodeId} rebooted (boot id ${f.bootId})`);
        this.emit('peer-rebooted', f);
      }
      switch (f.kind) {
        case 'heartbeat':
          this.emit('heartbeat', f, at, at - r.delayMs);
          break;
        case 'release':
          this.emit('release', f, at);
          break;
        case 'request':
          void this.answer(f.reqId, f.what);
          break;
        case 'response':
          this.onResponse(f.reqId, f.part, f.parts, f.chunk);
          break;
      }
    }
  }

  private async answer(reqId: number, what: string): Promise<void> {
    if (this.answering >= MAX_ANSWERING || this.bulk.length >= MAX_QUEUED_RESPONSE_PARTS) {
      this.counters.responsesDropped++;
      return;
    }
    let body: string;
    this.answering++;
    try {
      body = this.opts.onRequest ? await this.opts.onRequest(what) : JSON.stringify({ error: 'no-handler', what });
    } catch (err) {
      body = JSON.stringify({ error: 'handler-failed', what, message: err instanceof Error ? err.message : String(err) });
    } finally {
      this.answering--;
    }
    const chunks = splitResponse(body);
    if (this.bulk.length + chunks.length > MAX_QUEUED_RESPONSE_PARTS) {
      this.counters.responsesDropped++;
      return;
    }
    chunks.forEach((chunk, part) => {
      const msg: PeerMessage = { kind: 'response', reqId, part, parts: chunks.length, chunk };
      // Header, nodeId, MAC, CRC and COBS overhead stay under 120 bytes.
      this.bulk.push({ msg, estimate: Buffer.byteLength(chunk, 'utf8') + 120 });
    });
    this.flushBulk();
  }

  private onResponse(reqId: number, part: number, parts: number, chunk: string): void {
    const p = this.pending.get(reqId);
    if (!p) return;
    p.parts.length = parts;
    p.parts[part] = chunk;
    for (let i = 0; i < parts; i++) if (p.parts[i] === undefined) return;
    clearTimeout(p.timer);
    this.pending.delete(reqId);
    p.done({ ok: true, body: p.parts.join('') });
  }

  /** Noise can arrive by the kilobyte: log a summary at most every 10 s; counters have the rest. */
  private noteReject(reason: RejectReason): void {
    this.rejectLog.set(reason, (this.rejectLog.get(reason) ?? 0) + 1);
    const now = this.clock();
    if (now - this.lastRejectLogAt < 10_000) return;
    this.lastRejectLogAt = now;
    const summary = [...this.rejectLog].map(([r, n]) => `${r} ${n}${REJECT_HINTS[r] ? ` (${REJECT_HINTS[r]})` : ''}`).join(', ');
    this.rejectLog.clear();
    this.log(`serial ${this.opts.path}: rejected frames: ${summary}`);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}
