// Validating a configuration takes tens of milliseconds (a 64 KiB one over 100 ms on a busy
// 2-core box): JSON with positions, the schema, the semantic rules. On the main thread that is
// time taken from VRRP adverts and serial heartbeats, so a reload and a config push validate in a
// worker thread (dist/config-worker.js, beside the bundle) and hand back plain data. In the source
// tree (unit tests) there is no worker file and the task runs inline.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runConfigTask, type ConfigTask, type ConfigTaskResult } from './config-task';
import type { ConfigResult } from './load';

const WORKER_FILE = (() => {
  try {
    return fileURLToPath(new URL('./config-worker.js', import.meta.url));
  } catch {
    return undefined;
  }
})();

const TIMEOUT_MS = 30_000;

export function configWorkerAvailable(): boolean {
  return WORKER_FILE !== undefined && existsSync(WORKER_FILE);
}

export async function runConfigTaskOffThread<T extends ConfigTask>(task: T): Promise<ConfigTaskResult<T>> {
  if (!configWorkerAvailable()) return runConfigTask(task);
  return new Promise((resolve, reject) => {
    let settled = false;
    // A pushed config is bounded before it gets here; the heap limit bounds a bug too.
    const worker = new Worker(WORKER_FILE!, { workerData: task, resourceLimits: { maxOldGenerationSizeMb: 96 } });
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`configuration worker gave no answer in ${TIMEOUT_MS / 1000} s`))), TIMEOUT_MS);
    worker.on('message', (m: { ok: true; result: ConfigTaskResult<T> } | { ok: false; error: string }) =>
      finish(() => (m.ok ? resolve(m.result) : reject(new Error(m.error)))),
    );
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`configuration worker exited (${code}) without an answer`))));
  });
}

/** loadConfigOnBox in a worker: the daemon's reload loader (SIGHUP, MQTT reload and config push). */
export async function loadConfigOnBoxOffThread(path: string): Promise<ConfigResult> {
  try {
    return await runConfigTaskOffThread({ kind: 'load', path });
  } catch (err) {
    return { ok: false, errors: [{ path: '', message: `cannot validate the configuration: ${(err as Error).message}` }], warnings: [] };
  }
}
