// The fleet seen from outside: what every box says about itself on MQTT (retained `status` and
// `state`), grouped into pairs, and what only an outside view can see: both twins MASTER for one
// instance (split-brain), a box offline, twins that drifted apart (shared config hash, version),
// an instance nobody holds. Pure: the caller feeds messages with their arrival time and asks for
// a report at a time of its choosing (fake clock in the unit tests, `twinvip fleet` in the CLI).
// It keeps no state of its own beyond what the retained messages say.

export type ProblemKind = 'split-brain' | 'offline' | 'config-drift' | 'version-drift' | 'no-holder' | 'twin-missing' | 'unpaired';

export interface Problem {
  kind: ProblemKind;
  /** Sorted pair id, kind and instance/node make the alarm's identity. */
  pair: string;
  instance?: string;
  node?: string;
  /** When the condition began (epoch ms, as seen by this monitor or as the box reported). */
  since: number;
  durationMs: number;
  severity: 'critical' | 'warning';
  message: string;
}

export interface BoxReport {
  node: string;
  online: boolean | null;
  version: string | null;
  shared_config_hash: string | null;
  config_hash: string | null;
  /** Instance name -> state (as the box last said; stale when offline). */
  instances: Record<string, string>;
  /** Active alarm ids the box reports about itself. */
  alarms: string[];
  /** When the box last published its state (its own clock), epoch ms. */
  last_seen: number | null;
}

export interface InstanceReport {
  name: string;
  /** node -> state, for online boxes only. */
  states: Record<string, string>;
  /** Online boxes in MASTER: the VIP holders. */
  holders: string[];
}

export interface PairReport {
  id: string;
  boxes: BoxReport[];
  instances: InstanceReport[];
  problems: Problem[];
  healthy: boolean;
}

export interface FleetReport {
  at: number;
  boxes: number;
  pairs: PairReport[];
  problems: Problem[];
  healthy: boolean;
}

export interface MonitorOptions {
  /** Both twins MASTER for this long before it is split-brain (a handover's messages may cross). */
  splitGraceMs: number;
  /** No online box MASTER for this long before it is a problem (a failover takes a moment). */
  holderGraceMs: number;
}

export const DEFAULT_MONITOR_OPTIONS: MonitorOptions = { splitGraceMs: 500, holderGraceMs: 5000 };

interface StateDoc {
  node?: string;
  version?: string;
  config_hash?: string;
  shared_config_hash?: string;
  pair?: { id?: string; twin?: string | null; source?: string };
  instances?: Record<string, { state?: string; last_transition?: { at?: string } | null }>;
  alarms?: { id?: string; instance?: string }[];
  updated_at?: string;
}

interface Box {
  key: string;
  online: boolean | null;
  /** When `online` last changed, as this monitor saw it (or the box's updated_at for a retained offline). */
  onlineSince: number | null;
  state: StateDoc | null;
  /** The document came as a retained message at subscribe time: its changes happened before we looked. */
  stateRetained: boolean;
}

/** A condition's start as seen here, kept while it holds (split-brain and no-holder have a grace). */
type Since = Map<string, number>;

/**
 * Incremental: a message marks its pair dirty, and report() recomputes only the dirty pairs and
 * those whose verdict depends on time (a grace running, a problem whose duration grows), so a
 * watch over thousands of pairs costs per change, not per pair.
 */
export class FleetMonitor {
  private readonly boxes = new Map<string, Box>();
  /** Pair id -> the keys of its boxes. */
  private readonly groups = new Map<string, Set<string>>();
  private readonly pairOfBox = new Map<string, string>();
  /** Per pair: when each condition it holds began (grace periods, durations). */
  private readonly since = new Map<string, Since>();
  private readonly cache = new Map<string, PairReport>();
  private readonly dirty = new Set<string>();
  /** Pairs to recompute at every report: a grace running or a problem present. */
  private readonly timed = new Set<string>();
  private sortedIds: string[] | undefined;

  constructor(readonly opts: MonitorOptions = DEFAULT_MONITOR_OPTIONS) {}

  get size(): number {
    return this.boxes.size;
  }

  /**
   * The box's retained `status` ("online"/"offline"; empty: forgotten). `retained`: delivered at
   * subscribe time, so its moment is not now.
   */
  status(key: string, text: string, now: number, retained = false): void {
    if (text === '') {
      this.forget(key);
      return;
    }
    const b = this.box(key);
    const online = text === 'online';
    if (b.online !== online) {
      b.online = online;
      const reported = retained ? updatedAt(b.state) : null;
      b.onlineSince = reported !== null ? Math.min(reported, now) : now;
    }
    this.changed(b);
  }

