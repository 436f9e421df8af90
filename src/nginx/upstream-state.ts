import type { UpstreamConfig, UpstreamServerConfig } from '../config/nginx/schema';

/** Identity of a server inside its group: survives reordering of the list. */
export function serverKey(group: string, s: Pick<UpstreamServerConfig, 'address' | 'port'>): string {
  return `${group}/${s.address.includes(':') ? `[${s.address}]` : s.address}:${s.port}`;
}

export interface EffectiveDown {
  /** Server keys rendered `down`. */
  down: Set<string>;
  /** Groups whose every server is failing: none is marked down (fail open) and Nginx's passive checks decide. */
  failOpen: string[];
}

/**
 * Which failing servers to mark `down`. A failing server is marked down rather than removed, so
 * hash/ip_hash keep their mapping for the others. A group whose every server fails keeps all of
 * them: an active check that is itself broken (firewall, wrong path) must not take the service
 * down, and a group with nothing to send to answers 502 for everyone anyway.
 */
export function effectiveDown(upstreams: Record<string, UpstreamConfig>, failing: ReadonlySet<string>): EffectiveDown {
  const down = new Set<string>();
  const failOpen: string[] = [];
  for (const group of Object.keys(upstreams).sort()) {
    const keys = upstreams[group]!.servers.map((s) => serverKey(group, s));
    const bad = keys.filter((k) => failing.has(k));
    if (bad.length === 0) continue;
    if (bad.length === keys.length) {
      failOpen.push(group);
      continue;
    }
    for (const k of bad) down.add(k);
  }
  return { down, failOpen };
}
