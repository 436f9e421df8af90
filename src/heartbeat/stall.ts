// Self-protection after a stall of the HA path (a frozen process, SIGSTOP, a starved CPU, a long
// task on the thread that runs VRRP and the serial heartbeat). I/O-free: every input carries `now`
// (ms, monotonic); the shell (src/ha/stall-gate.ts) calls beat() first in every callback of the
// HA path (timers, received adverts, serial frames) and follows the verdict.
//
// A stall is a gap between two beats longer than `thresholdMs`: the earliest time after which the
// twin may have taken the VIPs (it declares us dead after its dead time without our adverts and
// frames). A MASTER that wakes from such a gap must not go on serving blindly: its advert timer
// fires first and its adverts outrank the twin, which would step down again — a second handover
// for the LAN, and a dual-master time as long as the stall. So on waking the shell holds every
// output of the HA path (adverts, gratuitous ARP/NA, serial frames) and its timers, and asks:
//   - with the serial heartbeat: every heartbeat read during the check was sent after our stall
//     began (what came before, we read before stalling), so a MASTER claim in any of them for an
//     instance we hold means the twin took it during the stall: step down at once. "Not taken"
//     needs the twin's state now, and the date the shell puts on a frame (its delay behind the
//     promptest heartbeat) is only an estimate on a loaded machine: a frame sent just before the
//     twin's takeover can look fresh. So without a claim the check waits its settle time (three
//     periods, so frames sent after the takeover arrive) and carries on only if a heartbeat dated
//     after waking came and no frame claimed MASTER;
//   - without it (or when no fresh frame comes within `settleMs`): adverts of the twin read after
//     waking (they waited in the socket; only a MASTER advertises) with a priority above 0.
// Verdict: every local MASTER instance the twin has taken over steps down at once; the others
// carry on. The shell then lets the held outputs and timers go.

export interface StallWatchOptions {
  /** A gap between beats longer than this is a stall (see stallThresholdMs). */
  thresholdMs: number;
  /** How long a check waits for the twin's news after waking before deciding on what it has. */
  settleMs: number;
  /** A serial heartbeat is configured: a fresh frame decides the check at once. */
  serial: boolean;
  /**
   * How long after the last beat before a stall our next advert may still go out before the
   * twin's Master_Down timer runs out (see stallAdvertBudgetMs). A check never holds the adverts
   * past it: with short advert intervals a hold of `settleMs` after a stall just over the
   * threshold would itself make the twin take over by plain VRRP (seen in bench/ha-load: adverts
   * every 100 ms, a 93 ms stall, 300 ms held, the twin MASTER after 461 ms without an advert, then
   * back) — the double handover the check exists to avoid. Undefined: no bound.
   */
  advertBudgetMs?: number;
  /** The shortest check (reads of what waited in the sockets and the tty), when the budget is short. */
  minSettleMs?: number;
}

export interface StallCheck {
  /** When the stall was noticed (the beat that ended the gap). */
  wokeAt: number;
  /** The gap between the last beat before the stall and the one that noticed it. */
  stalledMs: number;
}

export interface StallVerdict extends StallCheck {
  /** Local MASTER instances the twin has taken over: step them down now. */
  stepDown: string[];
  /** What the verdict rests on. */
  evidence: 'serial' | 'adverts' | 'none';
  /** Time from waking to the verdict. */
  checkMs: number;
}

export class StallWatch {
  private last: number;
  private check: (StallCheck & { claims: Set<string>; fresh: boolean; advertMasters: Set<string> }) | null = null;
  private readonly opts: StallWatchOptions;

  constructor(opts: StallWatchOptions, now: number) {
    if (!(opts.thresholdMs > 0)) throw new Error(`stall threshold must be positive, got ${opts.thresholdMs}`);
    this.opts = { ...opts };
    this.last = now;
  }

  /** Beats start now (the HA path starts running), no check pending. */
  restart(now: number): void {
    this.last = now;
    this.check = null;
  }

  /** A new configuration (reload): thresholds apply from the next beat. */
  configure(opts: StallWatchOptions): void {
    if (!(opts.thresholdMs > 0)) throw new Error(`stall threshold must be positive, got ${opts.thresholdMs}`);
    Object.assign(this.opts, opts);
  }

  get thresholdMs(): number {
    return this.opts.thresholdMs;
  }

  /** Whether a check is running (outputs and timers of the HA path are held). */
  get checking(): boolean {
    return this.check !== null;
  }

  /**
   * The HA path runs now. Returns the stall when this beat ends one (a check starts), else null.
   * Beats during a check do not start another one.
   */
  beat(now: number): StallCheck | null {
    const gap = now - this.last;
    this.last = Math.max(this.last, now);
    if (this.check !== null || gap <= this.opts.thresholdMs) return null;
    this.check = { wokeAt: now, stalledMs: gap, claims: new Set(), fresh: false, advertMasters: new Set() };
    return { wokeAt: now, stalledMs: gap };
  }