  /**
   * The box's retained `state` document (text; empty: forgotten). `retained`: delivered at
   * subscribe time, so a condition it shows began when the box says, not now.
   */
  state(key: string, text: string, retained = false): void {
    if (text === '') {
      this.forget(key);
      return;
    }
    let doc: StateDoc;
    try {
      doc = JSON.parse(text) as StateDoc;
    } catch {
      return;
    }
    if (doc === null || typeof doc !== 'object') return;
    const b = this.box(key);
    b.state = doc;
    b.stateRetained = retained;
    if (b.online === false && b.onlineSince !== null) b.onlineSince = Math.min(b.onlineSince, updatedAt(doc) ?? b.onlineSince);
    this.changed(b);
  }

  forget(key: string): void {
    this.boxes.delete(key);
    this.place(key, undefined);
  }

  /** The box's pair may have changed with its document: moves it, marks both pairs dirty. */
  private changed(b: Box): void {
    this.place(b.key, pairOf(b));
  }

  private place(key: string, pair: string | undefined): void {
    const old = this.pairOfBox.get(key);
    if (old !== undefined) this.dirty.add(old);
    if (pair !== undefined) this.dirty.add(pair);
    if (old === pair) return;
    if (old !== undefined) {
      const g = this.groups.get(old)!;
      g.delete(key);
      if (g.size === 0) {
        this.groups.delete(old);
        this.sortedIds = undefined;
      }
      this.pairOfBox.delete(key);
    }
    if (pair !== undefined) {
      let g = this.groups.get(pair);
      if (!g) {
        this.groups.set(pair, (g = new Set()));
        this.sortedIds = undefined;
      }
      g.add(key);
      this.pairOfBox.set(key, pair);
    }
  }

  /** Every pair, its problems, at `now`. Also moves the grace timers, so call it often (each message and a tick). */
  report(now: number): FleetReport {
    const todo = new Set([...this.dirty, ...this.timed]);
    this.dirty.clear();
    for (const id of todo) {
      const keys = this.groups.get(id);
      if (!keys) {
        this.cache.delete(id);
        this.since.delete(id);
        this.timed.delete(id);
        continue;
      }
      const boxes = [...keys].map((k) => this.boxes.get(k)!).sort((a, b) => (nodeOf(a) < nodeOf(b) ? -1 : 1));
      const held: Since = new Map();
      const r = this.pairReport(id, boxes, now, held);
      this.cache.set(id, r);
      this.since.set(id, held);
      if (held.size > 0 || r.problems.length > 0) this.timed.add(id);
      else this.timed.delete(id);
    }
    this.sortedIds ??= [...this.groups.keys()].sort();
    const pairs = this.sortedIds.map((id) => this.cache.get(id)!);
    const problems: Problem[] = [];
    for (const id of this.timed) problems.push(...this.cache.get(id)!.problems);
    problems.sort((a, b) => (a.pair < b.pair ? -1 : a.pair > b.pair ? 1 : 0));
    return { at: now, boxes: this.boxes.size, pairs, problems, healthy: problems.length === 0 };
  }

  private box(key: string): Box {
    let b = this.boxes.get(key);
    if (!b) this.boxes.set(key, (b = { key, online: null, onlineSince: null, state: null, stateRetained: false }));
    return b;
  }

