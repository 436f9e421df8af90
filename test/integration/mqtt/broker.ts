// A real mosquitto on 127.0.0.1 with its own config file and a free port, started and stopped by
// the test itself (only its own PID is ever signalled).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { userInfo } from 'node:os';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { waitFor } from '../../helpers/wait';
import { patience } from '../../helpers/patience';

import { freePort } from '../../helpers/ports';
export { freePort };

export interface BrokerOptions {
  dir: string;
  port: number;
  /** user -> password; when given, anonymous clients are refused. */
  users?: Record<string, string>;
  /** Keep sessions and retained messages across a restart (mosquitto saves on SIGTERM). */
  persistence?: boolean;
  /** A TLS listener (mqtts://) with these PEM files instead of plain TCP. */
  tls?: { cafile: string; certfile: string; keyfile: string; requireCertificate?: boolean };
  /** Listen on this address (default 127.0.0.1)... */
  host?: string;
  /** ...inside this network namespace (a lab's), started with `ip netns exec`. */
  netns?: string;
  /** Log every SUBSCRIBE (client, QoS, filter): subscriptions() reads them back. */
  logSubscriptions?: boolean;
}

export class Mosquitto {
  private child: ChildProcess | undefined;
  log = '';
  readonly url: string;

  constructor(private readonly opts: BrokerOptions) {
    const host = opts.host ?? '127.0.0.1';
    this.url = `${opts.tls ? 'mqtts' : 'mqtt'}://${host}:${opts.port}`;
    // Run as whoever runs the test: as root, mosquitto would otherwise switch to user "mosquitto",
    // which cannot write its persistence file into our temp dir.
    const lines = [`user ${userInfo().username}`, `listener ${opts.port} ${host}`, 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice'];
    // "running" (information) is how start() knows a broker in a namespace listens.
    if (opts.netns) lines.push('log_type information');
    if (opts.logSubscriptions) lines.push('log_type subscribe', 'log_type unsubscribe');
    if (opts.tls) {
      const t = opts.tls;
      lines.push(`cafile ${t.cafile}`, `certfile ${t.certfile}`, `keyfile ${t.keyfile}`);
      // The client certificate's CN becomes the user name, so the log shows which one was used.
      if (t.requireCertificate) lines.push('require_certificate true', 'use_identity_as_username true');
    }
    if (opts.users) {
      const pw = `${opts.dir}/passwd`;
      writeFileSync(pw, '');
      for (const [u, p] of Object.entries(opts.users)) {
        const r = spawnSync('mosquitto_passwd', ['-b', pw, u, p], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
      }
      lines.push('allow_anonymous false', `password_file ${pw}`);
    } else {
      lines.push('allow_anonymous true');
    }
    if (opts.persistence) lines.push('persistence true', `persistence_location ${opts.dir}/`, 'autosave_interval 0');
    else lines.push('persistence false');
    writeFileSync(`${opts.dir}/mosquitto.conf`, `${lines.join('\n')}\n`);
  }

  /** Every SUBSCRIBE the broker logged (needs logSubscriptions), in order. */
  subscriptions(): { client: string; qos: number; filter: string }[] {
    return [...this.log.matchAll(/^\d+: (\S+) ([012]) (\S+)$/gm)].map((m) => ({ client: m[1]!, qos: Number(m[2]), filter: m[3]! }));
  }

  async start(): Promise<void> {
    const args = ['-c', `${this.opts.dir}/mosquitto.conf`];
    // `ip netns exec` execs mosquitto in place: the PID we hold is the broker's.
    const child = this.opts.netns
      ? spawn('ip', ['netns', 'exec', this.opts.netns, 'mosquitto', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('mosquitto', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (d) => (this.log += d));
    child.stdout?.on('data', (d) => (this.log += d));
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`mosquitto exited ${child.exitCode}: ${this.log}`);
        // From outside the namespace the port cannot be probed: mosquitto logs "running" once listening.
        if (this.opts.netns) return / running$/m.test(this.log);
        return new Promise<boolean>((resolve) => {
          const s = tcpConnect(this.opts.port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        });
      },
      { timeoutMs: 15_000, what: `mosquitto listening on ${this.opts.port}` },
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

export interface Received {
  topic: string;
  text: string;
  retain: boolean;
  properties: Record<string, unknown> | undefined;
}

/** A subscriber (mqtt.js) that records everything it receives, to wait on. */
export class Recorder {
  readonly messages: Received[] = [];
  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) =>
      this.messages.push({ topic, text: payload.toString(), retain: packet.retain, properties: packet.properties as Record<string, unknown> | undefined }),
    );
  }

  static async open(url: string, filter: string | string[], opts: IClientOptions = {}): Promise<Recorder> {
    const client = connect(url, { reconnectPeriod: 200, connectTimeout: 5000, ...opts });
    const rec = new Recorder(client);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('subscriber did not connect')), patience(15_000));
      client.once('connect', () => {
        client.subscribe(filter, { qos: 1 }, (err) => {
          clearTimeout(t);
          if (err) reject(err);
          else resolve();
        });
      });
    });
    return rec;
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  json(topic: string): Record<string, unknown>[] {
    return this.on(topic).map((m) => JSON.parse(m.text) as Record<string, unknown>);
  }

  wait(pred: (m: Received) => boolean, what: string, timeoutMs = 20_000): Promise<Received> {
    return waitFor(() => this.messages.find(pred), { timeoutMs, what });
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.client.end(true, {}, () => r()));
  }
}
