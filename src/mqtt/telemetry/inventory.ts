import { createRequire } from 'node:module';
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';

export type Inventory = Record<string, unknown>;

// Runs in a worker thread: systeminformation's osInfo()/system()/cpu() run execSync and spawn
// processes on Linux (DESIGN.md pitfalls), which must never stall the loop that sends adverts.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const si = require(workerData.module);
Promise.all([si.system(), si.osInfo(), si.cpu(), si.mem()]).then(([system, os, cpu, mem]) => {
  parentPort.postMessage({ ok: true, inventory: {
    system: { manufacturer: system.manufacturer, model: system.model, serial: system.serial, raspberry: system.raspberry },
    os: { distro: os.distro, release: os.release, kernel: os.kernel, arch: os.arch, hostname: os.hostname },
    cpu: { manufacturer: cpu.manufacturer, brand: cpu.brand, cores: cpu.cores, physical_cores: cpu.physicalCores, speed_ghz: cpu.speed },
    memory: { total_bytes: mem.total },
  } });
}, (err) => parentPort.postMessage({ ok: false, error: String(err && err.message || err) }));
`;

/** What node:os knows, used when systeminformation cannot be loaded next to the bundle. */
export function basicInventory(): Inventory {
  const cpu = cpus();
  return {
    os: { kernel: release(), arch: arch(), hostname: hostname() },
    cpu: { brand: cpu[0]?.model, cores: cpu.length },
    memory: { total_bytes: totalmem() },
    source: 'node:os',
  };
}

/**
 * The box's slow-changing inventory, gathered once at start-up by systeminformation in a worker
 * thread. Never rejects: on any failure (module not shipped, timeout) the node:os inventory.
 */
export function collectInventory(timeoutMs = 30_000): Promise<Inventory> {
  let modulePath: string;
  try {
    modulePath = createRequire(import.meta.url).resolve(['systeminformation'][0]!);
  } catch {
    return Promise.resolve(basicInventory());
  }
  return new Promise((resolve) => {
    let settled = false;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: modulePath }, resourceLimits: { maxOldGenerationSizeMb: 32 } });
    worker.unref();
    const finish = (inv: Inventory) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(inv);
    };
    const timer = setTimeout(() => finish(basicInventory()), timeoutMs);
    timer.unref();
    worker.on('message', (m: { ok: boolean; inventory?: Inventory }) => finish(m.ok && m.inventory ? { ...m.inventory, source: 'systeminformation' } : basicInventory()));
    worker.on('error', () => finish(basicInventory()));
    worker.on('exit', () => finish(basicInventory()));
  });
}
