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
  instances?: Record<string, { state?: string }>;
  alarms?: { id?: string; instance?: string }[];
  updated_at?: string;
}

interface Box {
  key: string;
  online: boolean | null;
  /** When `online` last changed, as this monitor saw it (or the box's updated_at for a retained offline). */
  onlineSince: number | null;
  state: StateDoc | null;
}

/** A condition's start as seen here, kept while it holds (split-brain and no-holder have a grace). */
type Since = Map<string, number>;

export class FleetMonitor {
  private readonly boxes = new Map<string, Box>();
  private readonly since: Since = new Map();

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
  }

  /** The box's retained `state` document (text; empty: forgotten). */
  state(key: string, text: string): void {
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
    if (b.online === false && b.onlineSince !== null) b.onlineSince = Math.min(b.onlineSince, updatedAt(doc) ?? b.onlineSince);
  }

  forget(key: string): void {
    this.boxes.delete(key);
  }

  /** Every pair, its problems, at `now`. Also moves the grace timers, so call it often (each message and a tick). */
  report(now: number): FleetReport {
    const groups = new Map<string, Box[]>();
    for (const b of this.boxes.values()) {
      const id = pairOf(b);
      let g = groups.get(id);
      if (!g) groups.set(id, (g = []));
      g.push(b);
    }
    const seen = new Set<string>();
    const pairs: PairReport[] = [];
    for (const [id, boxes] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      boxes.sort((a, b) => (nodeOf(a) < nodeOf(b) ? -1 : 1));
      pairs.push(this.pairReport(id, boxes, now, seen));
    }
    for (const k of [...this.since.keys()]) if (!seen.has(k)) this.since.delete(k);
    const problems = pairs.flatMap((p) => p.problems);
    return { at: now, boxes: this.boxes.size, pairs, problems, healthy: problems.length === 0 };
  }

  private box(key: string): Box {
    let b = this.boxes.get(key);
    if (!b) this.boxes.set(key, (b = { key, online: null, onlineSince: null, state: null }));
    return b;
  }

  private pairReport(id: string, boxes: Box[], now: number, seen: Set<string>): PairReport {
    const problems: Problem[] = [];
    const problem = (p: Omit<Problem, 'pair' | 'durationMs'>) => problems.push({ pair: id, durationMs: Math.max(0, now - p.since), ...p });
    /** Start of a condition that holds now (first time seen: now). */
    const hold = (key: string): number => {
      seen.add(key);
      let t = this.since.get(key);
      if (t === undefined) this.since.set(key, (t = now));
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
        const since = hold(`${id}|split|${name}`);
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
