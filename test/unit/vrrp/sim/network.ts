// A simulated Ethernet segment of N routers running the real VrrpInstance / SyncGroup cores.
// Adverts travel as the `Advert` type (no bytes); each directed link has loss (seeded PRNG),
// delay (+ optional jitter) and can be cut and healed. Time is the unit tests' FakeClock.

import type { Advert } from '../../../../src/vrrp/types';
import type { Action, InstanceEvent, InstanceParams, VrrpState } from '../../../../src/vrrp/events';
import { VrrpInstance } from '../../../../src/vrrp/instance';
import { SyncGroup, type MemberActions } from '../../../../src/vrrp/sync-group';
import { mulberry32 } from './prng';
import { FakeClock } from '../../../helpers/fake-clock';

export interface LinkProps {
  loss: number;
  delayMs: number;
  jitterMs: number;
  cut: boolean;
}

export interface RouterSpec {
  name: string;
  address: string;
  /** primaryAddress defaults to the router's address. */
  instances: Array<Omit<InstanceParams, 'primaryAddress'> & { primaryAddress?: string }>;
  syncGroups?: Array<{ name: string; members: string[] }>;
}

export interface LoggedAction {
  at: number;
  router: string;
  instance: string;
  action: Action;
}

export class SimRouter {
  readonly instances = new Map<string, VrrpInstance>();
  private readonly groupOf = new Map<string, SyncGroup>();
  private readonly wakeToken = new Map<string, { at: number; token: number }>();
  private tokens = 0;
  alive = true;
  /** VIPs as the actions left them (independent of the instance's own bookkeeping). */
  readonly vipsHeld = new Map<string, boolean>();

  constructor(
    readonly spec: RouterSpec,
    private readonly net: SimNetwork,
  ) {
    for (const p of spec.instances) {
      const inst = new VrrpInstance({ ...p, primaryAddress: p.primaryAddress ?? spec.address });
      this.instances.set(p.name, inst);
      this.vipsHeld.set(p.name, false);
    }
    for (const g of spec.syncGroups ?? []) {
      const group = new SyncGroup(g.name, g.members.map((m) => this.instances.get(m)!));
      for (const m of g.members) this.groupOf.set(m, group);
    }
  }

  get name(): string {
    return this.spec.name;
  }

  state(instance: string): VrrpState {
    return this.instances.get(instance)!.currentState;
  }

  /** Deliver one event to one instance (through its sync group if it has one). */
  dispatch(instance: string, event: InstanceEvent): void {
    if (!this.alive) return;
    const now = this.net.clock.now();
    const group = this.groupOf.get(instance);
    const results: MemberActions[] = group
      ? group.handle(instance, event, now)
      : [{ instance, actions: this.instances.get(instance)!.handle(event, now) }];
    this.apply(results);
    this.rearm(group ? group.name : instance);
  }

  /** Power loss: stops sending, receiving and timers at once, VIPs vanish with the box. */
  crash(): void {
    this.alive = false;
    for (const k of this.vipsHeld.keys()) this.vipsHeld.set(k, false);
  }

  private apply(results: MemberActions[]): void {
    for (const { instance, actions } of results) {
      for (const action of actions) {
        this.net.record({ at: this.net.clock.now(), router: this.name, instance, action });
        if (action.type === 'add-vips') this.vipsHeld.set(instance, true);
        if (action.type === 'remove-vips') this.vipsHeld.set(instance, false);
        if (action.type === 'send-advert') {
          const p = this.spec.instances.find((i) => i.name === instance)!;
          this.net.broadcast(this, {
            version: p.version,
            family: p.family,
            vrid: p.vrid,
            priority: action.priority,
            advertIntervalCs: action.advertIntervalCs,
            addresses: p.vips,
            authType: 0,
            source: p.primaryAddress ?? this.spec.address,
          });
        }
      }
    }
    // After the whole batch: a sync-group cascade may hand one member several batches.
    for (const name of new Set(results.map((r) => r.instance))) {
      this.net.checkInvariants(this, name, this.instances.get(name)!);
    }
  }

  private rearm(unit: string): void {
    const group = [...this.groupOf.values()].find((g) => g.name === unit);
    const deadline = group ? group.nextDeadline() : this.instances.get(unit)!.nextDeadline();
    if (deadline === undefined) {
      this.wakeToken.delete(unit);
      return;
    }
    const at = Math.max(deadline, this.net.clock.now());
    const current = this.wakeToken.get(unit);
    if (current && current.at === at) return;
    const token = ++this.tokens;
    this.wakeToken.set(unit, { at, token });
    this.net.clock.at(at, () => {
      if (!this.alive || this.wakeToken.get(unit)?.token !== token) return;
      this.wakeToken.delete(unit);
      const now = this.net.clock.now();
      const results = group ? group.handleTimers(now) : [{ instance: unit, actions: this.instances.get(unit)!.handle({ type: 'timer' }, now) }];
      this.apply(results);
      this.rearm(unit);
    });
  }
}

export class SimNetwork {
  readonly clock = new FakeClock();
  readonly routers = new Map<string, SimRouter>();
  readonly log: LoggedAction[] = [];
  readonly violations: string[] = [];
  private readonly links = new Map<string, LinkProps>();
  private readonly random: () => number;
  /** Per VRID: time with two or more routers holding the VIPs. */
  private readonly dual = new Map<number, { since: number | null; total: number }>();

  constructor(
    private readonly opts: { seed?: number; loss?: number; delayMs?: number; jitterMs?: number } = {},
  ) {
    this.random = mulberry32(opts.seed ?? 1);
  }

