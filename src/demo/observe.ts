// What the demo sees: each box through its control socket (a file, so reachable from the host
// namespace although the box's network is not), and the LAN client through its agent's lines.
// Everything is stamped with this process's wall clock (the agent stamps with the same clock:
// same machine), and kept as a history the scenario measures from.

import { requestOnce } from '../control';
import type { AgentLine } from './agents';

export interface BoxObservation {
  name: string;
  socket: string;
  reachable: boolean;
  state?: string | undefined;
  priority?: number | undefined;
  vipsHeld?: boolean | undefined;
  lastCause?: string | undefined;
  /** Last time (demo clock) this box's received-advert counter moved: Ethernet heartbeat. */
  ethHeardAt?: number | undefined;
  advertsReceived?: number | undefined;
  /** Serial heartbeat as the daemon reports it, when this build has it. */
  serial?: string | undefined;
  /** Ethernet channel as the daemon's heartbeat reports it (preferred over ethHeardAt). */
  ethernet?: string | undefined;
  /** Parts the running daemon shows (counter groups and control commands). */
  activeParts: Set<string>;
  error?: string | undefined;
}

export interface Probe {
  sent: number;
  recv: number;
  who?: string | undefined;
  err?: string | undefined;
}

export interface MqttEvent {
  t: number;
  node: string;
  kind: string;
  text: string;
}

export interface StateSample {
  t: number;
  states: Record<string, string | undefined>;
}

type Listener = (what: ChangeEvent) => void;

export type ChangeEvent =
  | { kind: 'box-state'; t: number; box: string; from: string | undefined; to: string | undefined; cause: string | undefined }
  | { kind: 'client'; t: number; from: string | undefined; to: string }
  | { kind: 'static'; t: number; from: string | undefined; to: string }
  | { kind: 'https'; t: number; from: string | undefined; to: string }
  | { kind: 'mqtt'; event: MqttEvent }
  | { kind: 'mqtt-link'; t: number; up: boolean }
  | { kind: 'tick' };

const POLL_MS = 100;
const STATUS_EVERY = 10;

/** The answer of the newest probe: answers arrive out of order, only a newer probe's result counts. */
class Latest {
  value: string | undefined;
  private at: number | undefined;

  offer(sent: number, value: string): { changed: boolean; before: string | undefined } {
    const before = this.value;
    if (this.at !== undefined && sent < this.at) return { changed: false, before };
    this.value = value;
    this.at = sent;
    return { changed: before !== value, before };
  }
}

export class Observer {
  readonly boxes: BoxObservation[];
  readonly probes: Probe[] = [];
  readonly mqttEvents: MqttEvent[] = [];
  readonly samples: StateSample[] = [];
  mqttUp = false;
  private readonly client = new Latest();
  private readonly https = new Latest();
  private readonly static = new Latest();
  /** The client's current view: who answered the latest probe, or the latest error. */
  get clientWho(): string | undefined {
    return this.client.value;
  }
  /** Which box's Nginx served the static page last (or the error). */
  get staticBox(): string | undefined {
    return this.static.value;
  }
  /** The same over HTTPS, each probe a fresh TLS handshake; undefined while the demo has no certificate. */
  get clientWhoHttps(): string | undefined {
    return this.https.value;
  }
  readonly httpsProbes: Probe[] = [];
  /** HTTPS probes that resumed a TLS session (expected 0: every probe is a full handshake). */
  httpsResumed = 0;
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private polls = 0;
  private polling = false;

