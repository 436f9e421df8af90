/**
 * The systemd watchdog ping, driven by the event loop's own health (sd_watchdog_enabled(3)
 * recommends pinging at half of WATCHDOG_USEC). A ping is only sent from inside the loop, after a
 * full turn of it (timer, then I/O poll, then setImmediate): a loop blocked by synchronous work
 * sends nothing, systemd sees WatchdogSec pass without WATCHDOG=1 and restarts the service
 * (SIGABRT, then Restart=always). A `health` check lets the daemon add conditions of its own
 * (e.g. advert timers running late); while it reports a reason, pings stop too.
 */
export interface WatchdogOptions {
  /** Ping period in ms (half of WATCHDOG_USEC). */
  intervalMs: number;
  ping(): void;
  /** Returns why the daemon is unhealthy (pings are withheld), or undefined when healthy. */
  health?: () => string | undefined;
  /** Told once when pings stop for a health reason, and once when they resume. */
  onHealthChange?: (reason: string | undefined) => void;
  /** Monotonic ms; injected for tests. */
  now?: () => number;
}

export interface Watchdog {
  stop(): void;
  /** Worst lateness of the ping timer seen so far (event-loop stall), ms. */
  readonly maxLagMs: number;
  readonly pings: number;
}

export function startWatchdog(opts: WatchdogOptions): Watchdog {
  const now = opts.now ?? (() => performance.now());
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let due = now() + opts.intervalMs;
  let maxLagMs = 0;
  let pings = 0;
  let unhealthy: string | undefined;

  const beat = () => {
    immediate = undefined;
    if (stopped) return;
    const reason = opts.health?.();
    if (reason !== unhealthy) {
      unhealthy = reason;
      opts.onHealthChange?.(reason);
    }
    if (reason === undefined) {
      pings++;
      opts.ping();
    }
  };

  const tick = () => {
    if (stopped) return;
    const t = now();
    maxLagMs = Math.max(maxLagMs, t - due);
    // setImmediate runs after the loop's poll phase: the ping proves the loop turns, not only
    // that this one timer fired.
    immediate = setImmediate(beat);
    // Fixed schedule from "due", not from now: a late tick must not push every later ping back.
    due = Math.max(due + opts.intervalMs, t + 1);
    timer = setTimeout(tick, due - t);
    // The watchdog alone must not keep a stopped daemon alive.
    timer.unref();
  };

  // First ping right away: systemd starts the watchdog clock at READY=1.
  immediate = setImmediate(beat);
  timer = setTimeout(tick, opts.intervalMs);
  timer.unref();

  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
    get maxLagMs() {
      return maxLagMs;
    },
    get pings() {
      return pings;
    },
  };
}
