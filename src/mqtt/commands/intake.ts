// Where requests enter: a token bucket decides, before anything is read, whether a request is
// handled at all; accepted ones wait in a short queue handled one per event-loop turn, so a burst
// of requests (each a JSON parse and a signature check, about a millisecond) never holds the loop
// for longer than one of them while a VRRP advert is due. Past mqtt.commands.shed_after drops a
// second the box stops listening altogether for a while (flood-shed.ts: the broker then sends
// nothing), with the mqtt-request-flood alarm. Then the gate (authorize.ts), the audit trail, the
// nonce file, and the command itself.
import { join } from 'node:path';
import type { TwinvipConfig } from '../../config';
import type { SubsystemLogger } from '../../log';
import { errorResponse, type ResponseEnvelope } from '../envelope';
import { AuditTrail, type AuditRecord } from './audit';
import { authorizeRequest, type GateResult, type SignerInfo } from './authorize';
import { RecentRequests } from './dedupe';
import { NonceCache } from './nonce-cache';
import { NonceFile } from './nonce-file';
import { TokenBucket } from './rate-limit';
import { FloodShedPolicy, type PauseDecision } from './flood-shed';
import { emptyRefusalCounts, refusalCounterName, REFUSAL_REASONS, type RefusalReason } from './refusals';
import type { ParsedRequest, RequestMeta } from './request';
import { TrustStore } from './trust-store';
import { requiredRole } from '../../fleet/roles';

/** What a command produced: its answer, and a refusal reason when the command itself refused (config push). */
export interface CommandOutcome {
  response: ResponseEnvelope;
  refusal?: { reason: RefusalReason; message: string };
}

export interface IntakeDeps {
  now(): number;
  log(): SubsystemLogger | undefined;
  audit(record: AuditRecord): void;
  /** Sends an answer to `response/<command>` (or the allowed MQTT 5 response topic). */
  reply(command: string, response: ResponseEnvelope, packet: PacketInfo): void;
  run(request: ParsedRequest): Promise<CommandOutcome>;
  /** Subscribe to (true) or unsubscribe from (false) the request topics. */
  listen(on: boolean): void;
  /** The mqtt-request-flood alarm raised (active) or cleared. */
  floodAlarm(active: boolean, message: string, durationMs?: number): void;
  /** Timers (tests pass fakes); default setTimeout/clearTimeout, unref'd. */
  timers?: { set(fn: () => void, ms: number): unknown; clear(handle: unknown): void };
}

/** The parts of the PUBLISH the answer needs. */
export interface PacketInfo {
  responseTopic?: string | undefined;
  correlationData?: Buffer | undefined;
}

interface Queued {
  topic: string;
  command: string;
  payload: Buffer;
  meta: RequestMeta;
  packet: PacketInfo;
}

export interface IntakeCounters {
  requests: number;
  accepted: number;
  refused: number;
  requests_duplicate: number;
  /** Times the box stopped listening because of a flood. */
  flood_pauses: number;
}

export class RequestIntake {
  readonly counters: IntakeCounters = { requests: 0, accepted: 0, refused: 0, requests_duplicate: 0, flood_pauses: 0 };
  readonly refusals = emptyRefusalCounts();
  private settings!: TwinvipConfig['mqtt']['commands'];
  private maxAgeMs = 60_000;
  private trust = new TrustStore({});
  private bucket = new TokenBucket(10, 20);
  private bucketKey = '';
  private nonces = new NonceCache(10_000);
  private nonceFile: NonceFile | undefined;
  private readonly recent = new RecentRequests(1024);
  private readonly queue: Queued[] = [];
  private draining = false;
  private stopped = false;
  private shed = new FloodShedPolicy(shedOptions(10, 100));
  private shedKey = '';
  private shedTimer: unknown;
  private readonly timers: NonNullable<IntakeDeps['timers']>;
  readonly audit: AuditTrail;

  constructor(private readonly deps: IntakeDeps) {
    this.audit = new AuditTrail({ emit: deps.audit, log: deps.log, now: deps.now });
    this.timers = deps.timers ?? {
      set: (fn, ms) => setTimeout(fn, ms).unref(),
      clear: (h) => clearTimeout(h as NodeJS.Timeout),
    };
  }

