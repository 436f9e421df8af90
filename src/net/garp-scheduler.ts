// When and how often VIPs are announced, keepalived's way: on becoming MASTER a burst of
// `repeat` announcements per VIP, a second burst after `delayMs` (garp_master_delay, default
// 5 s), then optionally `refreshRepeat` every `refreshMs` (garp_master_refresh) while MASTER.
// Only timers: every send is a synchronous non-blocking syscall, nothing is awaited.

export interface GarpPlan {
  /** Announcements per VIP in each burst (garp_master_repeat, default 5). */
  repeat: number;
  /** Second burst this long after the first (garp_master_delay); 0 = none. */
  delayMs: number;
  /** Periodic refresh while MASTER (garp_master_refresh); 0 = none. */
  refreshMs: number;
  /** Announcements per VIP in each refresh (garp_master_refresh_repeat, default 1). */
  refreshRepeat: number;
  /** Gap between announcements in a burst (vrrp_garp_interval); 0 = back to back. */
  intervalMs: number;
}

export const DEFAULT_GARP_PLAN: GarpPlan = { repeat: 5, delayMs: 5000, refreshMs: 0, refreshRepeat: 1, intervalMs: 0 };

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Sends one announcement for one VIP; returns nothing (errors are the sender's to count). */
export type AnnounceFn = (vip: string) => void;

/** One schedule per key (an instance name): start replaces, stop cancels. */
export class GarpScheduler {
  private readonly jobs = new Map<string, Set<unknown>>();

  constructor(
    private readonly announce: AnnounceFn,
    private readonly timers: Timers = realTimers,
  ) {}

  /** Starts (or restarts) announcing `vips` under `key`. The first burst starts now, synchronously. */
  start(key: string, vips: readonly string[], plan: GarpPlan = DEFAULT_GARP_PLAN): void {
    this.stop(key);
    const handles = new Set<unknown>();
    this.jobs.set(key, handles);
    const later = (fn: () => void, ms: number) => {
      const h = this.timers.setTimeout(() => {
        handles.delete(h);
        if (this.jobs.get(key) !== handles) return;
        fn();
        // A plan without refresh ends with its last burst.
        if (handles.size === 0) this.jobs.delete(key);
      }, ms);
      handles.add(h);
    };
    const burst = (count: number) => {
      if (count <= 0) return;
      if (plan.intervalMs <= 0) {
        for (let i = 0; i < count; i++) for (const v of vips) this.announce(v);
        return;
      }
      for (const v of vips) this.announce(v);
      if (count > 1) later(() => burst(count - 1), plan.intervalMs);
    };
    burst(plan.repeat);
    if (plan.delayMs > 0) later(() => burst(plan.repeat), plan.delayMs);
    if (handles.size === 0 && plan.refreshMs <= 0) this.jobs.delete(key);
    if (plan.refreshMs > 0) {
      const refresh = () => {
        burst(plan.refreshRepeat);
        later(refresh, plan.refreshMs);
      };
      later(refresh, plan.refreshMs);
    }
  }

  stop(key: string): void {
    const handles = this.jobs.get(key);
    if (!handles) return;
    for (const h of handles) this.timers.clearTimeout(h);
    this.jobs.delete(key);
  }

  stopAll(): void {
    for (const k of [...this.jobs.keys()]) this.stop(k);
  }

  active(key: string): boolean {
    return this.jobs.has(key);
  }
}
