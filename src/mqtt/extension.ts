import { join } from 'node:path';
import type { IPublishPacket } from 'mqtt';
import { canonicalJson, type TwinvipConfig } from '../config';
import type { DaemonContext, DaemonEvents, Extension, FeatureStatus } from '../daemon';
import type { SubsystemLogger } from '../log';
import { runCommand } from './commands/handlers';
import { RequestIntake, type PacketInfo } from './commands/intake';
import { redactUrlCredentials } from '../log/redact';
import type { ResponseEnvelope } from './envelope';
import type { HaActions } from './ha-actions';
import { MqttLink } from './link';
import { Outbox } from './outbox';
import { StateBuilder, stateFingerprint, type StateProvider } from './state';
import { TelemetryCollector, type TelemetryProvider } from './telemetry/collect';
import { collectInventory, type Inventory } from './telemetry/inventory';
import { commandOfTopic, topicsFor, type Topics } from './topics';
import { pairIdentity } from '../fleet/pair';
import { discoveryMessages } from './ha-discovery';
import { VERSION } from '../version';

export interface MqttExtensionOptions {
  /** VRRP actions for `maintenance` and `failover`; may also be set later with setHaActions(). */
  ha?: HaActions;
  /** The twin's node name as learned over serial (the pair id when node.twin is unset; issue 24). */
  twinNode?: () => string | undefined;
  /** Extra top-level fields of the retained state, by name (e.g. heartbeat, nginx). */
  stateProviders?: Record<string, StateProvider>;
  /** Extra telemetry fields, by name (e.g. nginx: nginxStubStatusProvider(url)). */
  telemetryProviders?: Record<string, TelemetryProvider>;
  /** Root of /proc and /sys for telemetry (tests); default '/'. */
  fsRoot?: string;
  /** Read the inventory (board model, OS, CPU) at start-up from /proc, /sys and /etc; default true. */
  inventory?: boolean;
  now?: () => number;
}

/** Event payloads on `event`: a bus event plus type, boot id and sequence number. */
export interface EventMessage {
  type: 'transition' | 'alarm' | 'config-reloaded' | 'config-refused' | 'audit';
  /** Monotonic from 1 per daemon start (`boot`); a gap means events were dropped from a full outbox. */
  seq: number;
  /** Start time of the daemon that numbered the event (epoch ms): (boot, seq) is unique. */
  boot: number;
  ts: string;
  [field: string]: unknown;
}

export interface MqttCounters {
  events_raised: number;
  events_published: number;
  responses_dropped: number;
  /** MQTT 5 response topics outside this box's response/ subtree, answered on response/<command> instead. */
  response_topics_refused: number;
  state_published: number;
  telemetry_published: number;
  telemetry_errors: number;
}

/**
 * MQTT reporting and fleet commands as a daemon feature. Nothing here ever blocks or awaits the
 * broker on a path that matters: bus listeners only queue, publishes are fire-and-forget with
 * callbacks, the outbox writes asynchronously, telemetry reads /proc and /sys asynchronously.
 */
