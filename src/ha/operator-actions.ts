// Operator actions on VRRP, shared by MQTT commands and the console: maintenance and failover.
// Both use the core's priority override 0 (a MASTER sends priority 0, so the peer takes over
// after its skew time, and the instance never becomes MASTER while it lasts).

import type { VrrpRunner } from './vrrp/runner';

export type HaActionResult = { ok: true; data?: unknown } | { ok: false; error: string };

export class VrrpHaActions {
  constructor(private readonly runner: () => VrrpRunner | undefined) {}

  /** on: every instance demoted to priority 0; off: back to configured priorities. */
  async maintenance(on: boolean): Promise<HaActionResult> {
    const r = this.runner();
    if (!r) return { ok: false, error: 'VRRP is not running' };
    const names = r.views().map((v) => v.plan.name);
    await Promise.all(names.flatMap((n) => r.deliver(n, { type: 'set-priority-override', priority: on ? 0 : null })));
    return { ok: true, data: { maintenance: on, instances: this.states(r) } };
  }

  /**
   * Hands this node's MASTER instances to the peer. They stay demoted (maintenance) until
   * `maintenance off`: with preempt on and a higher priority the node would otherwise take the
   * VIPs back one Master_Down_Interval later.
   */
  async failover(): Promise<HaActionResult> {
    const r = this.runner();
    if (!r) return { ok: false, error: 'VRRP is not running' };
    const masters = r.views().filter((v) => v.snapshot.state === 'MASTER').map((v) => v.plan.name);
    if (masters.length === 0) return { ok: false, error: 'this node is MASTER of no instance: nothing to hand over' };
    await Promise.all(masters.flatMap((n) => r.deliver(n, { type: 'set-priority-override', priority: 0 })));
    return { ok: true, data: { handed_over: masters, note: 'demoted until maintenance off', instances: this.states(r) } };
  }

  private states(r: VrrpRunner): Record<string, string> {
    return Object.fromEntries(r.views().map((v) => [v.plan.name, v.snapshot.state]));
  }
}
