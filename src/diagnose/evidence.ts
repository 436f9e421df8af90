// What a box knows about its side of the pair, as plain data: the evidence the split-brain
// diagnosis (diagnosis.ts) works from. Each box gathers its own (gather.ts, the shell) and sends
// it to the twin over serial when asked (the `diagnose` request), so one box holds both sides.
// Counters come as samples over time ({at, values}), so the diagnosis judges rates, not totals.
// Pure: no I/O here.

import type { Family } from '../lib/ip';

/** A cumulative counter set read at `at` (ms on the gathering box's monotonic clock). */
export interface CounterSample {
  at: number;
  values: Record<string, number>;
}

/** The settings of one instance that must be the same on both twins (compared field by field). */
export interface InstanceSettings {
  version: number;
  advert_interval_cs: number;
  auth_type: 'none' | 'pass' | 'ah';
  /** Advertised VIPs, canonical, sorted. */
  vips: string[];
  unicast: boolean;
  multicast_group: string;
}

export interface InstanceEvidence {
  name: string;
  vrid: number;
  family: Family;
  interface: string;
  state: string;
  /** ms in that state (undefined: unknown). */
  state_ms?: number;
  /** The primary address adverts leave from. */
  address: string;
  /** Configured unicast peers (empty: multicast). */
  unicast_peers: string[];
  settings: InstanceSettings;
  /** The twin's adverts reach this box's state machine (the arbiter's Ethernet channel); null: unknown. */
  hears_twin: boolean | null;
  /** ms since the twin's last accepted advert; null: none since start. */
  last_twin_advert_ms_ago: number | null;
  /**
   * How long before the gather this box sent its last few adverts (priority above 0), most
   * recent first; absent from an older twin. Compared with when the twin last heard one, it
   * tells after two missed adverts that ours stop arriving while we do send them (a stalled
   * sender sends none: nothing to miss).
   */
  sent_ms_ago?: number[];
  /** Cumulative drop counters by reason (auth, interval-mismatch, address-list, ...), sampled. */
  drops: CounterSample[];
  /** Routers other than the twin heard on this VRID recently (pair mode). */
  foreign: { source: string; priority: number; addresses: string[]; last_seen_ms_ago: number | null; count: number }[];
}

export interface NicEvidence {
  name: string;
  /** /sys/class/net/IF/carrier: true up, false down, null unreadable (interface down or gone). */
  carrier: boolean | null;
  operstate: string;
  mac: string;
  /** Samples of /sys/class/net/IF/statistics (rx_errors, tx_errors, rx_crc_errors, ...). */
  stats: CounterSample[];
}

export interface FirewallRule {
  /** e.g. "inet filter input" */
  chain: string;
  hook: string;
  /** The rule as nft prints it (or a summary of its expression). */
  text: string;
  verdict: 'drop' | 'reject';
  /** The interface the rule is limited to; undefined: every interface. */
  interface?: string;
  direction: 'input' | 'output' | 'forward';
}

export type FirewallEvidence = { known: true; rules: FirewallRule[] } | { known: false; reason: string };

export interface AddressConflict {
  ip: string;
  mac: string;
  interface: string;
  /** Whose address: a VIP of an instance, or the box's own. */
  kind: 'vip' | 'own';
  instance?: string;
}

export interface ProbeEvidence {
  /** Our last probe round to the twin over the LAN got an authenticated answer. */
  answered: boolean | null;
  /** Cumulative: the twin's questions this box answered (they reached us over the LAN). */
  questions_answered: number;
  /**
   * What this box's own latest probe round showed of its outgoing direction (its questions reached
   * the twin, or not: read from the twin's counter over serial), and how long ago. Lets the twin
   * judge the direction towards it that its own round cannot (its questions lost: no answer to see).
   */
  out?: { dir: 'ok' | 'lost'; ms_ago: number } | null;
}

