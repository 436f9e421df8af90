// A fleet-side MQTT client: signs requests, publishes them to a box's request topic and waits for
// the correlated answer. Used by `twinvip request` and meant for any fleet tool (one client, many
// requests in flight, to many boxes).
import { randomBytes, type KeyObject } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { redactUrlCredentials } from '../log/redact';
import { signRequest } from './signed-request';

/** The answer envelope every box command replies with (src/mqtt/envelope.ts). */
export interface FleetResponse {
  status: 'ok' | 'error';
  data?: unknown;
  error?: string;
  transaction?: string | number;
  nonce?: string;
}

export interface BrokerOptions {
  url: string;
  protocolVersion?: 4 | 5;
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  clientId?: string;
  connectTimeoutMs?: number;
}

export interface RequestTarget {
  node: string;
  /** The box's mqtt.prefix; "{node}" is replaced. Default twinvip/{node}/. */
  prefix?: string;
}

export interface RequestOptions {
  /** Sign with this Ed25519 private key; without it the request goes unsigned (read-only commands a box allows). */
  signingKey?: KeyObject;
  /** Seconds the signed request stays valid; at most the box's mqtt.command_max_age. */
  validSeconds?: number;
  timeoutMs?: number;
}

export interface FleetAnswer {
  topic: string;
  response: FleetResponse;
  /** The box's retained status ("online"/"offline") when known. */
  boxStatus?: string;
}

export const DEFAULT_PREFIX = 'twinvip/{node}/';

export function prefixFor(target: RequestTarget): string {
  const p = (target.prefix ?? DEFAULT_PREFIX).replaceAll('{node}', target.node);
  return p.endsWith('/') ? p : `${p}/`;
}

interface Pending {
  match(topic: string, r: FleetResponse, correlation: Buffer | undefined): boolean;
  resolve(a: FleetAnswer): void;
  prefix: string;
}

export class FleetClient {
  private readonly pending = new Set<Pending>();
  private readonly boxStatus = new Map<string, string>();
  private readonly subscribed = new Set<string>();
  private readonly listeners = new Set<(topic: string, payload: Buffer, retained: boolean) => void>();

  private constructor(private readonly client: MqttClient, private readonly protocol: 4 | 5) {
    client.on('message', (topic, payload, packet) => {
      for (const l of this.listeners) l(topic, payload, packet.retain);
      // Answers and box status matter only while a request waits (a fleet watch receives
      // thousands of state documents that are not answers).
      if (this.pending.size === 0 && !topic.endsWith('/status')) return;
      const text = payload.toString('utf8');
      if (topic.endsWith('/status') && !text.startsWith('{')) {
        this.boxStatus.set(topic.slice(0, -'status'.length), text);
        return;
      }
      let r: FleetResponse;
      try {
        r = JSON.parse(text) as FleetResponse;
      } catch {
        return;
      }
      const corr = packet.properties?.correlationData;
      for (const p of this.pending) {
        if (p.match(topic, r, corr)) {
          this.pending.delete(p);
          const status = this.boxStatus.get(p.prefix);
          p.resolve({ topic, response: r, ...(status !== undefined ? { boxStatus: status } : {}) });
        }
      }
    });
  }

