// Pair mode: the two boxes know each other over the serial link, so the pair knows it is two.
// An advert for one of our VRIDs from any source that is not the twin is a VRID conflict (a
// neighbouring group misconfigured onto our VRID, a migration leftover, anyone on the LAN): it
// never makes an instance yield, never resets a backup's Master_Down timer and never counts as
// "the master is alive" — the VRRP runner drops it ('not-twin') before the state machine sees
// it, and the arbiter's Ethernet channel only counts the twin's adverts. What this file adds is
// the record of who was heard (source, priority, address list, first and last seen, count) and
// the alarm: raised for each new source, cleared once no foreign advert has been heard for
// CONFLICT_QUIET_MS. Pure: time comes in as an argument.
//
// An instance declared a mixed group (a third router belongs to the group, e.g. keepalived
// during a migration) keeps RFC/keepalived behaviour: its adverts from other sources are not
// filtered, not recorded here, and raise nothing.

import { canonicalIp } from '../lib/ip';
import type { Family, HeartbeatFrame } from './frame';

/** A conflict is over when no foreign advert for the instance has been heard for this long. */
export const CONFLICT_QUIET_MS = 30_000;
/** Sources remembered per instance (the oldest is forgotten first): bounded under spoofing. */
export const MAX_CONFLICT_SOURCES = 16;

export interface ForeignAdvert {
  vrid: number;
  family: Family;
  source: string;
  priority: number;
  addresses: readonly string[];
}

export interface ConflictSource {
  source: string;
  priority: number;
  addresses: string[];
  firstSeen: number;
  lastSeen: number;
  count: number;
}

export type ConflictEvent =
  | { type: 'raised'; vrid: number; family: Family; source: ConflictSource; detail: string }
  | { type: 'cleared'; vrid: number; family: Family; detail: string; durationMs: number };

/**
 * Every address the twin sends adverts from, canonical, from its last heartbeat: each
 * instance's primary address and the list of its own addresses (version 2 frames).
 */
export function twinAddressesOf(frame: HeartbeatFrame): Set<string> {
  const out = new Set<string>();
  const add = (text: string, family?: Family) => {
    const c = canonicalIp(text, family ?? (text.includes(':') ? 6 : 4));
    if (c !== undefined) out.add(c);
  };
  for (const i of frame.instances) add(i.address, i.family);
  for (const a of frame.addresses ?? []) add(a);
  return out;
}

export function describeSource(s: ConflictSource): string {
  return `${s.source} (priority ${s.priority}, addresses [${s.addresses.join(', ')}])`;
}

interface Episode {
  since: number;
  sources: Map<string, ConflictSource>;
}

export class VridConflicts {
  private readonly episodes = new Map<string, Episode>();

  constructor(private readonly quietMs = CONFLICT_QUIET_MS) {}

  /** Records a foreign advert; a source not heard before in this episode raises the alarm. */
  heard(a: ForeignAdvert, now: number): ConflictEvent[] {
    const key = `${a.family}/${a.vrid}`;
    let ep = this.episodes.get(key);
    if (!ep) this.episodes.set(key, (ep = { since: now, sources: new Map() }));
    const known = ep.sources.get(a.source);
    if (known) {
      known.lastSeen = now;
      known.count++;
      known.priority = a.priority;
      known.addresses = [...a.addresses];
      return [];
    }
    if (ep.sources.size >= MAX_CONFLICT_SOURCES) {
      const oldest = [...ep.sources.values()].sort((x, y) => x.lastSeen - y.lastSeen)[0]!;
      ep.sources.delete(oldest.source);
    }
    const s: ConflictSource = { source: a.source, priority: a.priority, addresses: [...a.addresses], firstSeen: now, lastSeen: now, count: 1 };
    ep.sources.set(a.source, s);
    return [
      {
        type: 'raised',
        vrid: a.vrid,
        family: a.family,
        source: { ...s, addresses: [...s.addresses] },
        detail: `advert for VRID ${a.vrid} from ${describeSource(s)}, which is not the twin: ignored (pair mode; declare the instance a mixed group if this router belongs to it)`,
      },
    ];
  }

  /** Ends the episodes whose last foreign advert is older than the quiet time. */
  expire(now: number): ConflictEvent[] {
    const out: ConflictEvent[] = [];
    for (const [key, ep] of this.episodes) {
      const last = Math.max(...[...ep.sources.values()].map((s) => s.lastSeen));
      if (now - last < this.quietMs) continue;
      this.episodes.delete(key);
      const [family, vrid] = key.split('/').map(Number) as [Family, number];
      const list = [...ep.sources.values()].map((s) => `${s.source} x${s.count}`).join(', ');
      out.push({
        type: 'cleared',
        vrid,
        family,
        durationMs: last - ep.since,
        detail: `no foreign advert for VRID ${vrid} for ${Math.round((now - last) / 1000)} s (heard: ${list})`,
      });
    }
    return out;
  }

  /** When expire() has something to do, or null. */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const ep of this.episodes.values()) {
      const at = Math.max(...[...ep.sources.values()].map((s) => s.lastSeen)) + this.quietMs;
      if (next === null || at < next) next = at;
    }
    return next;
  }

  /** The sources of the current episode of an instance, oldest first (status, console). */
  sources(vrid: number, family: Family): ConflictSource[] {
    const ep = this.episodes.get(`${family}/${vrid}`);
    return ep ? [...ep.sources.values()].sort((x, y) => x.firstSeen - y.firstSeen).map((s) => ({ ...s, addresses: [...s.addresses] })) : [];
  }
}
