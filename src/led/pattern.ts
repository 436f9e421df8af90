// What the status LED shows, from the instances' states and the daemon's health. Pure.
//   FAULT (any instance in FAULT, or the daemon degraded): fast blink
//   MASTER (any instance MASTER, none in FAULT):            on
//   BACKUP (all running instances BACKUP):                  slow blink
//   nothing running yet (INIT, stopping):                   off

export type LedPattern = 'off' | 'on' | 'slow-blink' | 'fast-blink';

/** Blink timings (ms on, ms off) the kernel's timer trigger runs, so the LED blinks without us. */
export const BLINK: Record<'slow-blink' | 'fast-blink', { onMs: number; offMs: number }> = {
  'slow-blink': { onMs: 1000, offMs: 1000 },
  'fast-blink': { onMs: 100, offMs: 100 },
};

export function ledPattern(states: readonly string[], degraded: boolean): LedPattern {
  if (degraded || states.includes('FAULT')) return 'fast-blink';
  if (states.includes('MASTER')) return 'on';
  if (states.includes('BACKUP')) return 'slow-blink';
  return 'off';
}