  /** Takes the running config's settings and keys (start and every reload). */
  configure(config: TwinvipConfig): void {
    this.settings = config.mqtt.commands;
    this.maxAgeMs = config.mqtt.command_max_age * 1000;
    this.trust = new TrustStore(config.trusted_keys);
    const key = `${this.settings.rate}/${this.settings.burst}`;
    if (key !== this.bucketKey) {
      this.bucket = new TokenBucket(this.settings.rate, this.settings.burst);
      this.bucketKey = key;
    }
    const shedKey = `${this.settings.shed_after}/${this.settings.shed_pause}`;
    if (shedKey !== this.shedKey) {
      // New settings end a pause in progress: listen again at once, clear the alarm.
      if (this.shed.paused || this.shed.flooding) this.endEpisode('flood settings changed');
      this.shed = new FloodShedPolicy(shedOptions(this.settings.shed_pause, this.settings.shed_after));
      this.shedKey = shedKey;
    }
    let resized = false;
    if (this.settings.nonce_cache !== this.nonces.capacity) {
      const now = this.deps.now();
      const kept = this.nonces.entries(now);
      this.nonces = new NonceCache(this.settings.nonce_cache);
      this.nonces.load(kept, now);
      resized = true;
    }
    const path = join(config.node.state_dir, 'mqtt-nonces.jsonl');
    if (!this.nonceFile || this.nonceFile.path !== path || resized) {
      this.nonceFile = new NonceFile(path, this.nonces, (what, err) => this.deps.log()?.warn(`nonce file ${path}: ${what} failed: ${(err as Error).message}`));
    }
  }

  /** Loads the nonces remembered by the previous run. */
  async loadNonces(): Promise<void> {
    await this.nonceFile?.load(this.deps.now());
  }

  get trustedKeys(): number {
    return this.trust.size;
  }

  /** False while the box has stopped listening after a flood (the link must not subscribe then). */
  get listening(): boolean {
    return !this.shed.paused;
  }

  /** A PUBLISH on request/<command>. Never throws, never blocks: at most a counter and a queue push. */
  receive(topic: string, command: string, payload: Buffer, meta: RequestMeta, packet: PacketInfo): void {
    if (this.stopped) return;
    this.counters.requests++;
    if (this.shed.paused) {
      // Already on its way when the box unsubscribed.
      this.count('shed');
      this.audit.refused({ reason: 'shed', command: safe(command), message: 'request dropped unread (not listening after a flood)' }, true);
      return;
    }
    const now = this.deps.now();
    if (!this.bucket.take(now)) {
      // Unread and unanswered: answering a flood would double it on the broker.
      this.count('rate-limited');
      this.audit.refused({ reason: 'rate-limited', command: safe(command), message: 'request dropped unread (rate limit)' }, true);
      const pause = this.shed.dropped(now);
      if (pause) this.pause(pause);
      return;
    }
    this.queue.push({ topic, command, payload, meta, packet });
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.timers.clear(this.shedTimer);
    this.shedTimer = undefined;
    this.audit.stop();
  }

  /** Stops listening for the pause; the requests already queued are dropped too. */
  private pause(p: PauseDecision): void {
    this.counters.flood_pauses++;
    for (const q of this.queue.splice(0)) {
      this.count('shed');
      this.audit.refused({ reason: 'shed', command: safe(q.command), message: 'request dropped unread (not listening after a flood)' }, true);
    }
    const secs = Math.round(p.pauseMs / 100) / 10;
    const message = `request flood: ${p.dropped} requests over the rate limit within ${FLOOD_WINDOW_MS / 1000} s; not listening to requests for ${secs} s` +
      (p.pauseNumber > 1 ? ` (pause ${p.pauseNumber}: the flood went on)` : '') + ' (mqtt.commands.shed_after)';
    this.deps.log()?.warn(message);
    this.deps.listen(false);
    this.deps.floodAlarm(true, message);
    this.timers.clear(this.shedTimer);
    this.shedTimer = this.timers.set(() => this.resume(), p.pauseMs);
  }

  private resume(): void {
    this.shedTimer = undefined;
    if (this.stopped) return;
    this.shed.resume(this.deps.now());
    this.deps.log()?.info('listening to requests again after a flood pause');
    this.deps.listen(true);
    this.shedTimer = this.timers.set(() => this.calmCheck(), this.shed.opts.calmMs);
  }

  private calmCheck(): void {
    this.shedTimer = undefined;
    if (this.stopped) return;
    const lasted = this.shed.calm(this.deps.now());
    if (lasted === undefined) return;
    const message = `request flood over: no flood for ${this.shed.opts.calmMs / 1000} s since listening again (episode of ${Math.round(lasted / 1000)} s)`;
    this.deps.log()?.info(message);
    this.deps.floodAlarm(false, message, lasted);
  }

  private endEpisode(why: string): void {
    this.timers.clear(this.shedTimer);
    this.shedTimer = undefined;
    const wasPaused = this.shed.paused;
    this.deps.log()?.info(`flood pause ended: ${why}`);
    if (wasPaused) this.deps.listen(true);
    this.deps.floodAlarm(false, `flood pause ended: ${why}`);
  }

  counterSnapshot(): Record<string, number> {
    const out: Record<string, number> = { ...this.counters, audit_suppressed: this.audit.suppressedTotal, nonces: this.nonces.size, trusted_keys: this.trust.size };
    for (const r of REFUSAL_REASONS) out[refusalCounterName(r)] = this.refusals[r];
    return out;
  }