  addRouter(spec: RouterSpec): SimRouter {
    const r = new SimRouter(spec, this);
    this.routers.set(spec.name, r);
    return r;
  }

  router(name: string): SimRouter {
    const r = this.routers.get(name);
    if (!r) throw new Error(`no router ${name}`);
    return r;
  }

  /** The directed link from → to (created with the network's defaults on first use). */
  link(from: string, to: string): LinkProps {
    const key = `${from}>${to}`;
    let l = this.links.get(key);
    if (!l) {
      l = { loss: this.opts.loss ?? 0, delayMs: this.opts.delayMs ?? 0, jitterMs: this.opts.jitterMs ?? 0, cut: false };
      this.links.set(key, l);
    }
    return l;
  }

  /** Cut (or heal) both directions between two routers. */
  setCut(a: string, b: string, cut: boolean): void {
    this.link(a, b).cut = cut;
    this.link(b, a).cut = cut;
  }

  /** Deliver `event` to every instance of every router at time `at`. */
  at(time: number, fn: () => void): void {
    this.clock.at(time, fn);
  }

  startAll(at = 0, stagger: Record<string, number> = {}): void {
    for (const r of this.routers.values()) {
      this.clock.at(at + (stagger[r.name] ?? 0), () => {
        for (const name of r.instances.keys()) r.dispatch(name, { type: 'startup' });
      });
    }
  }

  run(until: number): void {
    this.clock.runUntil(until);
  }

  broadcast(from: SimRouter, advert: Advert): void {
    for (const to of this.routers.values()) {
      if (to === from) continue;
      const link = this.link(from.name, to.name);
      if (link.cut) continue;
      if (link.loss > 0 && this.random() < link.loss) continue;
      const delay = link.delayMs + (link.jitterMs > 0 ? this.random() * link.jitterMs : 0);
      for (const [name, inst] of to.instances) {
        const s = inst.snapshot();
        if (s.vrid !== advert.vrid || s.version !== advert.version || s.family !== advert.family) continue;
        this.clock.after(delay, () => to.dispatch(name, { type: 'advert', advert }));
      }
    }
  }

  record(entry: LoggedAction): void {
    this.log.push(entry);
  }

  /** Every instance's own idea of its VIPs must match the actions it emitted and its state. */
  checkInvariants(router: SimRouter, name: string, inst: VrrpInstance): void {
    const s = inst.snapshot();
    const held = router.vipsHeld.get(name) ?? false;
    if (s.vipsHeld !== held) this.violations.push(`${router.name}/${name}: snapshot vipsHeld ${s.vipsHeld}, actions say ${held}`);
    if (held !== (s.state === 'MASTER')) this.violations.push(`${router.name}/${name}: VIPs ${held} in state ${s.state}`);
    const d = inst.nextDeadline();
    if (d !== undefined && d < this.clock.now()) this.violations.push(`${router.name}/${name}: deadline ${d} in the past at ${this.clock.now()}`);
    this.accountDual(s.vrid);
  }

  private accountDual(vrid: number): void {
    let holders = 0;
    for (const r of this.routers.values()) {
      if (!r.alive) continue;
      for (const [name, inst] of r.instances) if (inst.snapshot().vrid === vrid && r.vipsHeld.get(name)) holders++;
    }
    const d = this.dual.get(vrid) ?? { since: null, total: 0 };
    const now = this.clock.now();
    if (holders >= 2 && d.since === null) d.since = now;
    if (holders < 2 && d.since !== null) {
      d.total += now - d.since;
      d.since = null;
    }
    this.dual.set(vrid, d);
  }

  dualMasterMs(vrid: number): number {
    const d = this.dual.get(vrid);
    if (!d) return 0;
    return d.total + (d.since !== null ? this.clock.now() - d.since : 0);
  }

  /** Routers (alive) whose instance for `vrid` is MASTER. */
  masters(vrid: number): string[] {
    const out: string[] = [];
    for (const r of this.routers.values()) {
      if (!r.alive) continue;
      for (const inst of r.instances.values()) {
        if (inst.snapshot().vrid === vrid && inst.currentState === 'MASTER') out.push(r.name);
      }
    }
    return out;
  }

  transitions(filter: { router?: string; to?: VrrpState } = {}): Array<LoggedAction & { action: Extract<Action, { type: 'transition' }> }> {
    return this.log.filter(
      (e): e is LoggedAction & { action: Extract<Action, { type: 'transition' }> } =>
        e.action.type === 'transition' &&
        (filter.router === undefined || e.router === filter.router) &&
        (filter.to === undefined || e.action.to === filter.to),
    );
  }

  actions<T extends Action['type']>(type: T, router?: string): Array<LoggedAction & { action: Extract<Action, { type: T }> }> {
    return this.log.filter(
      (e): e is LoggedAction & { action: Extract<Action, { type: T }> } =>
        e.action.type === type && (router === undefined || e.router === router),
    );
  }
}

/** A plain v2 instance for the simulated routers. */
export function v2Instance(
  name: string,
  vrid: number,
  priority: number,
  extra: Partial<InstanceParams> = {},
): Omit<InstanceParams, 'primaryAddress'> {
  return {
    name,
    vrid,
    version: 2,
    family: 4,
    priority,
    advertIntervalCs: 100,
    preempt: true,
    preemptDelayMs: 0,
    vips: [`192.0.2.${vrid}`],
    ...extra,
  };
}
