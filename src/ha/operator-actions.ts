// Operator actions on VRRP, shared by MQTT commands and the console: maintenance and failover.
// Both set or clear the core's 'maintenance' demotion, which the operator alone owns: a MASTER
// sends priority 0 (the peer takes over after its skew time) and the instance never becomes
// MASTER while it lasts. Other demotions (a heartbeat release) are left to their owners.
//
// Actions run one at a time, whoever asks (console session, MQTT command): two people acting on
// one box at once is how a maintenance window goes wrong. A refused action says which one runs.

import type { InstanceEvent } from '../vrrp/events';
import type { InstanceView } from './vrrp/runner';

/** The runner, or its stand-in on the main thread when the HA path runs in its own (worker/host.ts). */
export interface ActionTarget {
  views(): InstanceView[];
  deliver(instance: string, event: InstanceEvent): Promise<void>[];
}

export type HaActionResult = { ok: true; data?: unknown } | { ok: false; error: string };

export class OperatorActions {
  private current: { name: string; startedAt: number } | undefined;
  private readonly demotionListeners = new Set<() => void>();

  constructor(
    private readonly runner: () => ActionTarget | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * `fn` runs after maintenance or failover changed the operator's demotions. A demotion that
   * moves no instance (maintenance on a BACKUP) makes no transition: the MQTT state listens here.
   */
  onDemotionsChanged(fn: () => void): () => void {
    this.demotionListeners.add(fn);
    return () => this.demotionListeners.delete(fn);
  }

  /** The action running now ("failover VI_2"), or undefined. */
  inProgress(): string | undefined {
    return this.current?.name;
  }

  /** Runs `act` unless another action is running; any long operator action may use it (reload, config push). */
  async exclusive<T>(name: string, act: () => Promise<T>): Promise<T | { ok: false; error: string }> {
    if (this.current) {
      const s = Math.max(0, Math.round((this.now() - this.current.startedAt) / 1000));
      return { ok: false, error: `another action '${this.current.name}' is in progress (started ${s} s ago); try again when it has finished` };
    }
    this.current = { name, startedAt: this.now() };
    try {
      return await act();
    } finally {
      this.current = undefined;
    }
  }

  /** on: every instance demoted (priority 0); off: the operator's demotion lifted everywhere. */
  maintenance(on: boolean): Promise<HaActionResult> {
    return this.exclusive(`maintenance ${on ? 'on' : 'off'}`, async () => {
      const r = this.runner();
      if (!r) return { ok: false, error: 'VRRP is not running' };
      const names = r.views().map((v) => v.plan.name);
      await Promise.all(names.flatMap((n) => r.deliver(n, { type: 'demote', reason: 'maintenance', active: on })));
      this.demotionsChanged();
      return { ok: true, data: { maintenance: on, instances: this.states(r) } };
    });
  }

  /**
   * Hands `instance` (or every MASTER instance when none is named) to the peer. It stays demoted
   * until `maintenance off`: with preempt on and a higher priority the node would otherwise take
   * the VIPs back one Master_Down_Interval later.
   */
  failover(instance?: string): Promise<HaActionResult> {
    return this.exclusive(instance === undefined ? 'failover' : `failover ${instance}`, async () => {
      const r = this.runner();
      if (!r) return { ok: false, error: 'VRRP is not running' };
      const views = r.views();
      let masters: string[];
      if (instance !== undefined) {
        const v = views.find((x) => x.plan.name === instance);
        if (!v) return { ok: false, error: `no instance '${instance}' (instances: ${views.map((x) => x.plan.name).join(', ') || 'none'})` };
        if (v.snapshot.state !== 'MASTER') return { ok: false, error: `${instance} is ${v.snapshot.state} on this node: nothing to hand over` };
        masters = [instance];
      } else {
        masters = views.filter((v) => v.snapshot.state === 'MASTER').map((v) => v.plan.name);
        if (masters.length === 0) return { ok: false, error: 'this node is MASTER of no instance: nothing to hand over' };
      }
      await Promise.all(masters.flatMap((n) => r.deliver(n, { type: 'demote', reason: 'maintenance', active: true })));
      this.demotionsChanged();
      return { ok: true, data: { handed_over: masters, note: 'demoted until maintenance off', instances: this.states(r) } };
    });
  }

  private demotionsChanged(): void {
    for (const fn of this.demotionListeners) fn();
  }

  private states(r: ActionTarget): Record<string, { state: string; demotions: string[] }> {
    return Object.fromEntries(r.views().map((v) => [v.plan.name, { state: v.snapshot.state, demotions: v.snapshot.demotions }]));
  }
}