export class MqttExtension implements Extension {
  readonly name = 'mqtt';
  readonly counters: MqttCounters = {
    events_raised: 0, events_published: 0, responses_dropped: 0, response_topics_refused: 0,
    state_published: 0, telemetry_published: 0, telemetry_errors: 0,
  };
  private ha: HaActions | undefined;
  private readonly stateBuilder = new StateBuilder();
  private readonly telemetry: TelemetryCollector;
  private readonly intake: RequestIntake;
  private readonly now: () => number;
  private ctx: DaemonContext | undefined;
  private log: SubsystemLogger | undefined;
  private link: MqttLink | undefined;
  private outbox: Outbox | undefined;
  private topics: Topics | undefined;
  private cfgKey = '';
  private seq = 0;
  /** Events raised before the outbox was open (during start). */
  private readonly early: EventMessage[] = [];
  private inFlight = false;
  private pendingTelemetry: string | undefined;
  private telemetryTimer: NodeJS.Timeout | undefined;
  private telemetryRunning = false;
  private stateTimer: NodeJS.Timeout | undefined;
  private lastStateFingerprint = '';
  /** Per-instance retained documents last published, by instance name (JSON text). */
  private readonly instanceDocs = new Map<string, string>();
  /** Home Assistant discovery topics published (retained), and what decided them. */
  private readonly discoveryTopics = new Set<string>();
  private discoveryKey = '';
  private inventory: Inventory | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly opts: MqttExtensionOptions = {}) {
    this.ha = opts.ha;
    this.now = opts.now ?? Date.now;
    this.telemetry = new TelemetryCollector(opts.fsRoot ?? '/');
    for (const [k, p] of Object.entries(opts.stateProviders ?? {})) this.stateBuilder.providers.set(k, p);
    for (const [k, p] of Object.entries(opts.telemetryProviders ?? {})) this.telemetry.providers.set(k, p);
    this.intake = new RequestIntake({
      now: this.now,
      log: () => this.log,
      audit: (rec) => this.ctx?.bus.emit('audit', rec),
      reply: (command, r, packet) => this.respond(command, r, packet),
      run: (req) => runCommand(req, { ctx: this.ctx!, ha: this.ha, mqttDiagnostics: () => this.diagnostics() }),
      listen: (on) => this.listenToRequests(on),
      floodAlarm: (active, message, durationMs) =>
        this.ctx?.bus.emit('alarm', { id: 'mqtt-request-flood', active, severity: 'warning', message, ...(durationMs !== undefined ? { durationMs } : {}), at: this.now() }),
    });
  }

  /** The VRRP part hands its actions over once it runs; undefined takes them away again. */
  setHaActions(ha: HaActions | undefined): void {
    this.ha = ha;
  }

  /** Adds (or replaces) a field of the retained state; returns a function removing it. */
  addStateProvider(name: string, provider: StateProvider): () => void {
    this.stateBuilder.providers.set(name, provider);
    this.stateChanged();
    return () => {
      this.stateBuilder.providers.delete(name);
      this.stateChanged();
    };
  }

  addTelemetryProvider(name: string, provider: TelemetryProvider): () => void {
    this.telemetry.providers.set(name, provider);
    return () => this.telemetry.providers.delete(name);
  }

  /** Asks for the retained state to be rebuilt and republished soon (coalesced). */
  stateChanged(): void {
    if (!this.ctx || this.stateTimer || this.stopped) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = undefined;
      this.publishState(false);
    }, 50);
  }

  /**
   * MQTT is optional by design (DESIGN.md, README "Fail loudly"): a broker that is down is not a
   * failure to start; events wait in the outbox and the state says `waiting` until it answers.
   */
  featureStatus(): FeatureStatus | undefined {
    if (!this.link) return undefined;
    return this.connected ? { state: 'running' } : { state: 'waiting', detail: `broker ${this.ctx?.config.mqtt.url ?? ''} not connected; ${this.pendingEvents().length} event(s) in the outbox` };
  }

  get connected(): boolean {
    return this.link?.connected === true;
  }

  async start(ctx: DaemonContext): Promise<void> {
    this.ctx = ctx;
    this.log = ctx.logger.for('mqtt');
    this.stopped = false;
    const { bus } = ctx;
    this.unsubscribe.push(
      bus.on('transition', (e) => {
        this.stateBuilder.noteTransition(e);
        this.raise('transition', { instance: e.instance, from: e.from, to: e.to, cause: e.cause, at: new Date(e.at).toISOString() });
        this.stateChanged();
      }),
      bus.on('alarm', (e) => this.onAlarm(e)),
      bus.on('config-reloaded', (e) => this.raise('config-reloaded', { old_hash: e.oldHash, new_hash: e.newHash, at: new Date(e.at).toISOString() })),
      bus.on('config-refused', (e) => this.raise('config-refused', { kept_hash: e.keptHash, errors: e.errors.map((i) => `${i.path || '/'}: ${i.message}`), at: new Date(e.at).toISOString() })),
      bus.on('audit', (e) => this.raise('audit', auditFields(e))),
    );
    // Alarms raised before this feature started (Nginx control's certificate alarms at its start).
    for (const a of ctx.activeAlarms?.() ?? []) this.onAlarm(a);
    this.intake.configure(ctx.config);
    await this.intake.loadNonces();
    this.unsubscribe.push(ctx.counters.add('mqtt', () => this.counterSnapshot()));
    await this.startLink(ctx.config);
    if (this.opts.inventory !== false) {
      void collectInventory(this.opts.fsRoot).then((inv) => {
        this.inventory = inv;
        this.stateChanged();
      });
    }
  }

  private onAlarm(e: DaemonEvents['alarm']): void {
    this.stateBuilder.noteAlarm(e);
    this.raise('alarm', { id: e.id, active: e.active, severity: e.severity, message: e.message, ...(e.instance ? { instance: e.instance } : {}), ...(e.durationMs !== undefined ? { duration_ms: e.durationMs } : {}), ...(e.cause ? { cause: e.cause } : {}), at: new Date(e.at).toISOString() });
    this.stateChanged();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.intake.stop();
    for (const off of this.unsubscribe.splice(0)) off();
    await this.stopLink(true);
    clearTimeout(this.stateTimer);
    this.stateTimer = undefined;
    await this.outbox?.flush();
  }

  async onConfigReloaded(ctx: DaemonContext): Promise<void> {
    this.intake.configure(ctx.config);
    const key = mqttKey(ctx.config);
    if (key === this.cfgKey) {
      this.stateChanged();
      return;
    }
    this.log?.info('mqtt settings changed; reconnecting');
    // Let a response in progress (e.g. to the config push that caused this) leave first.
    setTimeout(() => {
      if (this.stopped) return;
      void this.stopLink(true).then(() => (this.stopped ? undefined : this.startLink(ctx.config)));
    }, 200);
  }

  /** Pending events, oldest first (diagnostics, tests). */
  pendingEvents(): unknown[] {
    return this.outbox?.all() ?? [];
  }

  private async startLink(config: TwinvipConfig): Promise<void> {
    const m = config.mqtt;
    this.cfgKey = mqttKey(config);
    const maxCount = m.outbox_max;
    const path = join(config.node.state_dir, 'mqtt-outbox.jsonl');
    if (!this.outbox) {
      this.outbox = await Outbox.open({
        path, maxCount, maxBytes: m.outbox_max_bytes,
        onError: (what, err) => this.log?.warn(`outbox ${what} ${path} failed: ${(err as Error).message}; events kept in memory`),
      });
      if (this.outbox.size > 0) this.log?.info(`outbox: ${this.outbox.size} event(s) from a previous run waiting for the broker`);
      for (const msg of this.early.splice(0)) this.outbox.append(msg);
    }
    if (!m.enabled || m.url === undefined) {
      this.log?.info('mqtt disabled');
      return;
    }
    this.topics = topicsFor(m.prefix);
    const topics = this.topics;
    if (m.commands.enabled && /^(mqtt|ws):/i.test(m.url) && m.allow_plaintext_commands) {
      this.log?.warn(`fleet commands accepted over a plaintext broker connection ${redactUrlCredentials(m.url)} (mqtt.allow_plaintext_commands): anyone on the path reads every command, answer and the broker password`);
    }
    if (m.commands.enabled) {
      this.log?.info(`fleet commands on: ${this.intake.trustedKeys} trusted key(s), unsigned: ${m.commands.unsigned.join(', ') || 'none'}, config push ${m.commands.config_push ? 'on' : 'off'}`);
    }
    this.link = new MqttLink(
      m,
      m.client_id ?? `twinvip-${config.node.name}`,
      { topic: topics.status, payload: 'offline' },
      {
        onUp: () => this.onUp(),
        onDown: (why) => this.log?.debug(`link down (${why})`),
        onMessage: (topic, payload, packet) => this.onMessage(topic, payload, packet),
      },
      this.log!,
    );
    await this.link.start();
    this.telemetryTimer = setInterval(() => void this.telemetryTick(), m.telemetry_interval * 1000);
    this.telemetryTimer.unref();
    void this.telemetryTick();
  }

  private async stopLink(farewell: boolean): Promise<void> {
    clearInterval(this.telemetryTimer);
    this.telemetryTimer = undefined;
    const link = this.link;
    this.link = undefined;
    this.inFlight = false;
    if (link && this.topics) await link.close(farewell ? { topic: this.topics.status, payload: 'offline' } : undefined);
  }

  private onUp(): void {
    const link = this.link;
    const topics = this.topics;
    if (!link || !topics) return;
    link.publish(topics.status, 'online', { qos: 1, retain: true });
    if (this.ctx?.config.mqtt.commands.enabled && this.intake.listening) link.subscribe(topics.requestFilter);
    // A previous client's unacknowledged event is sent again from the outbox head.
    this.inFlight = false;
    this.publishState(true);
    if (this.pendingTelemetry !== undefined) {
      const t = this.pendingTelemetry;
      this.pendingTelemetry = undefined;
      this.publishTelemetry(t);
    }
    this.pump();
  }

  /** The intake's flood pause: stop (or start again) receiving requests at the broker. */
  private listenToRequests(on: boolean): void {
    const link = this.link;
    const topics = this.topics;
    if (!link || !topics || !link.connected || !this.ctx?.config.mqtt.commands.enabled) return;
    if (on) link.subscribe(topics.requestFilter);
    else link.unsubscribe(topics.requestFilter);
  }

  private raise(type: EventMessage['type'], fields: Record<string, unknown>): void {
    if (!this.ctx) return;
    const msg: EventMessage = { type, seq: ++this.seq, boot: this.ctx.startedAt, ts: new Date(this.now()).toISOString(), ...fields };
    this.counters.events_raised++;
    if (!this.outbox) {
      // Raised while the outbox file is still being opened (start): queued in order, not lost.
      this.early.push(msg);
      return;
    }
    this.outbox.append(msg);
    this.pump();
  }

  /** Sends the outbox head, one at a time, so events leave in order even across reconnects. */
  private pump(): void {
    const link = this.link;
    const box = this.outbox;
    const topics = this.topics;
    if (!link || !box || !topics || this.inFlight || !link.connected || box.size === 0) return;
    this.inFlight = true;
    const generation = link.generation;
    link.publish(topics.event, JSON.stringify(box.peek()), { qos: 1, retain: false }, (err) => {
      if (this.link !== link || link.generation !== generation) return;
      this.inFlight = false;
      if (err) {
        this.log?.debug(`event publish failed (${err.message}); kept in the outbox`);
        return;
      }
      box.shift();
      this.counters.events_published++;
      setImmediate(() => this.pump());
    });
  }

  private publishState(force: boolean): void {
    const ctx = this.ctx;
    const link = this.link;
    const topics = this.topics;
    if (!ctx || !link || !topics || !link.connected) return;
    const state = this.stateBuilder.build(ctx.status(), ctx.config, {
      pair: pairIdentity(ctx.config.node, this.opts.twinNode?.()),
      mqtt: { protocol: link.protocolVersion === 5 ? '5' : '3.1.1', outbox: this.outbox?.size ?? 0, outbox_dropped: this.outbox?.counters.dropped ?? 0 },
      ...(this.inventory ? { inventory: this.inventory } : {}),
      updated_at: new Date(this.now()).toISOString(),
    });
    const fp = stateFingerprint({ ...state, updated_at: undefined, mqtt: undefined });
    this.publishInstances(state.instances as Record<string, Record<string, unknown>>, force);
    this.publishDiscovery(Object.keys(state.instances as Record<string, unknown>), force);
    if (!force && fp === this.lastStateFingerprint) return;
    this.lastStateFingerprint = fp;
    this.counters.state_published++;
    link.publish(topics.state, JSON.stringify(state), { qos: 1, retain: true });
  }

  /**
   * Home Assistant discovery (mqtt.home_assistant): published retained when it is enabled and at
   * every (re)connect or change of the instances; topics no longer wanted (an instance removed,
   * discovery turned off) are cleared with an empty retained message, so the entities go away.
   */
  private publishDiscovery(instances: string[], force: boolean): void {
    const ctx = this.ctx;
    const link = this.link;
    const topics = this.topics;
    if (!ctx || !link || !topics) return;
    const ha = ctx.config.mqtt.home_assistant;
    const key = JSON.stringify([ha.enabled, ha.prefix, topics.prefix, instances]);
    if (!force && key === this.discoveryKey) return;
    this.discoveryKey = key;
    const messages = ha.enabled
      ? discoveryMessages({ prefix: ha.prefix, node: ctx.config.node.name, version: VERSION, pair: pairIdentity(ctx.config.node, this.opts.twinNode?.()).id, topics, instances })
      : [];
    const wanted = new Set(messages.map((m) => m.topic));
    for (const topic of this.discoveryTopics) {
      if (wanted.has(topic)) continue;
      this.discoveryTopics.delete(topic);
      link.publish(topic, '', { qos: 1, retain: true });
    }
    for (const m of messages) {
      this.discoveryTopics.add(m.topic);
      link.publish(m.topic, JSON.stringify(m.payload), { qos: 1, retain: true });
    }
  }

  /**
   * `instance/<name>/state`, retained, for each instance whose small document changed; an
   * instance that left the configuration gets its retained message cleared (empty payload).
   */
  private publishInstances(instances: Record<string, Record<string, unknown>>, force: boolean): void {
    const link = this.link;
    const topics = this.topics;
    if (!link || !topics) return;
    for (const [name, inst] of Object.entries(instances)) {
      const text = JSON.stringify(instanceDocument(inst));
      if (!force && this.instanceDocs.get(name) === text) continue;
      this.instanceDocs.set(name, text);
      link.publish(topics.instanceState(name), text, { qos: 1, retain: true });
    }
    for (const name of [...this.instanceDocs.keys()]) {
      if (Object.hasOwn(instances, name)) continue;
      this.instanceDocs.delete(name);
      link.publish(topics.instanceState(name), '', { qos: 1, retain: true });
    }
  }

  private async telemetryTick(): Promise<void> {
    if (this.telemetryRunning || this.stopped) return;
    this.telemetryRunning = true;
    try {
      const t = await this.telemetry.collect(this.now());
      const text = JSON.stringify(t);
      if (this.link?.connected) this.publishTelemetry(text);
      else this.pendingTelemetry = text; // only the latest survives an outage
      this.publishState(false);
    } catch (err) {
      this.counters.telemetry_errors++;
      this.log?.warn(`telemetry failed: ${(err as Error).message}`);
    } finally {
      this.telemetryRunning = false;
    }
  }

  private publishTelemetry(text: string): void {
    if (!this.link || !this.topics) return;
    this.counters.telemetry_published++;
    this.link.publish(this.topics.telemetry, text, { qos: 0, retain: false });
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const topics = this.topics;
    if (!topics) return;
    const command = commandOfTopic(topics, topic);
    if (command === undefined) return;
    const props = packet.properties;
    const meta = { retain: packet.retain, ...(props?.messageExpiryInterval !== undefined ? { messageExpiry: props.messageExpiryInterval } : {}) };
    this.intake.receive(topic, command, payload, meta, { responseTopic: props?.responseTopic, correlationData: props?.correlationData });
  }

  /**
   * Answers go under this box's own prefix only: an MQTT 5 response topic is honoured when it lies
   * in `<prefix>response/`, otherwise the answer goes to `response/<command>` (a requester must
   * not make the box publish wherever the box's broker credential may).
   */
  private respond(command: string, r: ResponseEnvelope, packet: PacketInfo): void {
    const link = this.link;
    const topics = this.topics;
    if (!link || !topics || !link.connected) {
      this.counters.responses_dropped++;
      return;
    }
    const v5 = link.protocolVersion === 5;
    let topic = topics.response(command);
    const asked = packet.responseTopic;
    if (v5 && asked !== undefined) {
      if (isOwnResponseTopic(topics, asked)) topic = asked;
      else this.counters.response_topics_refused++;
    }
    const corr = packet.correlationData;
    const props = v5 && corr && corr.length <= MAX_CORRELATION_BYTES ? { properties: { correlationData: corr } } : {};
    link.publish(topic, JSON.stringify(r), { qos: 1, retain: false, ...props });
  }

  private diagnostics(): Record<string, unknown> {
    return {
      connected: this.connected,
      protocol: this.link?.protocolVersion === 4 ? '3.1.1' : '5',
      link: this.link?.counters ?? null,
      outbox: this.outbox?.counters ?? null,
      counters: this.counterSnapshot(),
    };
  }

  private counterSnapshot(): Record<string, number> {
    const o = this.outbox?.counters;
    const l = this.link?.counters;
    const intake = this.intake.counterSnapshot();
    return {
      ...this.counters,
      ...intake,
      requests_refused: intake.refused ?? 0,
      connected: this.connected ? 1 : 0,
      outbox_queued: o?.queued ?? 0,
      outbox_dropped: o?.dropped ?? 0,
      outbox_disk_errors: o?.disk_errors ?? 0,
      connects: l?.connects ?? 0,
      connect_failures: l?.connect_failures ?? 0,
      protocol_fallbacks: l?.protocol_fallbacks ?? 0,
    };
  }
}

