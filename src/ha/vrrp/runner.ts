// The VRRP shell: feeds the pure cores (VrrpInstance, SyncGroup) with received adverts, timer
// expiries and tracking changes, and turns their actions into I/O through a narrow port. The
// port and the clock are injected so the same runner drives real sockets (net-io.ts) and an
// in-memory wire in tests.

import { AH_PROTOCOL, decodeAhAdvert } from '../../vrrp/ah';
import { hmacMd5 } from './ah-crypto';
import { decodeAdvert, encodeAdvert } from '../../vrrp/packet';
import { validateAdvert, type TwinFilter } from '../../vrrp/validate';
import { VrrpInstance } from '../../vrrp/instance';
import { SyncGroup, type MemberActions } from '../../vrrp/sync-group';
import {
  emptyDropCounters,
  emptyWarningCounters,
  NOT_AN_ERROR,
  type DropCounters,
  type DropReason,
  type ValidateDropReason,
  type WarningCounters,
} from '../../vrrp/drop-reasons';
import { DropLogLimiter } from './drop-log';
import { DEMOTION_REASONS, type Action, type DemotionReason, type InstanceEvent, type InstanceSnapshot } from '../../vrrp/events';
import type { Advert, Family } from '../../vrrp/types';
import type { SubsystemLogger } from '../../log';
import type { EventBus } from '../../daemon/events';
import { AhSessions } from './ah-session';
import type { InstancePlan } from './instance-plan';
import { diffPlans, vanishedVips, type ReloadDiff } from './reload-diff';
import { startMark } from '../../lib/start-marks';

export interface VrrpIo {
  /** Send one VRRP message; must not block. */
  send(plan: InstancePlan, destination: string, bytes: Uint8Array): void;
  /** Add (true) or remove (false) every VIP of the instance; idempotent. */
  setVips(plan: InstancePlan, present: boolean): Promise<void>;
  /** One burst of gratuitous ARP / unsolicited NA, `count` per VIP; must not block. */
  announce(plan: InstancePlan, count: number): void;
}

export interface RunnerClock {
  now(): number;
  /** Call `fn` at `at` (same clock as now()); returns a cancel function. */
  schedule(at: number, fn: () => void): () => void;
}

export interface ReceivedPacket {
  interface: string;
  family: Family;
  payload: Uint8Array;
  source: string;
  destination: string;
  /** IPv4 TTL or IPv6 hop limit, when the transport could read it. */
  ttl?: number | undefined;
  /** 51: an IPsec AH datagram, IPv4 header included (auth_type AH); otherwise the VRRP message. */
  protocol?: number;
}

/** Per instance: what it accepted, what it dropped and why, and the accepted ones with a warning. */
interface ReceiveCounters {
  accepted: number;
  drops: DropCounters;
  warnings: WarningCounters;
}

/**
 * Pair mode (the heartbeat feature): the twin's addresses for an instance, when the twin is known
 * and the instance is not declared a mixed group; and what to do with an advert for our VRID
 * that came from someone else.
 */
export interface PairGate {
  twinFilter(plan: InstancePlan): TwinFilter | undefined;
  /** An advert dropped as 'not-twin' (the heartbeat feature raises vrid-conflict). */
  foreign(plan: InstancePlan, advert: Advert): void;
}

interface Unit {
  deliver(member: string, event: InstanceEvent, now: number): MemberActions[];
  fire(now: number): MemberActions[];
  nextDeadline(): number | undefined;
}

export interface RunnerOptions {
  plans: InstancePlan[];
  /** Sync group name → member instance names (from config.sync_groups). */
  groups: Record<string, string[]>;
  io: VrrpIo;
  clock: RunnerClock;
  log: SubsystemLogger;
  bus: EventBus;
  /**
   * Every accepted advert, after validation, before the state machine sees it (the stall gate's
   * evidence); setAdvertObserver() adds a second observer beside it.
   */
  onAdvert?: (plan: InstancePlan, advert: Advert) => void;
}

