import type { TrackSpec } from './schema/instance';

export interface TrackRef {
  name: string;
  /** Undefined: a failure puts the instance in FAULT. */
  weight?: number;
}

/** track_interfaces / track_checks entries in one shape. */
export function trackRefs(list: readonly (TrackSpec | string | { name: string; weight?: number })[]): TrackRef[] {
  return list.map((t) => (typeof t === 'string' ? { name: t } : t.weight === undefined ? { name: t.name } : { name: t.name, weight: t.weight }));
}
