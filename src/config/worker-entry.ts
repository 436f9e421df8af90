// Entry of dist/config-worker.js: one configuration task per worker (off-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { runConfigTask, type ConfigTask } from './config-task';

runConfigTask(workerData as ConfigTask).then(
  (result) => parentPort?.postMessage({ ok: true, result }),
  (err: unknown) => parentPort?.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
);
