// The gate of the HA path: notices a stall (src/heartbeat/stall.ts has the rules) and, until the
// twin's state is known, holds what the HA path would send and its timers. Wired into the VRRP
// extension (its runner's clock and I/O port, and every received packet), the heartbeat extension
// (arbiter timers, accepted frames) and the serial link (heartbeat and release frames).
//
//   beat ── every callback of the HA path, first thing ──> StallWatch ──> stall? check starts:
//     adverts, gratuitous ARP/NA, heartbeat and release frames dropped; runner and arbiter timers
//     held; received adverts and fresh frames collected as evidence
//   verdict (fresh frame, or settle time) ──> step down the MASTER instances the twin took over
//     ('stall' demotion set and cleared: priority 0 advert, VIPs removed, then plain VRRP), alarm
//     'ha-stall' with the stall's length, held timers run.

import { StallWatch, type StallCheck, type StallVerdict, type StallWatchOptions } from '../heartbeat/stall';
import type { EventBus } from '../daemon/events';
import type { SubsystemLogger } from '../log';
import type { RunnerClock, VrrpIo, VrrpRunner } from './vrrp/runner';
import type { InstancePlan } from './vrrp/instance-plan';

export interface StallGateCounters {
  /** Stalls noticed (each one checked once). */
  stalls: number;
  /** The longest and the latest stall, ms. */
  stall_max_ms: number;
  stall_last_ms: number;
  /** MASTER instances stepped down because the twin had taken over during a stall. */
  stall_stepdowns: number;
  /** What the gate held back while a check ran. */
  held_adverts: number;
  held_announces: number;
  held_frames: number;
  held_timers: number;
}

export interface StallGateDeps {
  log: SubsystemLogger;
  bus: EventBus;
  runner: () => VrrpRunner | undefined;
  now?: () => number;
}

interface Held {
  fn: () => void;
  cancelled: boolean;
}

export class StallGate {
  readonly counters: StallGateCounters = {
    stalls: 0, stall_max_ms: 0, stall_last_ms: 0, stall_stepdowns: 0, held_adverts: 0, held_announces: 0, held_frames: 0, held_timers: 0,
  };
  private readonly watch: StallWatch;
  private readonly now: () => number;
  private held: Held[] = [];
  private watchTimer: NodeJS.Timeout | undefined;
  private started = false;
  /** Another timer of the HA path that beats every this many ms (coveredBy). */
  private cover: number | undefined;
  private decideTimer: NodeJS.Timeout | undefined;
  private deciding = false;

  constructor(private opts: StallWatchOptions, private readonly deps: StallGateDeps) {
    this.now = deps.now ?? (() => performance.now());
    this.watch = new StallWatch(opts, this.now());
  }

  /**
   * Starts the watch once the whole HA path runs (HaSide, after VRRP and the heartbeat started):
   * the start-up itself is no stall (loading the serial port's modules took 120-140 ms on the HA
   * thread at load 10, after the runner's first timers), so beats before it notice nothing. Then a
   * steady beat, so a quiet HA path (a BACKUP without serial) is not read as a stall.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.watch.restart(this.now());
    this.armWatch();
  }

  /** Stops the watch; a running check ends (everything passes again, held timers are dropped). */
  stop(): void {
    this.watch.restart(this.now());
    this.started = false;
    if (this.watchTimer) clearInterval(this.watchTimer);
    if (this.decideTimer) clearTimeout(this.decideTimer);
    this.watchTimer = this.decideTimer = undefined;
    this.held = [];
  }

  /** A reload may change the advert intervals or the serial settings. */
  configure(opts: StallWatchOptions): void {
    this.opts = opts;
    this.watch.configure(opts);
    if (this.started) this.armWatch();
  }

  /**
   * Another timer of the HA path beats the gate every `periodMs` (the serial heartbeat's review,
   * every serial period); undefined when it stops. While one beats at least as often as the
   * watch would, the watch's own timer is not run: the same steady beat with one wake-up per
   * period instead of two (issue 22: the idle HA thread's wake-ups).
   */
  coveredBy(periodMs: number | undefined): void {
    this.cover = periodMs;
    if (this.started) this.armWatch();
  }

  private armWatch(): void {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
    const period = watchPeriodMs(this.opts.thresholdMs);
    if (this.cover !== undefined && this.cover <= period) return;
    this.watchTimer = setInterval(() => this.beat(), period);
  }

  get thresholdMs(): number {
    return this.watch.thresholdMs;
  }

  /** Whether a stall check runs: the HA path sends nothing. */
  get holding(): boolean {
    return this.watch.checking;
  }

  /** First thing in every callback of the HA path. True when it may send. */
  beat(): boolean {
    if (!this.started) return !this.watch.checking; // not started, or stopped: no stall to notice
    const s = this.watch.beat(this.now());
    if (s) this.onStall(s);
    return !this.watch.checking;
  }

  /** `fn` as a callback of the HA path: it beats first, and waits while a check runs. */
  guard(fn: () => void): () => void {
    return () => {
      if (this.beat()) fn();
      else this.hold({ fn, cancelled: false });
    };
  }

  /** The runner's clock with its timers guarded (held during a check; a cancel still cancels). */
  clock(inner: RunnerClock): RunnerClock {
    return {
      now: () => inner.now(),
      schedule: (at, fn) => {
        const h: Held = { fn, cancelled: false };
        const cancel = inner.schedule(at, () => {
          if (this.beat()) fn();
          else this.hold(h);
        });
        return () => {
          h.cancelled = true;
          cancel();
        };
      },
    };
  }

