import { readFile } from 'node:fs/promises';
import { connect, type IClientOptions, type IClientPublishOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { TwinvipConfig } from '../config';
import type { SubsystemLogger } from '../log';
import { readSecretFile } from '../lib/secret-file';
import { reconnectDelay } from './backoff';
import { describeTlsError } from './tls-errors';

type MqttConfig = TwinvipConfig['mqtt'];

export interface LinkHandlers {
  /** Connected (first time or again); `protocol` is 5 or 4 (3.1.1). */
  onUp(protocol: 4 | 5): void;
  onDown(reason: string): void;
  onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void;
}

export interface LinkCounters {
  connects: number;
  connect_failures: number;
  protocol_fallbacks: number;
}

/** CONNACK codes meaning "this protocol version is not spoken here": v5 0x84, 3.1.1 return code 1. */
const UNSUPPORTED_PROTOCOL = new Set([0x84, 1]);

/**
 * One broker connection over mqtt.js, never on the critical path: connect() with listeners (not
 * connectAsync, which gives up on the first error, so a broker down at boot would stop us),
 * queueQoSZero off, and a reconnect back-off mqtt.js lacks, done by raising reconnectPeriod
 * before mqtt.js arms its next reconnect timer.
 */
export class MqttLink {
  readonly counters: LinkCounters = { connects: 0, connect_failures: 0, protocol_fallbacks: 0 };
  private client: MqttClient | undefined;
  private failures = 0;
  private protocol: 4 | 5;
  private closed = false;
  /** The TLS cause last logged at error level, so a refusal repeated on every retry logs once. */
  private lastTlsCause: string | undefined;
  /** Bumped for every new mqtt.js client, so callbacks of a replaced client are recognised. */
  generation = 0;

  constructor(
    private readonly cfg: MqttConfig,
    private readonly clientId: string,
    private readonly will: { topic: string; payload: string },
    private readonly handlers: LinkHandlers,
    private readonly log: SubsystemLogger,
    private readonly random: () => number = Math.random,
  ) {
    this.protocol = cfg.protocol_version;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  get protocolVersion(): 4 | 5 {
    return this.protocol;
  }

  /** Reads the TLS and password files, then starts connecting; resolves without waiting for the broker. */
  async start(): Promise<void> {
    const opts = await this.options();
    if (this.closed) return;
    this.open(opts);
  }

  publish(topic: string, payload: string | Buffer, opts: IClientPublishOptions, cb?: (err?: Error) => void): void {
    const c = this.client;
    if (!c) {
      cb?.(new Error('no client'));
      return;
    }
    c.publish(topic, payload, opts, (err) => cb?.(err ?? undefined));
  }

  subscribe(filter: string): void {
    // MQTT 5 "retain as published": a request published with retain=true still shows the flag
    // when it is delivered live, so it is refused like the stored copy (3.1.1 clears the flag on
    // live delivery; the stored copy, delivered again at every subscribe, keeps it).
    const opts = this.protocol === 5 ? { qos: 1 as const, rap: true } : { qos: 1 as const };
    this.client?.subscribe(filter, opts, (err) => {
      if (err) this.log.warn(`subscribe ${filter} failed: ${err.message}`);
    });
  }

  unsubscribe(filter: string): void {
    this.client?.unsubscribe(filter, (err?: Error) => {
      if (err) this.log.warn(`unsubscribe ${filter} failed: ${err.message}`);
    });
  }

  /**
   * Ends the connection. With `farewell`, first publishes it (the retained "offline") and waits
   * up to timeoutMs for it to leave, so a clean stop does not rely on the last will.
   */
  async close(farewell?: { topic: string; payload: string }, timeoutMs = 2000): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    if (farewell && c.connected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        c.publish(farewell.topic, farewell.payload, { qos: 1, retain: true }, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      c.end(!c.connected, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async options(): Promise<IClientOptions> {
    const cfg = this.cfg;
    const opts: IClientOptions = {
      clientId: this.clientId,
      protocolVersion: this.protocol,
      keepalive: cfg.keepalive,
      clean: true,
      connectTimeout: 10_000,
      reconnectPeriod: Math.round(cfg.reconnect_min * 1000),
      // A refused CONNACK (bad credentials, broker not ready) is retried on the same back-off.
      reconnectOnConnackError: true,
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: this.will.topic, payload: Buffer.from(this.will.payload), qos: 1, retain: true },
      // MQTT 5 only (ignored on 3.1.1): the broker delivers nothing larger than twice the request
      // cap (a bit over the cap is still refused with an answer; far over never reaches us) and
      // keeps at most 16 QoS 1 requests in flight to us, so a flood queues at the broker.
      properties: { maximumPacketSize: 2 * cfg.commands.max_payload, receiveMaximum: 16 },
    };
    if (cfg.username !== undefined) opts.username = cfg.username;
    if (cfg.password !== undefined) opts.password = cfg.password;
    if (cfg.password_file !== undefined) {
      const r = await readSecretFile(cfg.password_file);
      if (r.ok) opts.password = r.value;
      else this.log.error(`cannot read mqtt.password_file: ${r.error}; connecting without a password`);
    }
    if (cfg.tls) {
      opts.rejectUnauthorized = cfg.tls.reject_unauthorized;
      for (const key of ['ca', 'cert', 'key'] as const) {
        const file = cfg.tls[key];
        if (file === undefined) continue;
        try {
          opts[key] = await readFile(file);
        } catch (err) {
          this.log.error(`cannot read mqtt.tls.${key} ${file}: ${(err as Error).message}`);
        }
      }
    }
    return opts;
  }

  private open(opts: IClientOptions): void {
    const generation = ++this.generation;
    opts.protocolVersion = this.protocol;
    const client = connect(this.cfg.url!, opts);
    this.client = client;
    const mine = () => this.client === client && generation === this.generation;
    // Prepended so it runs before mqtt.js's own 'close' handler, which arms the reconnect timer
    // with options.reconnectPeriod as it is at that moment.
    client.prependListener('close', () => {
      if (!mine()) return;
      const delay = reconnectDelay(this.failures, this.cfg.reconnect_min * 1000, this.cfg.reconnect_max * 1000, this.random);
      this.failures++;
      client.options.reconnectPeriod = delay;
    });
    client.on('connect', () => {
      if (!mine()) return;
      this.failures = 0;
      this.lastTlsCause = undefined;
      this.counters.connects++;
      this.log.info(`connected to ${this.cfg.url} (MQTT ${this.protocol === 5 ? '5' : '3.1.1'})`);
      this.handlers.onUp(this.protocol);
    });
    client.on('offline', () => {
      if (!mine()) return;
      this.handlers.onDown('offline');
    });
    client.on('close', () => {
      if (!mine()) return;
      if (this.failures <= 1 || this.log.enabled('debug')) {
        this.log.info(`broker ${this.cfg.url} unreachable; retrying in ${client.options.reconnectPeriod} ms`);
      }
    });
    // mqtt.js emits a TLS handshake error twice, from its TLS wrapper and from its stream
    // handler (same Error object): count and log each failure once.
    let lastError: Error | undefined;
    client.on('error', (err: Error & { code?: number | string }) => {
      if (!mine() || err === lastError) return;
      lastError = err;
      this.counters.connect_failures++;
      if (this.protocol === 5 && typeof err.code === 'number' && UNSUPPORTED_PROTOCOL.has(err.code)) {
        this.counters.protocol_fallbacks++;
        this.log.warn(`broker refused MQTT 5 (${err.message}); retrying with 3.1.1`);
        this.protocol = 4;
        this.client = undefined;
        client.end(true);
        if (!this.closed) this.open(opts);
        return;
      }
      const tls = describeTlsError(err, this.cfg.url!);
      if (tls !== undefined) {
        // A certificate problem does not heal by retrying: say it loudly once, then at debug.
        if (tls !== this.lastTlsCause) this.log.error(tls);
        else this.log.debug(tls);
        this.lastTlsCause = tls;
        return;
      }
      this.log.warn(`mqtt error: ${err.message}`);
    });
    client.on('message', (topic, payload, packet) => {
      if (!mine()) return;
      this.handlers.onMessage(topic, payload, packet);
    });
  }
}
