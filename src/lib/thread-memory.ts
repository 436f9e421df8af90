// Where a thread's memory is (issue 22's breakdown, the `memory` control command): its V8 isolate's
// heap as V8 counts it. process.memoryUsage() in a worker thread gives that thread's isolate
// (heapTotal, heapUsed, external, arrayBuffers) and the whole process's rss; the heap spaces
// (v8.getHeapSpaceStatistics) say which part of the heap holds it.
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

export interface ThreadMemory {
  heap_total_mb: number;
  heap_used_mb: number;
  external_mb: number;
  array_buffers_mb: number;
  /** Per V8 heap space: size held from the OS / used, MB. */
  spaces: Record<string, { size_mb: number; used_mb: number }>;
  /** The thread's live libuv handles and requests by type (process.getActiveResourcesInfo): a leak of timers or sockets shows here. */
  resources: Record<string, number>;
}

export function threadMemory(): ThreadMemory {
  const m = process.memoryUsage();
  const spaces: ThreadMemory['spaces'] = {};
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_size > 0) spaces[s.space_name] = { size_mb: mb(s.space_size), used_mb: mb(s.space_used_size) };
  }
  const resources: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  return { heap_total_mb: mb(m.heapTotal), heap_used_mb: mb(m.heapUsed), external_mb: mb(m.external), array_buffers_mb: mb(m.arrayBuffers), spaces, resources };
}

/** The process's /proc/self/smaps_rollup in MB (anonymous = heaps and malloc, Shared_Clean = the node binary's pages), or {} off Linux. */
export function processMemory(): Record<string, number> {
  try {
    const out: Record<string, number> = {};
    for (const m of readFileSync('/proc/self/smaps_rollup', 'utf8').matchAll(/^(Rss|Pss|Anonymous|Shared_Clean|Private_Clean|Private_Dirty|Swap):\s+(\d+) kB/gm)) {
      out[`${m[1]!.toLowerCase()}_mb`] = Math.round((Number(m[2]) / 1024) * 10) / 10;
    }
    return out;
  } catch {
    return {};
  }
}

/**
 * TWINVIP_DEBUG_HEAP=1 only (bench/soak.mjs): `gc` runs a full garbage collection first (needs
 * node's --expose-gc; tells memory held from memory merely not collected yet), `snapshot` writes
 * this thread's heap snapshot into that directory (v8.writeHeapSnapshot; it blocks the thread
 * for a second or more, never on a production box). Answers the thread's memory afterwards.
 */
export function debugHeap(args: Record<string, unknown>): ThreadMemory & { gc: boolean; snapshot?: string } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (args.gc === true && typeof gc !== 'function') throw new Error('gc: start node with --expose-gc');
  if (args.gc === true) gc!();
  const snapshot = typeof args.snapshot === 'string' ? writeHeapSnapshot(join(args.snapshot, `twinvip-${isMainThread ? 'main' : 'ha'}-${Date.now()}.heapsnapshot`)) : undefined;
  return { ...threadMemory(), gc: args.gc === true, ...(snapshot ? { snapshot } : {}) };
}
