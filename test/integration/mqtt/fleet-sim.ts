// A simulated fleet: N pairs of boxes speaking the twinvip topic tree (retained status and
// state, as a box publishes them) over a few broker connections, with transitions (a routine
// handover whose two state messages cross), split-brain, a box going offline, drift. Used by the
// fleet tests and bench/fleet/scale.ts against a real mosquitto.
import { connect, type MqttClient } from 'mqtt';

export interface SimBox {
  node: string;
  pair: string;
  instances: Record<string, string>;
  online: boolean;
  shared: string;
  version: string;
}

export interface SimOptions {
  url: string;
  pairs: number;
  /** Instances per pair (VI_1...). */
  instances?: number;
  /** Broker connections the boxes are spread over. */
  connections?: number;
  root?: string;
}

export class FleetSim {
  readonly boxes: SimBox[] = [];
  private clients: MqttClient[] = [];
  readonly root: string;

  constructor(readonly opts: SimOptions) {
    this.root = opts.root ?? 'twinvip/';
    const n = opts.instances ?? 2;
    for (let i = 0; i < opts.pairs; i++) {
      const pair = `site-${String(i).padStart(4, '0')}`;
      // Box a holds the odd instances, b the even ones (both hold something: a real pair's habit).
      for (const side of ['a', 'b'] as const) {
        const instances: Record<string, string> = {};
        for (let k = 1; k <= n; k++) instances[`VI_${k}`] = (k % 2 === 1) === (side === 'a') ? 'MASTER' : 'BACKUP';
        this.boxes.push({ node: `${pair}-${side}`, pair, instances, online: true, shared: 'c0ffee000001', version: '1.0.0' });
      }
    }
  }

  async start(): Promise<void> {
    const k = this.opts.connections ?? 4;
    this.clients = await Promise.all(Array.from({ length: k }, (_, i) => new Promise<MqttClient>((resolve, reject) => {
      const c = connect(this.opts.url, { clientId: `fleet-sim-${process.pid}-${i}`, clean: true, reconnectPeriod: 500, queueQoSZero: false });
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    })));
    await Promise.all(this.boxes.map((b, i) => this.publishBox(i, b)));
  }

  box(node: string): SimBox {
    const b = this.boxes.find((x) => x.node === node);
    if (!b) throw new Error(`no simulated box ${node}`);
    return b;
  }

  /** Republishes one box's state (after changing it). */
  async update(node: string, change: (b: SimBox) => void): Promise<void> {
    const i = this.boxes.findIndex((x) => x.node === node);
    const b = this.boxes[i]!;
    change(b);
    await this.publishBox(i, b);
  }

  /**
   * A routine handover of one instance inside a pair, as a real pair does it but with the two
   * messages crossing: the new MASTER's state is published `crossMs` before the old one's
   * BACKUP (the worst order a monitor can see).
   */
  /** Returns how long both boxes really said MASTER (the broker's acknowledgements apart), ms. */
  async handover(pair: string, instance: string, crossMs: number): Promise<number> {
    const [a, b] = this.boxes.filter((x) => x.pair === pair) as [SimBox, SimBox];
    const [from, to] = a.instances[instance] === 'MASTER' ? [a, b] : [b, a];
    await this.update(to.node, (x) => (x.instances[instance] = 'MASTER'));
    const t0 = performance.now();
    if (crossMs > 0) await new Promise((r) => setTimeout(r, crossMs));
    await this.update(from.node, (x) => (x.instances[instance] = 'BACKUP'));
    return performance.now() - t0;
  }

  async setOnline(node: string, online: boolean): Promise<void> {
    const i = this.boxes.findIndex((x) => x.node === node);
    this.boxes[i]!.online = online;
    await this.pub(i, `${this.root}${node}/status`, online ? 'online' : 'offline');
  }

  /** Removes every retained message of the fleet from the broker. */
  async clear(): Promise<void> {
    await Promise.all(this.boxes.flatMap((b, i) => [this.pub(i, `${this.root}${b.node}/status`, ''), this.pub(i, `${this.root}${b.node}/state`, '')]));
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.map((c) => new Promise<void>((r) => c.end(false, {}, () => r()))));
  }

  private async publishBox(i: number, b: SimBox): Promise<void> {
    const state = {
      node: b.node, version: b.version, pid: 1000 + i, started_at: '2026-12-01T00:00:00.000Z', uptime_s: 3600,
      config_hash: `h${String(i).padStart(11, '0')}`, shared_config_hash: b.shared,
      pair: { id: b.pair, twin: b.node.endsWith('-a') ? `${b.pair}-b` : `${b.pair}-a`, source: 'config' },
      instances: Object.fromEntries(Object.entries(b.instances).map(([n, s], k) => [n, { state: s, priority: s === 'MASTER' ? 150 : 100, vips: [`10.${(i >> 8) & 255}.${i & 255}.${k + 1}/24`] }])),
      alarms: [], heartbeat: null, nginx: null, mqtt: { protocol: '5', outbox: 0, outbox_dropped: 0 },
      updated_at: new Date().toISOString(),
    };
    await this.pub(i, `${this.root}${b.node}/state`, JSON.stringify(state));
    await this.pub(i, `${this.root}${b.node}/status`, b.online ? 'online' : 'offline');
  }

  private pub(i: number, topic: string, payload: string): Promise<void> {
    const c = this.clients[i % this.clients.length]!;
    return new Promise((resolve, reject) => c.publish(topic, payload, { qos: 1, retain: true }, (err) => (err ? reject(err) : resolve())));
  }
}
