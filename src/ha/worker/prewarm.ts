// The HA thread's worker (dist/ha-worker.js) is started by the CLI as soon as it knows the command
// is `run`, before the daemon's own modules and its configuration are loaded: loading the
// worker's bundle in a fresh thread is the longest step between `twinvip run` and the instances
// in BACKUP (bench/start.mjs), and it needs nothing from the configuration. The worker waits for
// its 'start' message (side.ts); HaExtension takes it (takeHaWorker) instead of starting one.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { startMark } from '../../lib/start-marks';

import { withInheritedBoost } from './start-boost';

export { startBoost } from './start-boost';

/** dist/ha-worker.js beside the bundle; undefined where there is none (the source tree). */
export const HA_WORKER_FILE = (() => {
  try {
    const file = fileURLToPath(new URL('./ha-worker.js', import.meta.url));
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
})();

let warm: { worker: Worker; dead: boolean } | undefined;

/** Starts the worker now, if the HA path will run in one (no-op otherwise, or if started already). */
export function prewarmHaWorker(env: NodeJS.ProcessEnv = process.env): void {
  if (warm || !HA_WORKER_FILE || env.TWINVIP_HA_THREAD === 'main') return;
  startMark('main-worker-spawn');
  const w = { worker: withInheritedBoost(() => new Worker(HA_WORKER_FILE!)), dead: false };
  startMark('main-worker-spawned');
  // Unreferenced until taken: a run that refuses its configuration exits without waiting for it.
  w.worker.unref();
  // A worker that failed before it was taken is not used: HaExtension starts its own, whose
  // failure it reports with the daemon's start-up error.
  const died = () => {
    w.dead = true;
  };
  w.worker.on('error', died);
  w.worker.on('exit', died);
  warm = w;
}

/** The prewarmed worker, alive and referenced again, or undefined (none, or it died). */
export function takeHaWorker(): Worker | undefined {
  const w = warm;
  warm = undefined;
  if (!w) return undefined;
  if (w.dead) return undefined;
  w.worker.removeAllListeners('error');
  w.worker.removeAllListeners('exit');
  w.worker.ref();
  return w.worker;
}
