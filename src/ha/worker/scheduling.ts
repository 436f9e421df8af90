// The HA thread's scheduling (config `scheduling`, keepalived's vrrp_rt_priority, vrrp_priority
// and vrrp_rlimit_rttime): set once at the thread's start and on a reload, for this
// thread only (native/twinvip_net.c setThreadScheduling). The main thread stays at normal
// priority: whatever it does (a large MQTT request, 1,000 control requests a second, a console
// dump) competes with the rest of the box, not with the adverts. A refusal (no CAP_SYS_NICE) is
// never fatal: the thread runs at normal priority, with an error line and `features.ha_thread`
// degraded in status. When the real-time safety net fires (RLIMIT_RTTIME's soft half: the thread
// ran that long without sleeping), the addon's signal handler has already put the thread back to
// normal scheduling; this reports it and restores real-time after RESTORE_MS.

import type { TwinvipConfig } from '../../config';
import type { FeatureStatus } from '../../daemon/status';
import type { SubsystemLogger } from '../../log';
import type { NativeScheduling, TwinvipNetAddon } from '../../net/native';

export type SchedulingConfig = TwinvipConfig['scheduling'];

/** How long a thread put back to normal scheduling by RLIMIT_RTTIME stays there. */
export const RESTORE_MS = 60_000;

type Addon = Pick<TwinvipNetAddon, 'setThreadScheduling' | 'threadScheduling'>;

export class HaThreadScheduling {
  private cfg: SchedulingConfig | undefined;
  private now: NativeScheduling | undefined;
  private refused: string[] = [];
  private xcpuSeen = 0;
  private suspendedUntil = 0;
  private suspensions = 0;
  private restoreTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly addon: Addon,
    private readonly log: SubsystemLogger,
    /** false: the HA path runs inline on the main thread (TWINVIP_HA_THREAD=main), which is left alone. */
    private readonly ownThread: boolean,
  ) {}

  /** At the thread's start, and after a reload that changed `scheduling`. */
  apply(cfg: SchedulingConfig): void {
    const changed = JSON.stringify(cfg) !== JSON.stringify(this.cfg);
    this.cfg = cfg;
    if (!this.ownThread) {
      if (changed) this.log.warn('HA path runs on the main thread (TWINVIP_HA_THREAD=main): scheduling settings not applied');
      return;
    }
    if (!changed && this.now) return;
    this.set(cfg);
  }

  private set(cfg: SchedulingConfig): void {
    const r = this.addon.setThreadScheduling({ nice: cfg.nice, rtPriority: cfg.rt_priority, rttimeUs: cfg.rt_priority > 0 ? cfg.rlimit_rttime : 0 });
    const { errors, ...now } = r;
    this.now = now;
    this.xcpuSeen = now.xcpu;
    this.refused = [];
    const where = `HA thread (tid ${now.tid})`;
    if (errors.rt || errors.rlimit || errors.sigxcpu) {
      const cause = errors.rt ?? errors.rlimit ?? errors.sigxcpu;
      this.refused.push(`real-time refused: ${cause}`);
      this.log.error(
        `${where}: real-time scheduling SCHED_RR ${cfg.rt_priority} not set: ${cause}; the thread runs at normal scheduling (${now.policy}, nice ${now.nice}), so adverts and serial frames may be late under CPU load. Needs CAP_SYS_NICE (the unit's CapabilityBoundingSet) or LimitRTPRIO=${cfg.rt_priority}`,
        { tid: now.tid, rt_priority: cfg.rt_priority, error: cause },
      );
    }
    if (errors.nice) {
      this.refused.push(`nice ${cfg.nice} refused: ${errors.nice}`);
      this.log.error(`${where}: nice ${cfg.nice} not set: ${errors.nice}; it stays at nice ${now.nice}. Needs CAP_SYS_NICE or LimitNICE`, { tid: now.tid, nice: cfg.nice, error: errors.nice });
    }
    if (this.refused.length === 0) this.log.info(`${where} scheduling: ${this.describe()}`);
  }

  /** Called every few hundred ms: reports a suspension by RLIMIT_RTTIME and restores it later. */
  check(): void {
    if (!this.ownThread || !this.now || !this.cfg || this.cfg.rt_priority === 0) return;
    const cur = this.addon.threadScheduling(this.now.tid);
    if (cur.xcpu === this.xcpuSeen) return;
    this.xcpuSeen = cur.xcpu;
    this.now = cur;
    this.suspensions++;
    const cfg = this.cfg;
    this.suspendedUntil = Date.now() + RESTORE_MS;
    this.log.error(
      `HA thread (tid ${cur.tid}) ran ${cfg.rlimit_rttime / 2000} ms on the CPU without sleeping (half of scheduling.rlimit_rttime): put back to normal scheduling so it cannot lock a core (${cur.policy}, nice ${cur.nice}); real-time restored in ${RESTORE_MS / 1000} s`,
      { tid: cur.tid, suspensions: this.suspensions, rlimit_rttime: cfg.rlimit_rttime },
    );
    clearTimeout(this.restoreTimer);
    this.restoreTimer = setTimeout(() => {
      this.restoreTimer = undefined;
      this.suspendedUntil = 0;
      // setThreadScheduling sets RLIMIT_RTTIME again: the kernel raised its soft half by 1 s.
      if (this.cfg && this.cfg.rt_priority > 0) this.set(this.cfg);
    }, RESTORE_MS);
    this.restoreTimer.unref();
  }

  stop(): void {
    clearTimeout(this.restoreTimer);
  }

  private describe(): string {
    const n = this.now;
    const cfg = this.cfg;
    if (!n || !cfg) return 'not set';
    const rt = n.policy === 'SCHED_RR' ? `SCHED_RR ${n.rtPriority}, RLIMIT_RTTIME ${n.rttimeHard < 0 ? 'unlimited' : `${n.rttimeHard / 1000} ms`}` : n.policy;
    return `${rt}, nice ${n.nice}`;
  }

  /** status features.ha_thread. */
  featureStatus(): FeatureStatus | undefined {
    if (!this.ownThread) return { state: 'running', detail: 'on the main thread: scheduling not applied' };
    if (!this.now) return undefined;
    if (this.suspendedUntil > 0) return { state: 'degraded', detail: `real-time suspended by RLIMIT_RTTIME until ${new Date(this.suspendedUntil).toISOString()}: ${this.describe()} (tid ${this.now.tid})` };
    if (this.refused.length > 0) return { state: 'degraded', detail: `${this.refused.join('; ')}: ${this.describe()} (tid ${this.now.tid})` };
    return { state: 'running', detail: `${this.describe()} (tid ${this.now.tid})` };
  }

  /** Counter group ha_thread (metrics): the policy as numbers. */
  counters(): Record<string, number> {
    const n = this.now;
    return {
      tid: n?.tid ?? 0,
      realtime: n?.policy === 'SCHED_RR' && this.suspendedUntil === 0 ? 1 : 0,
      rt_priority: n?.rtPriority ?? 0,
      nice: n?.nice ?? 0,
      refused: this.refused.length,
      rt_suspended: this.suspensions,
    };
  }
}
