import type { ActionResult } from './ports';

export type GuardedRun = ActionResult | { ok: false; refused: string };

/**
 * One guarded action at a time across every console session (serial and local) and, through
 * `othersBusy`, actions started elsewhere (MQTT commands): two people acting on one box at once
 * (say a failover while a reload is half-way) is how a maintenance window goes wrong.
 */
export class ActionGuard {
  private current: { name: string; startedAt: number } | undefined;

  constructor(
    private readonly now: () => number,
    private readonly othersBusy: () => string | undefined = () => undefined,
  ) {}

  /** Why a new action may not start now, or undefined when it may. */
  busy(): string | undefined {
    if (this.current) return `'${this.current.name}' is in progress (started ${Math.max(0, Math.round((this.now() - this.current.startedAt) / 1000))} s ago)`;
    const other = this.othersBusy();
    return other === undefined ? undefined : `'${other}' is in progress`;
  }

  async run(name: string, act: () => Promise<ActionResult>): Promise<GuardedRun> {
    const why = this.busy();
    if (why !== undefined) return { ok: false, refused: `another action ${why}; try again when it has finished` };
    this.current = { name, startedAt: this.now() };
    try {
      return await act();
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    } finally {
      this.current = undefined;
    }
  }
}