  /**
   * An accepted heartbeat of the twin during a check; `masters` are the local instance names it
   * claims MASTER for (priority above 0, not releasing); `sentAt` when the twin sent it (our
   * clock, an estimate). Returns true when the check can be decided now: a MASTER claim.
   */
  serialFrame(masters: Iterable<string>, sentAt: number): boolean {
    const c = this.check;
    if (!c) return false;
    for (const m of masters) c.claims.add(m);
    if (sentAt >= c.wokeAt) c.fresh = true;
    return c.claims.size > 0;
  }

  /** An accepted advert of the twin for a local instance during a check. */
  advert(instance: string, priority: number): void {
    if (this.check && priority > 0) this.check.advertMasters.add(instance);
  }

  /**
   * When the running check must be decided at the latest (absolute ms), or null: `settleMs` after
   * waking, shortened to what is left of the advert budget after the stall (never below
   * `minSettleMs`).
   */
  deadline(): number | null {
    const c = this.check;
    if (!c) return null;
    let settle = this.opts.settleMs;
    if (this.opts.advertBudgetMs !== undefined) {
      const left = this.opts.advertBudgetMs - c.stalledMs;
      settle = Math.min(settle, Math.max(left, Math.min(this.opts.minSettleMs ?? 0, settle)));
    }
    return c.wokeAt + settle;
  }

  /** Whether the running check has what it waits for, or its time is up. */
  ready(now: number): boolean {
    if (!this.check) return false;
    if (this.opts.serial && this.check.claims.size > 0) return true;
    return now >= this.deadline()!;
  }

  /** Ends the check: which of the local MASTER instances step down, and why. */
  decide(now: number, localMasters: Iterable<string>): StallVerdict | null {
    const c = this.check;
    if (!c) return null;
    this.check = null;
    this.last = Math.max(this.last, now);
    // A claim over serial, or a fresh heartbeat without one, is the twin's word; queued adverts
    // only say it advertised at some point of the stall, so they decide only without that word.
    const bySerial = c.claims.size > 0 || c.fresh;
    const taken = bySerial ? c.claims : c.advertMasters;
    const evidence = bySerial ? 'serial' : c.advertMasters.size > 0 ? 'adverts' : 'none';
    return {
      wokeAt: c.wokeAt,
      stalledMs: c.stalledMs,
      stepDown: [...localMasters].filter((n) => taken.has(n)),
      evidence,
      checkMs: now - c.wokeAt,
    };
  }
}

export interface StallThresholdInputs {
  /** The smallest advert interval among the instances (cs). */
  advertIntervalCs: number;
  /** The serial heartbeat, when configured. */
  serial?:
    | {
        periodMs: number;
        deadPeriods: number;
        ethernetMarginMs: number;
        /** With the twin probe: serial silence after which the twin probes (after_ms) plus its round (tries x interval_ms). */
        probeTakeoverMs?: number | undefined;
      }
    | undefined;
}

/**
 * The silence after which the twin may have taken over, measured between our beats (our last
 * advert may be one interval older than our last beat, our last frame one period older):
 * - pair mode: the twin needs both channels silent — serial dead time and one advert interval
 *   plus the margin without adverts; the earliest is max(dead - period, margin); with the twin
 *   probe it takes over sooner, once a probe round after after_ms of serial silence goes
 *   unanswered (a stalled daemon answers nothing): after_ms + the round - period, at least
 *   MIN_STALL_MS;
 * - plain VRRP: Master_Down_Interval = 3 x interval + skew; the earliest is 2 x interval.
 */
/** Below this a gap between beats is scheduling noise, not a stall the twin can act on. */
export const MIN_STALL_MS = 50;

export function stallThresholdMs(i: StallThresholdInputs): number {
  const adv = i.advertIntervalCs * 10;
  if (i.serial) {
    const dead = Math.max(i.serial.periodMs * (i.serial.deadPeriods - 1), i.serial.ethernetMarginMs);
    if (i.serial.probeTakeoverMs === undefined) return dead;
    return Math.min(dead, Math.max(MIN_STALL_MS, i.serial.probeTakeoverMs - i.serial.periodMs));
  }
  return 2 * adv;
}

/** How long a check waits for news: three serial periods for a fresh frame, or 100 ms of reads. */
export function stallSettleMs(i: StallThresholdInputs): number {
  return i.serial ? 3 * i.serial.periodMs : 100;
}

/** Margin of the advert budget: our advert's way out, the LAN and the twin's reading of it. */
export const ADVERT_BUDGET_MARGIN_MS = 20;

/**
 * The advert budget of a check (StallWatchOptions.advertBudgetMs): the twin's Master_Down_Interval
 * is at least 3 x the advert interval after our last advert (its skew only adds), and our last
 * advert may be one interval older than our last beat, so the next one must leave within
 * 2 x interval of that beat, less a margin.
 */
export function stallAdvertBudgetMs(i: StallThresholdInputs): number {
  return 2 * i.advertIntervalCs * 10 - ADVERT_BUDGET_MARGIN_MS;
}

/** The shortest check: one serial period (a fresh frame's time), or the plain settle. */
export function stallMinSettleMs(i: StallThresholdInputs): number {
  return i.serial ? i.serial.periodMs : 100;
}