/** One box's evidence. */
export interface SideEvidence {
  node: string;
  /** The serial heartbeat's node id (what the twin's frames carry). */
  node_id: string;
  uptime_ms: number;
  /** The box's own addresses on its VRRP interfaces (VIPs excluded). */
  addresses: string[];
  instances: InstanceEvidence[];
  nics: NicEvidence[];
  firewall: FirewallEvidence;
  conflicts: AddressConflict[];
  /** The serial heartbeat: channel state and sampled frame counters (accepted, bad-crc, noise, ...). */
  serial: { ok: boolean; samples: CounterSample[] } | null;
  probe: ProbeEvidence | null;
}

/** The input of diagnose(): this box's evidence and the twin's, as the twin last sent it. */
export interface PairEvidence {
  local: SideEvidence;
  /** null: the twin could not be asked (serial lost, no heartbeat, an older twin). */
  twin: SideEvidence | null;
  /** Why the twin's evidence is missing, for the report. */
  twin_unknown_reason?: string;
  /**
   * The twin's LAN probe counter before our latest probe round (to tell whether our questions
   * reached it): compared with twin.probe.questions_answered. Undefined: no round was run.
   */
  twin_questions_before?: number;
  /**
   * The advert times of both sides (sent_ms_ago, last_twin_advert_ms_ago) were read together:
   * ours, then the twin's within this many ms (a short serial exchange of its own, the
   * `diagnose-adverts` request); taken as at most TWIN_EVIDENCE_MAX_AGE_MS before ours at the
   * earliest. Undefined: not read together (no early verdict on the Ethernet directions).
   */
  twin_ask_ms?: number;
  /**
   * The twin's MACs as its evidence last gave them (remembered while its evidence is missing,
   * e.g. after its daemon crashed): an address answered by one of them is the twin's, not a
   * stranger's.
   */
  twin_macs?: { node: string; macs: string[] };
}

/** A twin answers with evidence gathered at most this long before our question reached it. */
export const TWIN_EVIDENCE_MAX_AGE_MS = 200;

export const CAUSES = [
  'one-way-loss',
  'path-cut',
  'link-down',
  'nic-errors',
  'serial-line-degrading',
  'firewall-drops-vrrp',
  'vrrp-filtered',
  'address-conflict',
  'peer-address-mismatch',
  'settings-mismatch',
  'vrid-conflict',
  'auth-mismatch',
] as const;
export type CauseId = (typeof CAUSES)[number];

export interface Finding {
  cause: CauseId;
  /** The instance it concerns; undefined: the box or the pair. */
  instance?: string;
  /** Which box shows it: this one, or the twin (by node name). */
  where: string;
  /**
   * What the finding is about (the interface, the rule, the address and MAC, the router, the
   * setting, the direction): stable while the fault lasts, while the evidence's figures change.
   * A finding is the same finding as long as cause, instance, where and subject are.
   */
  subject: string;
  /** The evidence in one line. */
  evidence: string;
  /** The fix in one line. */
  fix: string;
}

/** The sample at most `windowMs` older than the last one, and the last (undefined when fewer than two). */
export function windowOf(samples: readonly CounterSample[], windowMs: number): { first: CounterSample; last: CounterSample } | undefined {
  if (samples.length < 2) return undefined;
  const last = samples[samples.length - 1]!;
  let first = samples[samples.length - 2]!;
  for (let i = samples.length - 2; i >= 0; i--) {
    if (last.at - samples[i]!.at > windowMs) break;
    first = samples[i]!;
  }
  return { first, last };
}

/** How much each counter grew over the window (a counter that went down was reset: its new value). */
export function deltas(samples: readonly CounterSample[], windowMs: number): Record<string, number> {
  const w = windowOf(samples, windowMs);
  if (!w) return {};
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(w.last.values)) {
    const before = w.first.values[k] ?? 0;
    out[k] = v >= before ? v - before : v;
  }
  return out;
}

/** Appends a sample and forgets those older than `keepMs` (always keeps the last two). */
export function pushSample(samples: CounterSample[], sample: CounterSample, keepMs: number, max = 64): void {
  samples.push(sample);
  while (samples.length > 2 && (sample.at - samples[0]!.at > keepMs || samples.length > max)) samples.shift();
}