export interface InstanceView {
  plan: InstancePlan;
  snapshot: InstanceSnapshot;
  /** Adverts that passed every check and reached the state machine. */
  accepted: number;
  drops: DropCounters;
  /** Accepted adverts that carried something worth a warning (a subset of `accepted`). */
  warnings: WarningCounters;
  /**
   * When the last few adverts with a priority above 0 were sent (runner clock, oldest first, at
   * most SENT_KEPT): the split-brain diagnosis compares them with when the twin last heard one.
   */
  sentAt: number[];
}

/** Send times kept per instance for InstanceView.sentAt. */
export const SENT_KEPT = 8;

/** Per interface: every packet the runner was handed and that no instance took (see drop-reasons.ts). */
export interface InterfaceReceive {
  /** Packets handed to receive() for this interface. */
  received: number;
  drops: DropCounters;
  /** Adverts accepted by instances that a reload has since removed (their drops are in `drops`). */
  retiredAccepted: number;
}

export class VrrpRunner {
  private readonly instances = new Map<string, VrrpInstance>();
  private readonly plans = new Map<string, InstancePlan>();
  private readonly units = new Map<string, Unit>();
  private readonly rx = new Map<string, ReceiveCounters>();
  /** Packets that reached no instance: per interface, by decode reason (plus 'vrid'). */
  private readonly interfaceRx = new Map<string, InterfaceReceive>();
  private readonly dropLog = new DropLogLimiter();
  private pairGate: PairGate | undefined;
  private readonly ah = new AhSessions();
  private cancelTimer: (() => void) | undefined;
  private timerAt: number | undefined;
  private running = false;
  private advertObserver: ((plan: InstancePlan, advert: Advert) => void) | undefined;
  /** Per instance: the VIP add/remove in progress (the last one started), until it settles. */
  private readonly vipOps = new Map<string, Promise<void>>();
  private readonly sentAt = new Map<string, number[]>();

  private groups: Record<string, string[]>;

  constructor(private readonly o: RunnerOptions) {
    this.groups = cloneGroups(o.groups);
    for (const plan of o.plans) this.addInstance(plan);
    this.buildUnits(new Set(this.instances.keys()));
    this.ah.sync(this.plans.values());
  }

  private addInstance(plan: InstancePlan): void {
    this.plans.set(plan.name, plan);
    this.instances.set(plan.name, new VrrpInstance(plan.params));
    if (!this.rx.has(plan.name)) this.rx.set(plan.name, { accepted: 0, drops: emptyDropCounters(), warnings: emptyWarningCounters() });
  }

  /** Units (lone instance or sync group) for `names`; other instances keep theirs. */
  private buildUnits(names: Set<string>): void {
    const grouped = new Set<string>();
    for (const [name, members] of Object.entries(this.groups)) {
      if (!members.some((m) => names.has(m))) continue;
      const group = new SyncGroup(name, members.map((m) => this.instances.get(m)!).filter(Boolean));
      const unit: Unit = {
        deliver: (m, e, now) => group.handle(m, e, now),
        fire: (now) => group.handleTimers(now),
        nextDeadline: () => group.nextDeadline(),
      };
      for (const m of members) {
        grouped.add(m);
        this.units.set(m, unit);
      }
    }
    for (const name of names) {
      const inst = this.instances.get(name);
      if (!inst || grouped.has(name)) continue;
      this.units.set(name, {
        deliver: (_m, e, now) => [{ instance: name, actions: inst.handle(e, now) }],
        fire: (now) => {
          const at = inst.nextDeadline();
          return at !== undefined && at <= now ? [{ instance: name, actions: inst.handle({ type: 'timer' }, now) }] : [];
        },
        nextDeadline: () => inst.nextDeadline(),
      });
    }
  }