/** The small per-instance document: state, priorities, VIPs, and the last transition's time and cause. */
export function instanceDocument(inst: Record<string, unknown>): Record<string, unknown> {
  const t = inst.last_transition as { at?: string; cause?: string } | null | undefined;
  return {
    state: inst.state ?? 'INIT',
    priority: inst.priority ?? null,
    ...(inst.configured_priority !== undefined ? { configured_priority: inst.configured_priority } : {}),
    vips: inst.vips ?? [],
    since: t?.at ?? null,
    cause: t?.cause ?? null,
    ...(inst.maintenance !== undefined ? { maintenance: inst.maintenance } : {}),
  };
}

/** The mqtt settings plus what the topics depend on: a change means a new connection. */
function mqttKey(config: TwinvipConfig): string {
  return canonicalJson({ mqtt: config.mqtt, node: config.node.name, state_dir: config.node.state_dir });
}


const MAX_CORRELATION_BYTES = 256;

function isOwnResponseTopic(topics: Topics, topic: string): boolean {
  const head = `${topics.prefix}response/`;
  return topic.length > head.length && topic.length <= 512 && topic.startsWith(head) && !/[+#\u0000]/.test(topic);
}

/** The audit record as an MQTT event's fields (times as ISO strings, like the other events). */
function auditFields(e: DaemonEvents['audit']): Record<string, unknown> {
  const { at, ...rest } = e;
  return { ...rest, at: new Date(at).toISOString() };
}
