// The phases of a start, for bench/start.mjs --phases: with TWINVIP_START_MARKS=1 each call writes
// `start-mark NAME EPOCH_MS THREAD` to stderr at once (writeSync: the line is not queued behind
// the thread's event loop, and a worker's line does not go through the main thread). Off by
// default: one environment lookup per mark.
import { writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const ON = process.env.TWINVIP_START_MARKS === '1';

/** Marks phase `name` now (epoch ms, sub-ms precision). */
export function startMark(name: string, at = performance.timeOrigin + performance.now()): void {
  if (!ON) return;
  try {
    writeSync(2, `start-mark ${name} ${at.toFixed(1)} ${isMainThread ? 'main' : 'ha'}\n`);
  } catch {
    // stderr closed: nothing to mark
  }
}

/** Node's own start of this thread: its time origin and the end of its bootstrap. */
export function markNodeBootstrap(prefix: string): void {
  if (!ON) return;
  const t = performance.nodeTiming;
  // A worker shares the process's time origin; its nodeTiming is its own thread's.
  if (isMainThread) startMark(`${prefix}-origin`, performance.timeOrigin);
  startMark(`${prefix}-v8-start`, performance.timeOrigin + t.v8Start);
  startMark(`${prefix}-environment`, performance.timeOrigin + t.environment);
  startMark(`${prefix}-bootstrapped`, performance.timeOrigin + t.bootstrapComplete);
}