  /**
   * Applies a reloaded configuration (keepalived reload): unchanged instances run on untouched;
   * removed ones shut down as on stop; changed ones are rebuilt and resume their MASTER/BACKUP
   * state without a transition — a MASTER keeps the VIPs that stay, drops the vanished ones and
   * adds the new ones; added ones start as at start-up. Resolves when the VIP changes are done.
   */
  async replace(plans: InstancePlan[], groups: Record<string, string[]>): Promise<ReloadDiff> {
    const diff = diffPlans({ plans: [...this.plans.values()], groups: this.groups }, { plans, groups });
    const next = new Map(plans.map((p) => [p.name, p]));
    const pending: Promise<void>[] = [];
    for (const name of diff.removed) {
      pending.push(...this.deliver(name, { type: 'shutdown' }));
      const plan = this.plans.get(name)!;
      pending.push(this.o.io.setVips(plan, false).catch(() => {}));
    }
    const previous = new Map(
      diff.changed.map((n) => {
        const snap = this.instances.get(n)!.snapshot();
        const demotions = snap.demotions.filter((d): d is DemotionReason => (DEMOTION_REASONS as readonly string[]).includes(d));
        return [n, { plan: this.plans.get(n)!, state: snap.state, demotions }];
      }),
    );
    const gone = new Set([...diff.removed, ...diff.changed]);
    for (const name of gone) {
      if (!next.has(name)) {
        // Its counts move to the interface's ledger, so the sums still add up after a reload.
        const counts = this.rx.get(name);
        if (counts) this.retire(this.plans.get(name)!.interface, counts);
        this.rx.delete(name);
        this.dropLog.forget(`${name}/`);
      }
      this.instances.delete(name);
      this.plans.delete(name);
      this.units.delete(name);
      if (!next.has(name)) this.sentAt.delete(name);
    }
    await Promise.all(pending);

    this.groups = cloneGroups(groups);
    for (const name of [...diff.changed, ...diff.added]) this.addInstance(next.get(name)!);
    this.buildUnits(new Set([...diff.changed, ...diff.added]));
    this.ah.sync(this.plans.values());

    const vipWork: Promise<void>[] = [];
    for (const [name, prev] of previous) {
      if (prev.state !== 'MASTER') continue;
      const vanished = vanishedVips(prev.plan, next.get(name)!);
      const log = this.o.log.forInstance(name);
      const fail = (what: string) => (err: unknown) => log.error(`${what} VIPs failed: ${err instanceof Error ? err.message : String(err)}`);
      vipWork.push(
        (vanished.length > 0 ? this.o.io.setVips({ ...prev.plan, vips: vanished }, false).catch(fail('removing')) : Promise.resolve()).then(() =>
          this.o.io.setVips(next.get(name)!, true).catch(fail('adding')),
        ),
      );
    }
    await Promise.all(vipWork);
    if (!this.running) return diff;
    const after: Promise<void>[] = [];
    for (const [name, prev] of previous) {
      // Demotions (maintenance, a heartbeat release) belong to their owners, not to the configuration.
      for (const reason of prev.demotions) after.push(...this.deliver(name, { type: 'demote', reason, active: true }));
      const event: InstanceEvent = prev.state === 'MASTER' || prev.state === 'BACKUP' ? { type: 'resume', state: prev.state } : { type: 'startup' };
      after.push(...this.deliver(name, event));
    }
    for (const name of diff.added) after.push(...this.deliver(name, { type: 'startup' }));
    this.reschedule();
    await Promise.all(after);
    return diff;
  }

  start(): void {
    this.running = true;
    for (const name of this.instances.keys()) this.deliver(name, { type: 'startup' });
  }