  private pairReport(id: string, boxes: Box[], now: number, held: Since): PairReport {
    const problems: Problem[] = [];
    const problem = (p: Omit<Problem, 'pair' | 'durationMs'>) => problems.push({ pair: id, durationMs: Math.max(0, now - p.since), ...p });
    const before = this.since.get(id);
    /**
     * Start of a condition that holds now: when first seen here, or, for a condition found in
     * retained documents at start (it began before we looked), when the boxes say it began.
     */
    const hold = (key: string, reported?: number): number => {
      const t = before?.get(key) ?? (reported !== undefined ? Math.min(now, reported) : now);
      held.set(key, t);
      return t;
    };
    const online = boxes.filter((b) => b.online === true && b.state !== null);
    const reports = boxes.map((b) => boxReport(b));

    for (const b of boxes) {
      if (b.online === false) {
        const since = b.onlineSince ?? now;
        problem({ kind: 'offline', node: nodeOf(b), since, severity: 'critical', message: `${nodeOf(b)} offline (last will or clean stop) for ${secs(now - since)} s` });
      }
    }
    const first = boxes[0]!;
    const twinName = first.state?.pair?.twin ?? null;
    if (boxes.length === 1) {
      if (first.state?.pair?.source === 'self' || first.state?.pair === undefined) {
        problem({ kind: 'unpaired', node: nodeOf(first), since: hold(`${id}|unpaired`), severity: 'warning', message: `${nodeOf(first)} names no pair (set node.pair, or node.twin, on both twins)` });
      } else {
        problem({ kind: 'twin-missing', node: nodeOf(first), since: hold(`${id}|twin-missing`), severity: 'warning', message: `pair ${id}: ${twinName ?? 'the twin'} not seen on the broker` });
      }
    }

    // Instances: union over both boxes' documents; states from online boxes only.
    const names = new Set<string>();
    for (const b of boxes) for (const n of Object.keys(b.state?.instances ?? {})) names.add(n);
    const instances: InstanceReport[] = [];
    for (const name of [...names].sort()) {
      const states: Record<string, string> = {};
      for (const b of online) {
        const s = b.state?.instances?.[name]?.state;
        if (typeof s === 'string') states[nodeOf(b)] = s;
      }
      const holders = Object.entries(states).filter(([, s]) => s === 'MASTER').map(([n]) => n);
      instances.push({ name, states, holders });
      if (holders.length >= 2) {
        const since = hold(`${id}|split|${name}`, reportedSince(online.filter((b) => holders.includes(nodeOf(b))), name));
        if (now - since >= this.opts.splitGraceMs) {
          problem({ kind: 'split-brain', instance: name, since, severity: 'critical', message: `${name}: ${holders.join(' and ')} both MASTER for ${secs(now - since)} s` });
        }
      } else if (holders.length === 0 && online.length > 0) {
        const since = hold(`${id}|noholder|${name}`);
        if (now - since >= this.opts.holderGraceMs) {
          problem({ kind: 'no-holder', instance: name, since, severity: 'critical', message: `${name}: no box holds it (${Object.entries(states).map(([n, s]) => `${n} ${s}`).join(', ') || 'no state'}) for ${secs(now - since)} s` });
        }
      }
    }

    if (online.length >= 2) {
      const [a, b] = online as [Box, Box];
      const ha = a.state?.shared_config_hash;
      const hb = b.state?.shared_config_hash;
      if (ha !== undefined && hb !== undefined && ha !== hb) {
        problem({ kind: 'config-drift', since: hold(`${id}|config-drift`), severity: 'warning', message: `shared config differs: ${nodeOf(a)} ${ha}, ${nodeOf(b)} ${hb}` });
      }
      const va = a.state?.version;
      const vb = b.state?.version;
      if (va !== undefined && vb !== undefined && va !== vb) {
        problem({ kind: 'version-drift', since: hold(`${id}|version-drift`), severity: 'warning', message: `versions differ: ${nodeOf(a)} ${va}, ${nodeOf(b)} ${vb}` });
      }
    }
    return { id, boxes: reports, instances, problems, healthy: problems.length === 0 };
  }
}

/**
 * When the boxes say the last of them changed this instance's state, if every document is one
 * found retained at start (a live change is timed by its arrival here: box clocks may differ).
 */
function reportedSince(boxes: Box[], instance: string): number | undefined {
  let latest: number | undefined;
  for (const b of boxes) {
    if (!b.stateRetained) return undefined;
    const at = b.state?.instances?.[instance]?.last_transition?.at;
    const t = at ? Date.parse(at) : NaN;
    if (Number.isNaN(t)) return undefined;
    latest = latest === undefined ? t : Math.max(latest, t);
  }
  return latest;
}

function nodeOf(b: Box): string {
  return typeof b.state?.node === 'string' ? b.state.node : b.key;
}

function pairOf(b: Box): string {
  const id = b.state?.pair?.id;
  return typeof id === 'string' && id.length > 0 ? id : nodeOf(b);
}

function updatedAt(doc: StateDoc | null): number | null {
  const t = doc?.updated_at ? Date.parse(doc.updated_at) : NaN;
  return Number.isNaN(t) ? null : t;
}

function boxReport(b: Box): BoxReport {
  const s = b.state;
  const instances: Record<string, string> = {};
  for (const [n, i] of Object.entries(s?.instances ?? {})) if (typeof i?.state === 'string') instances[n] = i.state;
  return {
    node: nodeOf(b),
    online: b.online,
    version: s?.version ?? null,
    shared_config_hash: s?.shared_config_hash ?? null,
    config_hash: s?.config_hash ?? null,
    instances,
    alarms: (s?.alarms ?? []).map((a) => (a.instance ? `${a.id}@${a.instance}` : String(a.id))),
    last_seen: updatedAt(s),
  };
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

/** The identity of a problem as a fleet alarm: its retained topic's tail. */
export function problemKey(p: Problem): string {
  return [p.pair, p.kind, p.instance ?? p.node ?? ''].filter((x) => x !== '').join('/');
}