  /** One request per turn of the event loop, so timers (VRRP adverts) run between two. */
  private drain(): void {
    const item = this.queue.shift();
    if (!item || this.stopped) {
      this.draining = false;
      return;
    }
    try {
      this.handle(item);
    } catch (err) {
      this.deps.log()?.error(`request on ${item.topic} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      this.deps.reply(item.command, errorResponse('internal error'), item.packet);
    }
    setImmediate(() => this.drain());
  }

  private handle(item: Queued): void {
    const now = this.deps.now();
    const g = authorizeRequest(item.command, item.topic, item.payload, item.meta, { now, settings: this.settings, maxAgeMs: this.maxAgeMs, trust: this.trust, nonces: this.nonces });
    if (!g.ok) {
      this.refuse(item, g);
      return;
    }
    const req = g.request;
    if (req.command === 'config' && !this.settings.config_push) {
      this.refuse(item, { ok: false, reason: 'push-disabled', error: 'config push is disabled on this box (mqtt.commands.config_push is false in its local config)', ...withSigner(g) });
      return;
    }
    // Unsigned read-only requests keep the id-based de-duplication; signed ones have their nonce.
    if (!g.signer && req.id !== undefined) {
      const seen = this.recent.lookup(req.id);
      if (seen !== undefined) {
        this.counters.requests_duplicate++;
        if (seen !== 'pending') this.deps.reply(item.command, seen, item.packet);
        return;
      }
      this.recent.begin(req.id);
    }
    const changes = requiredRole(req.command) !== 'read';
    const by = g.signer ? ` by key '${g.signer.name}' (${g.signer.role}, ${g.signer.fingerprint})` : ' (unsigned, read-only)';
    this.deps.log()?.info(`request ${req.command}${by}${changes ? ': running' : ''}`);
    const nonce = g.nonce;
    const who = { ...signerFields(g.signer), ...(nonce ? { nonce } : {}) };
    // Remembered on disk before the command runs: a restart cannot make it replayable.
    const remembered = nonce && g.nonceUntil !== undefined ? this.nonceFile?.append(nonce, g.nonceUntil, now) : undefined;
    void Promise.resolve(remembered)
      .then(() => this.deps.run(req))
      .then((outcome) => {
        const response = nonce ? { ...outcome.response, nonce } : outcome.response;
        // Audited once the command has decided: a config push refused for its content is a
        // refusal, not an accepted request.
        if (outcome.refusal) {
          this.count(outcome.refusal.reason);
          this.audit.refused({ reason: outcome.refusal.reason, command: req.command, message: `${req.command}${by} refused: ${outcome.refusal.message}`, ...who });
        } else {
          this.counters.accepted++;
          const result = response.status === 'ok' ? 'ok' : `error: ${response.error ?? ''}`;
          if (changes) this.audit.accepted({ command: req.command, message: `${req.command} accepted${by}: ${result}`, ...who });
        }
        if (!g.signer && req.id !== undefined) this.recent.finish(req.id, response);
        this.deps.reply(item.command, response, item.packet);
      });
  }

  private refuse(item: Queued, g: Extract<GateResult, { ok: false }>): void {
    this.count(g.reason);
    const by = g.signer ? ` (key '${g.signer.name}', ${g.signer.role})` : '';
    this.audit.refused({ reason: g.reason, command: safe(item.command), message: `${safe(item.command)} refused${by}: ${g.reason}: ${g.error}`, ...signerFields(g.signer), ...(g.nonce ? { nonce: g.nonce } : {}) });
    const r = errorResponse(`refused (${g.reason}): ${g.error}`, g.transaction, g.details ? { errors: g.details } : undefined);
    this.deps.reply(item.command, g.nonce ? { ...r, nonce: g.nonce } : r, item.packet);
  }

  private count(reason: RefusalReason): void {
    this.refusals[reason]++;
    this.counters.refused++;
  }
}

/** Drops counted per window for mqtt.commands.shed_after. */
const FLOOD_WINDOW_MS = 1000;

function shedOptions(pauseSeconds: number, threshold: number) {
  const pauseMs = pauseSeconds * 1000;
  return { threshold, windowMs: FLOOD_WINDOW_MS, pauseMs, maxPauseMs: Math.max(pauseMs, 300_000), calmMs: 60_000 };
}

function signerFields(s: SignerInfo | undefined): { key?: string; role?: string; fingerprint?: string } {
  return s ? { key: s.name, role: s.role, fingerprint: s.fingerprint } : {};
}

function withSigner(g: Extract<GateResult, { ok: true }>): { signer?: SignerInfo; nonce?: string; transaction?: string | number } {
  return { ...(g.signer ? { signer: g.signer } : {}), ...(g.nonce ? { nonce: g.nonce } : {}), ...(g.request.transaction !== undefined ? { transaction: g.request.transaction } : {}) };
}

/** A command name from the topic as it may appear in a log line: bounded, printable. */
function safe(command: string): string {
  const s = command.slice(0, 64).replace(/[^\x20-\x7e]/g, '?');
  return command.length > 64 ? `${s}...` : s;
}
