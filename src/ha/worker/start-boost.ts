// Real-time priority for the start-up (issue 21): from `twinvip run`'s first instruction until the
// HA thread has its instances in BACKUP, the two threads on that path run SCHED_RR, so a restarted
// box re-joins its pair in about its own CPU time (≈ 0.2 s of CPU on two threads) whatever else the
// box is running, not 3-5 times that behind the other processes (bench/README.md "start": spawn ->
// BACKUP 665 -> 155 ms, medians, load 17). Set with SCHED_RESET_ON_FORK (the addon's
// setThreadScheduling): threads and processes created meanwhile (libuv's pool, nginx, scripts)
// start at normal scheduling, except the HA worker's thread (withInheritedBoost). Then:
//   main thread  boosted at `run`'s start (cli.ts), back to normal once it has sent the HA side its
//                configuration (host.ts), or when the start ends any other way (run.ts);
//   HA thread    boosts itself at its first instruction (entry.ts, before its modules load), keeps
//                it until its configured scheduling (scheduling.ts) replaces it at the end of its
//                start, or drops it at once when the configuration says rt_priority 0.
// No RLIMIT_RTTIME safety net during the boost (the start-up's module loading is a burst, and it
// ends); refused (no CAP_SYS_NICE), it is silently not there: the HA side's own scheduling reports
// refusals. TWINVIP_START_BOOST=0 turns it off (benchmarks).
// The shipped unit starts the process real-time already (CPUSchedulingPolicy=rr, reset on fork),
// so the exec and Node's own bootstrap, before any instruction of ours, are boosted too: that
// policy IS the boost and ends with it; any command other than `run`, or `run` with the boost
// off, drops it at its first instruction (dropInheritedRealtime), so nothing stays real-time that
// was not meant to (`twinvip cleanup` as the unit's ExecStopPost=, for one).
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { statNumber } from '../../lib/proc-stat';
import { loadAddon } from '../../net/native';

/** scheduling.rt_priority's default (src/config/schema/scheduling.ts). */
export const START_RT_PRIORITY = 10;

let boosted: { nice: number } | undefined;

/** The scheduling policy in a /proc/PID/stat text (field 41; 0 = SCHED_OTHER), or undefined. */
export function policyFromStat(stat: string): number | undefined {
  const policy = statNumber(stat, 41);
  return policy !== undefined && Number.isInteger(policy) ? policy : undefined;
}

/**
 * Back to SCHED_OTHER if this thread was started real-time (the unit's CPUSchedulingPolicy) and
 * is not to keep it. A read of /proc/thread-self/stat; the addon only when there is something to
 * drop.
 */
export function dropInheritedRealtime(): void {
  let policy: number | undefined;
  try {
    policy = policyFromStat(readFileSync('/proc/thread-self/stat', 'utf8'));
  } catch {
    return;
  }
  if (!policy) return;
  try {
    loadAddon().setThreadScheduling({ rtPriority: 0 });
  } catch {
    // no addon (a source tree without `make addon`): nothing we can do, and nothing to fail for
  }
}

/** This thread at SCHED_RR START_RT_PRIORITY until dropStartBoost(); false when refused or off. */
export function startBoost(env: NodeJS.ProcessEnv = process.env): boolean {
  if (boosted) return true;
  if (env.TWINVIP_START_BOOST === '0') {
    dropInheritedRealtime();
    return false;
  }
  try {
    const nice = getPriority(0);
    const r = loadAddon().setThreadScheduling({ rtPriority: START_RT_PRIORITY });
    if (r.errors.rt || r.policy !== 'SCHED_RR') {
      dropInheritedRealtime();
      return false;
    }
    boosted = { nice };
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `create` (the HA worker's `new Worker()`, whose thread is created inside it) with the boost
 * inheritable, so the worker's own Node start runs boosted too (its thread until its first
 * instruction: 230 ms of waiting behind other processes at load 17, bench/README.md "start"); the
 * worker drops it at the end of its start (entry.ts, scheduling.ts). Without a boost: just `create`.
 */
export function withInheritedBoost<T>(create: () => T): T {
  if (!boosted) return create();
  let inherited = false;
  try {
    inherited = loadAddon().setThreadScheduling({ rtPriority: START_RT_PRIORITY, inherit: true }).policy === 'SCHED_RR';
  } catch {
    // the boost stays as it was: the worker starts at normal scheduling
  }
  try {
    return create();
  } finally {
    if (inherited) {
      try {
        loadAddon().setThreadScheduling({ rtPriority: START_RT_PRIORITY });
      } catch {
        // cannot happen after the same call succeeded; never fail the start for it
      }
    }
  }
}

/** Back to normal scheduling at the nice value from before (no-op without a boost). */
export function dropStartBoost(): void {
  const b = boosted;
  boosted = undefined;
  if (!b) return;
  try {
    loadAddon().setThreadScheduling({ rtPriority: 0, nice: b.nice });
  } catch {
    // the addon loaded for the boost: nothing to do if it fails now
  }
}

/** Whether this thread runs boosted (tests). */
export function startBoosted(): boolean {
  return boosted !== undefined;
}