  constructor(boxes: { name: string; socket: string }[]) {
    this.boxes = boxes.map((b) => ({ ...b, reachable: false, activeParts: new Set<string>() }));
  }

  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), POLL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  box(name: string): BoxObservation {
    const b = this.boxes.find((x) => x.name === name);
    if (!b) throw new Error(`no box ${name}`);
    return b;
  }

  /** Feeds one line of the client agent. */
  onAgentLine(line: AgentLine): void {
    switch (line.k) {
      case 'probe': {
        this.probes.push({ sent: line.sent, recv: line.recv, who: line.who, err: line.err });
        if (this.probes.length > 20_000) this.probes.splice(0, 10_000);
        const now = line.who ?? `(${line.err ?? 'no answer'})`;
        const c = this.client.offer(line.sent, now);
        if (c.changed) this.emit({ kind: 'client', t: line.recv, from: c.before, to: now });
        return;
      }
      case 'https': {
        this.httpsProbes.push({ sent: line.sent, recv: line.recv, who: line.who, err: line.err });
        if (this.httpsProbes.length > 20_000) this.httpsProbes.splice(0, 10_000);
        if (line.resumed) this.httpsResumed++;
        const now = line.who ?? `(${line.err ?? 'no answer'})`;
        const c = this.https.offer(line.sent, now);
        if (c.changed) this.emit({ kind: 'https', t: line.recv, from: c.before, to: now });
        return;
      }
      case 'static': {
        const now = line.box ?? `(${line.err ?? 'no answer'})`;
        const c = this.static.offer(line.sent, now);
        if (c.changed) this.emit({ kind: 'static', t: line.recv, from: c.before, to: now });
        return;
      }
      case 'mqtt': {
        const ev = describeMqtt(line.t, line.topic, line.payload);
        if (!ev) return;
        this.mqttEvents.push(ev);
        this.emit({ kind: 'mqtt', event: ev });
        return;
      }
      case 'mqtt-link':
        if (this.mqttUp !== line.up) {
          this.mqttUp = line.up;
          this.emit({ kind: 'mqtt-link', t: line.t, up: line.up });
        }
        return;
      default:
        return;
    }
  }

  /** The first HTTPS probe (fresh TLS handshake) sent at or after `t` that `who` answered. */
  firstHttpsAnswerFrom(who: string, t: number): Probe | undefined {
    return this.httpsProbes.filter((p) => p.who === who && p.sent >= t).sort((a, b) => a.recv - b.recv)[0];
  }

  /** The first probe sent at or after `t` that `who` answered. */
  firstAnswerFrom(who: string, t: number): Probe | undefined {
    return this.probes.filter((p) => p.who === who && p.sent >= t).sort((a, b) => a.recv - b.recv)[0];
  }

  /** Time both boxes were seen MASTER at once within [from, to] (sum of sample gaps). */
  dualMasterMs(from: number, to: number): { ms: number; samples: number; total: number } {
    let ms = 0;
    let samples = 0;
    let total = 0;
    const within = this.samples.filter((s) => s.t >= from && s.t <= to);
    within.forEach((s, i) => {
      total++;
      const both = Object.values(s.states).filter((x) => x === 'MASTER').length >= 2;
      if (!both) return;
      samples++;
      const next = within[i + 1];
      ms += next ? next.t - s.t : POLL_MS;
    });
    return { ms, samples, total };
  }

  /** Resolves when `cond` holds after a poll or a client line; rejects after timeoutMs or on abort. */
  waitFor(cond: () => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      if (cond()) {
        resolve(Date.now());
        return;
      }
      const done = (fn: () => void) => {
        clearTimeout(timer);
        off();
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => done(() => reject(new Error('interrupted')));
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}`))), timeoutMs);
      const off = this.on(() => {
        if (cond()) done(() => resolve(Date.now()));
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private emit(e: ChangeEvent): void {
    for (const l of this.listeners) l(e);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const withStatus = this.polls++ % STATUS_EVERY === 0;
      await Promise.all(this.boxes.map((b) => this.pollBox(b, withStatus)));
      this.samples.push({ t: Date.now(), states: Object.fromEntries(this.boxes.map((b) => [b.name, b.reachable ? b.state : undefined])) });
      if (this.samples.length > 50_000) this.samples.splice(0, 25_000);
      this.emit({ kind: 'tick' });
    } finally {
      this.polling = false;
    }
  }

  private async pollBox(b: BoxObservation, withStatus: boolean): Promise<void> {
    const r = await requestOnce(b.socket, 'vrrp', undefined, { timeoutMs: 2000 });
    const now = Date.now();
    const before = b.reachable ? b.state : undefined;
    if (!r.ok || r.response.status !== 'ok') {
      b.reachable = false;
      b.error = r.ok ? (r.response.status === 'error' ? r.response.error : 'error') : r.message;
      b.state = undefined;
    } else {
      b.reachable = true;
      b.error = undefined;
      const inst = (Array.isArray(r.response.data) ? r.response.data[0] : undefined) as VrrpSnapshot | undefined;
      b.state = inst?.state;
      b.priority = inst?.effectivePriority;
      b.vipsHeld = inst?.vipsHeld;
      const lt = inst?.lastTransition;
      b.lastCause = lt ? `${lt.from}->${lt.to}: ${lt.cause}${lt.detail ? `, ${lt.detail}` : ''}` : undefined;
      const rx = inst?.counters?.advertsReceived;
      if (rx !== undefined && rx !== b.advertsReceived) {
        if (b.advertsReceived !== undefined) b.ethHeardAt = now;
        b.advertsReceived = rx;
      }
    }
    if (withStatus && b.reachable) await this.pollStatus(b);
    if (b.reachable && b.activeParts.has('heartbeat') && this.polls % 2 === 0) await this.pollHeartbeat(b);
    const after = b.reachable ? b.state : undefined;
    if (before !== after) this.emit({ kind: 'box-state', t: now, box: b.name, from: before, to: after, cause: b.lastCause });
  }

  /** The `heartbeat` command: both channels as the box's arbiter sees them. */
  private async pollHeartbeat(b: BoxObservation): Promise<void> {
    const r = await requestOnce(b.socket, 'heartbeat', undefined, { timeoutMs: 2000 });
    if (!r.ok || r.response.status !== 'ok') return;
    const hb = r.response.data as HeartbeatCommandData;
    if (hb.enabled === false) return;
    if (hb.serial) b.serial = channel(hb.serial.ok, hb.serial.last_heard_ms_ago);
    const eth = hb.ethernet?.[0];
    if (eth) b.ethernet = channel(eth.ok, eth.last_advert_ms_ago);
  }

  private async pollStatus(b: BoxObservation): Promise<void> {
    const [status, help] = await Promise.all([
      requestOnce(b.socket, 'status', undefined, { timeoutMs: 2000 }),
      b.activeParts.size === 0 ? requestOnce(b.socket, 'help', undefined, { timeoutMs: 2000 }) : Promise.resolve(undefined),
    ]);
    if (status.ok && status.response.status === 'ok') {
      const data = status.response.data as { counters?: Record<string, unknown> } & Record<string, unknown>;
      for (const group of Object.keys(data.counters ?? {})) b.activeParts.add(group);
      for (const key of Object.keys(data)) if (key === 'heartbeat' || key === 'nginx' || key === 'mqtt') b.activeParts.add(key);
      if (!b.activeParts.has('heartbeat')) b.serial = serialSummary(data);
    }
    if (help?.ok && help.response.status === 'ok') {
      const cmds = (help.response.data as { commands?: unknown }).commands;
      if (Array.isArray(cmds)) {
        for (const c of cmds) {
          const name = typeof c === 'string' ? c : typeof c === 'object' && c !== null ? (c as { name?: unknown }).name : undefined;
          if (typeof name === 'string') b.activeParts.add(name);
        }
      }
    }
  }
}

interface HeartbeatCommandData {
  enabled?: boolean;
  serial?: { ok: boolean; last_heard_ms_ago: number | null };
  ethernet?: { ok: boolean; last_advert_ms_ago: number | null }[];
}

function channel(ok: boolean, agoMs: number | null): string {
  return `${ok ? 'ok' : 'LOST'}${agoMs === null ? ' (never)' : ` ${(agoMs / 1000).toFixed(1)} s`}`;
}

interface VrrpSnapshot {
  state?: string;
  effectivePriority?: number;
  vipsHeld?: boolean;
  lastTransition?: { from: string; to: string; cause: string; detail?: string } | null;
  counters?: { advertsReceived?: number };
}

/** The serial channel as the daemon reports it: whatever of age/state this build exposes. */
export function serialSummary(status: Record<string, unknown>): string | undefined {
  const hb = status.heartbeat as Record<string, unknown> | undefined;
  if (!hb || typeof hb !== 'object') return undefined;
  const serial = (hb.serial ?? hb) as Record<string, unknown>;
  const age = pickNumber(serial, ['age_ms', 'last_heard_ms', 'peer_age_ms', 'silence_ms']);
  const alive = serial.peer_alive ?? serial.alive ?? serial.up;
  const parts: string[] = [];
  if (typeof alive === 'boolean') parts.push(alive ? 'alive' : 'LOST');
  if (age !== undefined) parts.push(`${(age / 1000).toFixed(1)} s`);
  return parts.length > 0 ? parts.join(' ') : 'on';
}

function pickNumber(o: Record<string, unknown>, keys: string[]): number | undefined {
  for (const k of keys) if (typeof o[k] === 'number') return o[k] as number;
  return undefined;
}

/** An MQTT message on `twinvip/<node>/event|status` in one line for the view. */
export function describeMqtt(t: number, topic: string, payload: string): MqttEvent | undefined {
  const m = /^twinvip\/([^/]+)\/(event|status)$/.exec(topic);
  if (!m) return undefined;
  const node = m[1]!;
  if (m[2] === 'status') return { t, node, kind: 'status', text: payload.slice(0, 60) };
  let text = payload.slice(0, 80);
  let kind = 'event';
  try {
    const v = JSON.parse(payload) as Record<string, unknown>;
    kind = typeof v.type === 'string' ? v.type : kind;
    const str = (k: string) => (typeof v[k] === 'string' || typeof v[k] === 'number' ? String(v[k]) : undefined);
    const parts: string[] = [];
    if (str('instance')) parts.push(`${str('instance')}:`);
    if (str('from') && str('to')) parts.push(`${str('from')} -> ${str('to')}`);
    if (str('cause')) parts.push(`(${str('cause')})`);
    if (kind === 'alarm') parts.push(`${str('id') ?? 'alarm'} ${v.active === false ? 'cleared' : 'raised'}`);
    else if (str('message') && parts.length <= 1) parts.push(str('message')!);
    if (parts.length > 0) text = parts.join(' ');
  } catch {
    // not JSON: shown as is
  }
  return { t, node, kind, text };
}
