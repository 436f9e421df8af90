export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Per-topic debug switches, as FRR's vrrp_debug.c: each subsystem can be raised or lowered alone. */
export const SUBSYSTEMS = ['vrrp', 'net', 'heartbeat', 'nginx', 'mqtt', 'console', 'control', 'daemon', 'track', 'config'] as const;
export type Subsystem = (typeof SUBSYSTEMS)[number];

export function isLevel(value: unknown): value is Level {
  return typeof value === 'string' && (LEVELS as readonly string[]).includes(value);
}

export function isSubsystem(value: unknown): value is Subsystem {
  return typeof value === 'string' && (SUBSYSTEMS as readonly string[]).includes(value);
}

export function levelEnabled(threshold: Level, level: Level): boolean {
  return RANK[level] >= RANK[threshold];
}