  /** Shutdown: priority 0 from every MASTER, VIPs removed; resolves when the VIPs are gone. */
  async stop(): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const name of this.instances.keys()) pending.push(...this.deliver(name, { type: 'shutdown' }));
    this.running = false;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    // VIPs of an instance that never became MASTER may still be on the box (a previous run
    // killed hard): remove them all on exit, as keepalived users expect.
    for (const plan of this.plans.values()) pending.push(this.o.io.setVips(plan, false).catch(() => {}));
    await Promise.all(pending);
  }

  /** Feed one event to one instance (tracking, maintenance, heartbeat arbiter hooks). */
  deliver(instance: string, event: InstanceEvent): Promise<void>[] {
    const unit = this.units.get(instance);
    if (!unit) return [];
    const pending = this.execute(unit.deliver(instance, event, this.o.clock.now()));
    this.reschedule();
    return pending;
  }

  /** A tracked object changed: every instance that tracks it hears about it. */
  track(name: string, up: boolean): void {
    for (const plan of this.plans.values()) {
      if (plan.tracked.some((t) => t.name === name)) this.deliver(plan.name, { type: 'track', name, up });
    }
  }

  /**
   * One packet read from a VRRP socket. It ends in exactly one counter: accepted by an instance,
   * or one drop reason (of the interface when no instance took it, else of the instance).
   */
  receive(p: ReceivedPacket): void {
    const rx = this.interfaceLedger(p.interface);
    rx.received++;
    if (!this.running) {
      rx.drops.stopping++;
      return;
    }
    const unicast = !isMulticast(p.destination, p.family);
    const decoded = p.protocol === AH_PROTOCOL
      ? decodeAhAdvert(p.payload, (d) => !isMulticast(d, 4))
      : decodeAdvert(p.payload, { family: p.family, source: p.source, destination: p.destination, ttl: p.ttl, unicast });
    if (!decoded.ok) {
      rx.drops[decoded.reason]++;
      this.o.log.debug(`${p.interface}: dropped advert from ${p.source}: ${decoded.reason} (${decoded.detail})`);
      return;
    }
    const advert = decoded.advert;
    let plan: InstancePlan | undefined;
    for (const pl of this.plans.values()) {
      if (pl.interface === p.interface && pl.family === p.family && pl.params.vrid === advert.vrid) {
        plan = pl;
        break;
      }
    }
    if (!plan) {
      rx.drops.vrid++;
      return;
    }
    const counts = this.rx.get(plan.name)!;
    // AH: the core verifies the ICV with the HMAC-MD5 the shell hands it (the plan stays plain data).
    const expectation = plan.ahKey ? { ...plan.expectation, hmacMd5 } : plan.expectation;
    const verdict = validateAdvert(advert, expectation, this.pairGate?.twinFilter(plan), this.ah.sequence(plan.name));
    if (!verdict.accept) {
      counts.drops[verdict.reason]++;
      if (verdict.reason === 'not-twin') this.pairGate?.foreign(plan, advert);
      else if (verdict.alarm) this.reportDrop(plan, advert, verdict.reason, verdict.detail);
      else if (!NOT_AN_ERROR.has(verdict.reason)) {
        this.o.log.debug(`${plan.name}: dropped advert from ${advert.source}: ${verdict.reason} (${verdict.detail})`);
      }
      return;
    }
    counts.accepted++;
    for (const w of verdict.warnings) {
      counts.warnings[w.warning]++;
      this.logLimited(plan, advert, `warning-${w.warning}`, `accepted advert from ${advert.source} (priority ${advert.priority}) with a warning: ${w.detail}`, 'warning');
    }
    this.o.onAdvert?.(plan, advert);
    this.advertObserver?.(plan, advert);
    if (advert.ah) this.ah.heard(plan, advert, this.instances.get(plan.name)!.snapshot());
    this.deliver(plan.name, { type: 'advert', advert });
  }

  /**
   * Pair mode hooks (the heartbeat feature): adverts for our VRID from anyone but the twin are
   * dropped as 'not-twin' and handed to `gate.foreign`. undefined = plain VRRP.
   */
  setPairGate(gate: PairGate | undefined): void {
    this.pairGate = gate;
  }

  /**
   * Observes every accepted advert (the heartbeat arbiter's Ethernet channel), for a feature
   * started after the runner (beside the `onAdvert` option). undefined removes it.
   */
  setAdvertObserver(fn: ((plan: InstancePlan, advert: Advert) => void) | undefined): void {
    this.advertObserver = fn;
  }

  /**
   * Settles when the instance's latest VIP change (add or remove) is done on the box: a box that
   * hands an instance over tells the twin only after its VIPs are gone, so the twin can take
   * over at once without a moment of two boxes answering for them.
   */
  vipsSettled(instance: string): Promise<void> {
    return this.vipOps.get(instance) ?? Promise.resolve();
  }

  /** Whether a VIP change of the instance is still in progress. */
  vipsChanging(instance: string): boolean {
    return this.vipOps.has(instance);
  }

  /** One gratuitous ARP / unsolicited NA burst for the instance's VIPs (after a split-brain heals). */
  announce(instance: string, count: number): boolean {
    const plan = this.plans.get(instance);
    if (!plan || !this.running) return false;
    this.o.io.announce(plan, count);
    return true;
  }

  views(): InstanceView[] {
    return [...this.plans.values()].map((plan) => {
      const c = this.rx.get(plan.name)!;
      return { plan, snapshot: this.instances.get(plan.name)!.snapshot(), accepted: c.accepted, drops: { ...c.drops }, warnings: { ...c.warnings }, sentAt: [...(this.sentAt.get(plan.name) ?? [])] };
    });
  }

  /** Per interface: packets received and those no instance took, by reason. */
  interfaceReceive(): Record<string, InterfaceReceive> {
    return Object.fromEntries([...this.interfaceRx].map(([k, v]) => [k, { ...v, drops: { ...v.drops } }]));
  }

  /** Per interface: drops of packets no instance took (and of instances removed by a reload). */
  interfaceDropCounters(): Record<string, DropCounters> {
    return Object.fromEntries([...this.interfaceRx].map(([k, v]) => [k, { ...v.drops }]));
  }

  private interfaceLedger(iface: string): InterfaceReceive {
    let c = this.interfaceRx.get(iface);
    if (!c) this.interfaceRx.set(iface, (c = { received: 0, drops: emptyDropCounters(), retiredAccepted: 0 }));
    return c;
  }

  /** A removed instance's counts join its interface's ledger, so the sums still add up. */
  private retire(iface: string, counts: ReceiveCounters): void {
    const rx = this.interfaceLedger(iface);
    for (const [k, n] of Object.entries(counts.drops) as [DropReason, number][]) rx.drops[k] += n;
    rx.retiredAccepted += counts.accepted;
  }

  /** A drop that points at a misconfigured or foreign router: a rate-limited line and an alarm. */
  private reportDrop(plan: InstancePlan, advert: Advert, reason: ValidateDropReason, detail: string): void {
    const consequence =
      reason === 'address-list'
        ? 'ignored, as keepalived does'
        : 'both routers may become MASTER';
    this.logLimited(plan, advert, `advert-${reason}`, `dropping advert from ${advert.source} (priority ${advert.priority}): ${detail} (${consequence})`, 'critical');
  }

  private logLimited(plan: InstancePlan, advert: Advert, id: string, message: string, severity: 'warning' | 'critical'): void {
    const now = this.o.clock.now();
    const { log, held } = this.dropLog.admit(`${plan.name}/${id}`, advert.source, now);
    if (!log) return;
    const line = `${plan.name}: ${message}${held > 0 ? ` [${held} more not logged]` : ''}`;
    (severity === 'critical' ? this.o.log.warn.bind(this.o.log) : this.o.log.info.bind(this.o.log))(line);
    this.o.bus.emit('alarm', { id, active: true, severity, message: line, instance: plan.name, at: Date.now() });
  }

  private execute(batches: MemberActions[]): Promise<void>[] {
    const pending: Promise<void>[] = [];
    for (const { instance, actions } of batches) {
      const plan = this.plans.get(instance)!;
      for (const a of actions) {
        const p = this.perform(plan, a);
        if (p) pending.push(p);
      }
    }
    return pending;
  }

  private perform(plan: InstancePlan, a: Action): Promise<void> | undefined {
    const log = this.o.log.forInstance(plan.name);
    switch (a.type) {
      case 'send-advert': {
        if (a.priority > 0) {
          let sent = this.sentAt.get(plan.name);
          if (!sent) this.sentAt.set(plan.name, (sent = []));
          sent.push(this.o.clock.now());
          if (sent.length > SENT_KEPT) sent.shift();
        }
        // AH: the VRRPv2 message is the same for every destination (no pseudo-header); it is
        // encoded once and sealed per destination under one sequence number, as keepalived does.
        for (const destination of plan.ahKey ? plan.destinations.slice(0, 1) : plan.destinations) {
          const bytes = encodeAdvert({
            version: plan.params.version,
            family: plan.family,
            vrid: plan.params.vrid,
            priority: a.priority,
            advertIntervalCs: a.advertIntervalCs,
            addresses: plan.advertised,
            ...(plan.params.version === 2 ? { authType: plan.authType, ...(plan.authData ? { authData: plan.authData } : {}) } : {}),
            source: plan.params.primaryAddress,
            destination,
            ...(plan.params.version === 3 && plan.family === 4 ? { checksumDialect: plan.checksumDialect } : {}),
          });
          if (plan.ahKey) for (const d of this.ah.seal(plan, bytes)) this.o.io.send(plan, d.destination, d.bytes);
          else this.o.io.send(plan, destination, bytes);
        }
        return undefined;
      }
      case 'add-vips':
      case 'remove-vips': {
        const op = this.o.io.setVips(plan, a.type === 'add-vips').catch((err: unknown) => {
          log.error(`${a.type === 'add-vips' ? 'adding' : 'removing'} VIPs failed: ${err instanceof Error ? err.message : String(err)}`);
        });
        this.vipOps.set(plan.name, op);
        void op.then(() => {
          if (this.vipOps.get(plan.name) === op) this.vipOps.delete(plan.name);
        });
        return op;
      }
      case 'send-garp':
        log.debug(`gratuitous ARP/NA burst x${a.count} (${a.reason})`);
        this.o.io.announce(plan, a.count);
        return undefined;
      case 'transition': {
        // The logger names the instance: "VI_1: BACKUP -> MASTER (master down, 3609 ms without advert)".
        const cause = a.detail ? `${a.cause}, ${a.detail}` : a.cause;
        log.info(`${a.from} -> ${a.to} (${cause})`);
        if (a.from === 'INIT') startMark(`ha-${a.to.toLowerCase()}`);
        if (a.to === 'MASTER') this.ah.becameMaster(plan.name);
        this.o.bus.emit('transition', { instance: plan.name, from: a.from, to: a.to, cause, at: Date.now() });
        return undefined;
      }
      case 'alarm':
        log.warn(`alarm ${a.name}: ${a.detail}`);
        this.o.bus.emit('alarm', {
          id: a.name,
          active: true,
          severity: a.name === 'dual-master' ? 'critical' : 'warning',
          message: `${plan.name}: ${a.detail}`,
          instance: plan.name,
          ...(a.overlapMs !== undefined ? { durationMs: Math.round(a.overlapMs) } : {}),
          at: Date.now(),
        });
        return undefined;
      case 'notify': {
        const priority = this.instances.get(plan.name)!.snapshot().effectivePriority;
        this.o.bus.emit('notify', { instance: plan.name, state: a.state, priority, cause: a.detail ? `${a.cause}, ${a.detail}` : a.cause, at: Date.now() });
        return undefined;
      }
      case 'want-master':
        // The sync group's business.
        return undefined;
    }
  }

  private reschedule(): void {
    if (!this.running) return;
    let next: number | undefined;
    for (const unit of new Set(this.units.values())) {
      const at = unit.nextDeadline();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    if (next === this.timerAt && this.cancelTimer) return;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerAt = next;
    if (next === undefined) return;
    this.cancelTimer = this.o.clock.schedule(next, () => {
      this.cancelTimer = undefined;
      this.timerAt = undefined;
      this.fire();
    });
  }

  private fire(): void {
    if (!this.running) return;
    const now = this.o.clock.now();
    for (const unit of new Set(this.units.values())) this.execute(unit.fire(now));
    this.reschedule();
  }
}

function isMulticast(address: string, family: Family): boolean {
  if (family === 6) return address.toLowerCase().startsWith('ff');
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}


function cloneGroups(g: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(g).map(([k, v]) => [k, [...v]]));
}