  /** The runner's I/O port: no advert and no gratuitous ARP/NA leave during a check. */
  io(inner: VrrpIo): VrrpIo {
    return {
      send: (plan, destination, bytes) => {
        if (this.beat()) inner.send(plan, destination, bytes);
        else this.counters.held_adverts++;
      },
      setVips: (plan, present) => inner.setVips(plan, present),
      announce: (plan, count) => {
        if (this.beat()) inner.announce(plan, count);
        else this.counters.held_announces++;
      },
    };
  }

  /** For the serial link: true while heartbeat and release frames must not be sent (counted). */
  holdFrame(): boolean {
    if (this.beat()) return false;
    this.counters.held_frames++;
    return true;
  }

  /**
   * An accepted heartbeat of the twin; `masters`: our instances it claims MASTER for; `sentAt`:
   * when the twin sent it, on our clock (frames that waited in the tty tell an old state).
   */
  serialFrame(masters: string[], sentAt: number): void {
    this.beat();
    if (this.watch.serialFrame(masters, sentAt)) this.decideSoon();
  }

  /** An accepted advert of the twin (after the runner took it). */
  advert(plan: InstancePlan, priority: number): void {
    this.watch.advert(plan.name, priority);
  }

  // ---------------------------------------------------------------------------------------

  private hold(h: Held): void {
    this.counters.held_timers++;
    this.held.push(h);
  }

  private onStall(s: StallCheck): void {
    this.counters.stalls++;
    this.counters.stall_last_ms = Math.round(s.stalledMs);
    this.counters.stall_max_ms = Math.max(this.counters.stall_max_ms, this.counters.stall_last_ms);
    const masters = this.localMasters();
    this.deps.log.warn(
      `HA path stalled for ${Math.round(s.stalledMs)} ms (the twin may take over after ${Math.round(this.watch.thresholdMs)} ms): ` +
        `holding adverts and serial frames until the twin's state is known` + (masters.length ? ` (MASTER of ${masters.join(', ')})` : ''),
    );
    const at = this.watch.deadline();
    if (at !== null) this.armDecide(at);
  }

  /**
   * The check's deadline timer. Node dates a timer from the event loop's cached time, which a
   * stall leaves behind (the thread waited for a CPU between the loop's clock read and this
   * callback), so the timer may fire before `now` reaches `at`: decide() then arms it again.
   */
  private armDecide(at: number): void {
    if (this.decideTimer) clearTimeout(this.decideTimer);
    this.decideTimer = setTimeout(() => {
      this.decideTimer = undefined;
      this.decide();
    }, Math.max(0, at - this.now()) + 1);
  }

  private decideSoon(): void {
    if (this.deciding) return;
    this.deciding = true;
    queueMicrotask(() => {
      this.deciding = false;
      this.decide();
    });
  }

  private decide(): void {
    const now = this.now();
    if (!this.watch.ready(now)) {
      // Not yet (a timer that fired early, see armDecide): wait again. A check left without a
      // timer would hold the adverts, the serial frames and the runner's timers for good.
      const at = this.watch.deadline();
      if (at !== null) this.armDecide(at);
      return;
    }
    if (this.decideTimer) clearTimeout(this.decideTimer);
    this.decideTimer = undefined;
    const verdict = this.watch.decide(now, this.localMasters());
    if (!verdict) return;
    this.act(verdict);
    const held = this.held;
    this.held = [];
    for (const h of held) if (!h.cancelled) h.fn();
  }

  private act(v: StallVerdict): void {
    const ms = Math.round(v.stalledMs);
    const basis =
      v.evidence === 'serial' ? "the twin's heartbeats" : v.evidence === 'adverts' ? "the twin's adverts read after waking" : 'no news from the twin';
    const runner = this.deps.runner();
    if (v.stepDown.length > 0 && runner) {
      this.counters.stall_stepdowns += v.stepDown.length;
      for (const name of v.stepDown) {
        this.deps.log.forInstance(name).warn(`stalled ${ms} ms and the twin took over meanwhile (${basis}, checked in ${Math.round(v.checkMs)} ms): stepping down at once`);
        runner.deliver(name, { type: 'demote', reason: 'stall', active: true });
        // Held only for the step-down: from here on plain VRRP (and preempt) decides.
        runner.deliver(name, { type: 'demote', reason: 'stall', active: false });
      }
    } else {
      this.deps.log.info(`stall of ${ms} ms checked in ${Math.round(v.checkMs)} ms: the twin has not taken over (${basis}); carrying on`);
    }
    this.deps.bus.emit('alarm', {
      id: 'ha-stall',
      active: true,
      severity: v.stepDown.length > 0 ? 'critical' : 'warning',
      message:
        `HA path stalled for ${ms} ms` +
        (v.stepDown.length > 0 ? `; the twin took over meanwhile, stepped down: ${v.stepDown.join(', ')}` : '; the twin had not taken over'),
      durationMs: ms,
      at: Date.now(),
    });
  }

  private localMasters(): string[] {
    return (this.deps.runner()?.views() ?? []).filter((v) => v.snapshot.state === 'MASTER').map((v) => v.plan.name);
  }
}

function watchPeriodMs(thresholdMs: number): number {
  return Math.min(100, Math.max(10, Math.floor(thresholdMs / 4)));
}
