// Where a thread's memory is (issue 22's breakdown, the `memory` control command): its V8 isolate's
// heap as V8 counts it. process.memoryUsage() in a worker thread gives that thread's isolate
// (heapTotal, heapUsed, external, arrayBuffers) and the whole process's rss; the heap spaces
// (v8.getHeapSpaceStatistics) say which part of the heap holds it.
import { getHeapSpaceStatistics } from 'node:v8';
import { readFileSync } from 'node:fs';

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

export interface ThreadMemory {
  heap_total_mb: number;
  heap_used_mb: number;
  external_mb: number;
  array_buffers_mb: number;
  /** Per V8 heap space: size held from the OS / used, MB. */
  spaces: Record<string, { size_mb: number; used_mb: number }>;
}

export function threadMemory(): ThreadMemory {
  const m = process.memoryUsage();
  const spaces: ThreadMemory['spaces'] = {};
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_size > 0) spaces[s.space_name] = { size_mb: mb(s.space_size), used_mb: mb(s.space_used_size) };
  }
  return { heap_total_mb: mb(m.heapTotal), heap_used_mb: mb(m.heapUsed), external_mb: mb(m.external), array_buffers_mb: mb(m.arrayBuffers), spaces };
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
