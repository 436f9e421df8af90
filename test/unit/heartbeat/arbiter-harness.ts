// A fake clock around the arbiter: inputs at chosen times, ticks at every deadline it asks for.
import { HeartbeatArbiter, type ArbiterInput, type ArbiterOptions, type ArbiterOutput } from '../../../src/heartbeat/arbiter';
import type { HeartbeatFrame, InstanceReport } from '../../../src/heartbeat/frame';
import { hb, inst } from './fixtures';

export interface Stamped { at: number; out: ArbiterOutput }

export class Harness {
  now = 0;
  readonly log: Stamped[] = [];
  readonly arbiter: HeartbeatArbiter;
  private seq = 0;

  constructor(opts: Partial<ArbiterOptions> = {}) {
    this.arbiter = new HeartbeatArbiter({ instances: [{ vrid: 51, family: 4, advertIntervalCs: 100 }], ...opts }, 0);
  }

  feed(input: ArbiterInput): ArbiterOutput[] {
    const out = this.arbiter.handle(input, this.now);
    for (const o of out) this.log.push({ at: this.now, out: o });
    return out;
  }

  /** Moves the clock to `t`, ticking at each deadline the arbiter announced on the way. */
  advanceTo(t: number): void {
    for (;;) {
      const d = this.arbiter.nextDeadline();
      if (d === null || d > t) break;
      this.now = d;
      this.feed({ type: 'tick' });
    }
    this.now = t;
    this.feed({ type: 'tick' });
  }

  local(state: InstanceReport['state'], priority = 100): void {
    this.feed({ type: 'local-state', vrid: 51, family: 4, state, priority });
  }

  advert(priority = 150): void {
    this.feed({ type: 'advert', vrid: 51, family: 4, priority, advertIntervalCs: 100, address: '192.168.10.2' });
  }

  heartbeat(report: Partial<InstanceReport> = {}, health = { uplink: true, gateway: true, nginx: true }): void {
    const frame: HeartbeatFrame = {
      kind: 'heartbeat', nodeId: 'gw-a', bootId: 'aaaaaaaaaaaaaaaa', seq: ++this.seq,
      ...hb({ health, instances: [inst(report)] }),
    };
    this.feed({ type: 'serial-frame', frame });
  }

  /**
   * Runs the channels from `from` to `to`: adverts every second when `e`, heartbeats every 100 ms
   * when `s`, ticking deadlines in between.
   */
  run(from: number, to: number, channels: { e: boolean; s: boolean; report?: Partial<InstanceReport>; advertPriority?: number }): void {
    for (let t = from; t <= to; t += 100) {
      this.advanceTo(t);
      if (channels.e && t % 1000 === 0) this.advert(channels.advertPriority);
      if (channels.s) this.heartbeat(channels.report);
    }
  }

  of<T extends ArbiterOutput['type']>(type: T): Array<Stamped & { out: Extract<ArbiterOutput, { type: T }> }> {
    return this.log.filter((l) => l.out.type === type) as Array<Stamped & { out: Extract<ArbiterOutput, { type: T }> }>;
  }

  vrrp(type: 'peer-claim' | 'peer-release' | 'peer-dead'): Stamped[] {
    return this.log.filter((l) => l.out.type === 'vrrp' && l.out.event.type === type);
  }

  alarms(name?: string): Array<{ at: number; name: string; durationMs?: number; detail: string }> {
    return this.of('alarm')
      .filter((a) => name === undefined || a.out.name === name)
      .map((a) => {
        const { type: _type, ...rest } = a.out;
        return { at: a.at, ...rest };
      });
  }
}