  /** Connects once; rejects with the broker's error (credentials in the URL never shown). */
  static connect(opts: BrokerOptions): Promise<FleetClient> {
    const protocol = opts.protocolVersion ?? 5;
    const o: IClientOptions = {
      protocolVersion: protocol,
      clientId: opts.clientId ?? `twinvip-request-${randomBytes(4).toString('hex')}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
      queueQoSZero: false,
    };
    if (opts.username !== undefined) o.username = opts.username;
    if (opts.password !== undefined) o.password = opts.password;
    if (opts.ca) o.ca = opts.ca;
    if (opts.cert) o.cert = opts.cert;
    if (opts.key) o.key = opts.key;
    if (opts.rejectUnauthorized !== undefined) o.rejectUnauthorized = opts.rejectUnauthorized;
    return new Promise((resolve, reject) => {
      const client = connect(opts.url, o);
      const fail = (why: string) => {
        client.end(true);
        reject(new Error(`cannot connect to ${redactUrlCredentials(opts.url)}: ${redactUrlCredentials(why)}`));
      };
      const timer = setTimeout(() => fail('no answer from the broker'), (opts.connectTimeoutMs ?? 10_000) + 1000);
      client.once('connect', () => {
        clearTimeout(timer);
        client.removeAllListeners('error');
        client.on('error', () => {});
        resolve(new FleetClient(client, protocol));
      });
      client.once('error', (err) => {
        clearTimeout(timer);
        fail(err.message);
      });
      client.once('close', () => {
        clearTimeout(timer);
        fail('connection closed');
      });
    });
  }

  /**
   * Sends one request and resolves with the box's answer. Correlation: the nonce of a signed
   * request (echoed in the answer), the transaction of an unsigned one, and on MQTT 5 also the
   * correlation data. Rejects when no answer comes in time.
   */
  async request(target: RequestTarget, command: string, args: Record<string, unknown>, opts: RequestOptions = {}): Promise<FleetAnswer> {
    const prefix = prefixFor(target);
    const topic = `${prefix}request/${command}`;
    const responseTopic = `${prefix}response/${command}`;
    await this.subscribe([responseTopic, `${prefix}status`]);
    let payload: string;
    let correlation: string;
    let match: Pending['match'];
    if (opts.signingKey) {
      const signed = signRequest(opts.signingKey, topic, args, { validSeconds: opts.validSeconds ?? 30 });
      payload = JSON.stringify(signed);
      correlation = signed.nonce;
      match = (t, r, c) => t === responseTopic && (r.nonce === signed.nonce || c?.toString() === signed.nonce);
    } else {
      correlation = randomBytes(12).toString('base64url');
      payload = JSON.stringify({ ...args, transaction: correlation });
      match = (t, r, c) => t === responseTopic && (r.transaction === correlation || c?.toString() === correlation);
    }
    const timeoutMs = opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        prefix,
        match,
        resolve: (a) => {
          clearTimeout(timer);
          resolve(a);
        },
      };
      const timer = setTimeout(() => {
        this.pending.delete(entry);
        const status = this.boxStatus.get(prefix);
        reject(new Error(`no answer from ${target.node} to '${command}' within ${timeoutMs / 1000} s${status ? ` (the box reports itself ${status})` : ''}; is mqtt.commands.enabled on it, and its prefix ${prefix}?`));
      }, timeoutMs);
      this.pending.add(entry);
      const props = this.protocol === 5 ? { properties: { responseTopic, correlationData: Buffer.from(correlation) } } : {};
      this.client.publish(topic, payload, { qos: 1, retain: false, ...props }, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(entry);
        reject(new Error(`publish to ${topic} failed: ${err.message}`));
      });
    });
  }

  /** Every message received (fleet tools watching the topic tree); returns a function removing it. */
  onMessage(listener: (topic: string, payload: Buffer, retained: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes to filters (QoS 0 by default: thousands of retained messages are not held back by QoS 1 flow control). */
  async watch(filters: string[], qos: 0 | 1 = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.client.subscribe(filters, { qos }, (err, granted) => {
        if (err) return reject(new Error(`subscribe failed: ${err.message}`));
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (refused.length > 0) return reject(new Error(`the broker refused the subscription to ${refused.join(', ')} (ACL?)`));
        resolve();
      });
    });
  }

  publish(topic: string, payload: string, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) => this.client.publish(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false }, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * Resolves once every retained message of the subscriptions made before it has arrived: the
   * broker handles a client's packets in order, so a message published to a topic we subscribed
   * to after them comes back after their retained messages.
   */
  async synced(markerTopic: string): Promise<void> {
    const token = randomBytes(8).toString('hex');
    const seen = new Promise<void>((resolve) => {
      const off = this.onMessage((topic, payload) => {
        if (topic === markerTopic && payload.toString() === token) {
          off();
          resolve();
        }
      });
    });
    await this.watch([markerTopic]);
    await this.publish(markerTopic, token, { qos: 0 });
    await seen;
  }

  get clientId(): string {
    return this.client.options.clientId ?? '';
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.client.end(false, {}, () => resolve()));
  }

  private async subscribe(topics: string[]): Promise<void> {
    const todo = topics.filter((t) => !this.subscribed.has(t));
    if (todo.length === 0) return;
    await new Promise<void>((resolve, reject) => {
      this.client.subscribe(todo, { qos: 1 }, (err, granted) => {
        if (err) return reject(new Error(`subscribe failed: ${err.message}`));
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (refused.length > 0) return reject(new Error(`the broker refused the subscription to ${refused.join(', ')} (ACL?)`));
        resolve();
      });
    });
    todo.forEach((t) => this.subscribed.add(t));
  }
}
