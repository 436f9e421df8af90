import { describe, expect, it } from 'vitest';
import { debugHeap, threadMemory } from '../../../src/lib/thread-memory';

describe('thread memory (the memory command, issue 22 soak)', () => {
  it('counts the live timers of the thread, so a leak of them shows in the soak', () => {
    const before = threadMemory().resources.Timeout ?? 0;
    const timers = Array.from({ length: 5 }, () => setTimeout(() => undefined, 60_000));
    try {
      expect(threadMemory().resources.Timeout ?? 0).toBe(before + 5);
    } finally {
      for (const t of timers) clearTimeout(t);
    }
    expect(threadMemory().resources.Timeout ?? 0).toBe(before);
  });

  it('debug gc without --expose-gc says how to get it instead of pretending', () => {
    const gc = (globalThis as { gc?: unknown }).gc;
    if (typeof gc === 'function') expect(debugHeap({ gc: true }).gc).toBe(true);
    else expect(() => debugHeap({ gc: true })).toThrow(/--expose-gc/);
    expect(debugHeap({}).gc).toBe(false);
  });
});
