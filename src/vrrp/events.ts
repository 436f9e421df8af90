// The vocabulary of the sans-I/O VRRP instance: what the shell (src/ha/vrrp, src/net), the
// heartbeat arbiter and sync groups feed in (events), and what the instance asks the shell to do
// (actions). Plain data only, so every rule is testable with a fake clock.

import type { Advert, Family, VrrpState, VrrpVersion } from './types';

export type { VrrpState } from './types';

/** keepalived's notify script states (notify_master/backup/fault/stop). */
export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

// ---------------------------------------------------------------------------------------------
// Parameters

/** Gratuitous ARP / unsolicited NA schedule, keepalived's garp_* keywords. */
export interface GarpParams {
  /** garp_master_delay: a second burst this long after becoming MASTER; 0 = none. keepalived default 5 s. */
  masterDelayMs: number;
  /** garp_master_repeat: messages per VIP in each burst on becoming MASTER. keepalived default 5. */
  masterRepeat: number;
  /** garp_master_refresh: periodic refresh burst while MASTER; 0 = off (keepalived default). */
  masterRefreshMs: number;
  /** garp_master_refresh_repeat: messages per VIP in a refresh burst. keepalived default 1. */
  masterRefreshRepeat: number;
  /**
   * garp_lower_prio_repeat: messages per VIP when a MASTER hears a lower-priority advert (two
   * masters met, e.g. a healed partition); 0 = stay silent (not recommended: keepalived #166, #1884).
   */
  lowerPrioRepeat: number;
  /** garp_lower_prio_delay: a second such burst this long after the first; 0 = none. */
  lowerPrioDelayMs: number;
}

export const DEFAULT_GARP: GarpParams = {
  masterDelayMs: 5000,
  masterRepeat: 5,
  masterRefreshMs: 0,
  masterRefreshRepeat: 1,
  lowerPrioRepeat: 5,
  lowerPrioDelayMs: 0,
};

/** A tracked interface or check (keepalived track_interface / track_script). */
export interface TrackedObject {
  name: string;
  /**
   * 0 or absent: going down puts the instance in FAULT. > 0: added to the priority while up.
   * < 0: added (i.e. subtracted) while down. keepalived's track_script weight semantics.
   */
  weight?: number;
  /** State before the first `track` event; default true (up). */
  up?: boolean;
}

export interface InstanceParams {
  /** Instance name, used in every log line: `VI_1: BACKUP -> MASTER (master down, 3609 ms)`. */
  name: string;
  vrid: number;
  version: VrrpVersion;
  family: Family;
  /** Configured priority 1..255; 255 means address owner. */
  priority: number;
  /** Advertisement_Interval in centiseconds; v2 requires whole seconds (a multiple of 100). */
  advertIntervalCs: number;
  /** RFC Preempt_Mode; false = keepalived `nopreempt`. Default true. */
  preempt?: boolean;
  /** keepalived preempt_delay in ms; 0 = none. See the header of instance.ts for the semantics. */
  preemptDelayMs?: number;
  /** Our primary address on the interface (the advert's source), compared on equal priority. */
  primaryAddress: string;
  /** Virtual addresses (canonical text); the shell encodes them into adverts and adds/removes them. */
  vips: string[];
  /**
   * keepalived `state`: 'MASTER' makes the instance take over at once after startup (keepalived
   * 2.x enters BACKUP with a 1 µs master-down timer) and, as in keepalived, disables nopreempt and
   * preempt delay. Default 'BACKUP' (wait Master_Down_Interval, RFC 6.4.1).
   */
  initialState?: 'BACKUP' | 'MASTER';
  /** We own the VIPs (RFC "IP Address Owner"): forces priority 255. */
  addressOwner?: boolean;
  garp?: Partial<GarpParams>;
  tracked?: TrackedObject[];
  /**
   * keepalived lower_prio_no_advert: a MASTER hearing a lower-priority advert does not answer with
   * an advert of its own. Default false (answer, which forces the loser to step down at once).
   */
  lowerPrioNoAdvert?: boolean;
  /**
   * keepalived higher_prio_send_advert: a MASTER stepping down for a higher-priority advert
   * sends one advert at its own priority first, so the winner re-announces the VIPs (after a
   * healed partition the winner may never have seen us as master). Default true in twinvip
   * (keepalived's default is off).
   */
  higherPrioSendAdvert?: boolean;
  /** Name of the sync group this instance belongs to (see sync-group.ts); undefined = none. */
  syncGroup?: string;
}

// ---------------------------------------------------------------------------------------------
// Events

/**
 * Why an instance is held out of the election, each with its one owner:
 * - 'maintenance': the operator (console / MQTT `maintenance on|off`, `failover`);
 * - 'heartbeat-release': the heartbeat arbiter's gateway rule (this node released the VIP to its
 *   twin over serial, and lifts it when the reason is gone);
 * - 'stall': the stall gate (src/ha/stall-gate.ts): a MASTER that woke from a stall to find that
 *   its twin had taken over steps down with it, and the gate clears it right after.
 * They combine: clearing one leaves the others in force.
 */
export type DemotionReason = 'maintenance' | 'heartbeat-release' | 'stall';
export const DEMOTION_REASONS: readonly DemotionReason[] = ['maintenance', 'heartbeat-release', 'stall'];

/** What holds an instance down, as status shows it: the demotions, plus FAULT and its source. */
export type Demotion = DemotionReason | 'fault' | 'sync-group-fault';

export type SyncDirective = 'MASTER' | 'BACKUP' | 'FAULT' | 'FAULT-CLEAR';

export type InstanceEvent =
  | { type: 'startup' }
  | { type: 'shutdown' }
  /**
   * Instead of 'startup', for an instance rebuilt by a configuration reload: carry the previous
   * instance's state over without a transition (keepalived reload keeps an instance's state and
   * runs no notify). 'MASTER' assumes the shell still holds the VIPs.
   */
  | { type: 'resume'; state: 'MASTER' | 'BACKUP' }
  /** A decoded and validated advert for this VRID (the codec has already dropped bad ones). */
  | { type: 'advert'; advert: Advert }
  /** nextDeadline() has been reached; the instance works out which of its timers fired. */
  | { type: 'timer' }
  | { type: 'track'; name: string; up: boolean }
  /**
   * Sets (`active: true`) or clears one named demotion. While any is set the instance advertises
   * priority 0 and never becomes MASTER; each reason has one owner, who alone sets and clears it.
   */
  | { type: 'demote'; reason: DemotionReason; active: boolean }
  /** The peer claims mastership over the serial channel (heartbeat arbiter). */
  | { type: 'peer-claim'; priority: number; address: string; advertIntervalCs: number }
  /**
   * The peer gives the VIPs up now (serial channel). `immediate`: the twin is the only other
   * router of this VRID (pair mode, no third router heard or declared), so there is no better
   * backup to wait for: MASTER at once instead of after Skew_Time (RFC skew otherwise).
   */
  | { type: 'peer-release'; immediate?: boolean }
  /**
   * Both channels silent: the peer is dead or fully cut off. `detail` (the arbiter's probe of
   * the twin's daemon decided, not the Ethernet timer): cause 'twin dead' with that detail.
   */
  | { type: 'peer-dead'; detail?: string }
  /** From a sync group coordinator only (sync-group.ts). */
  | { type: 'sync'; to: SyncDirective; group: string; origin: string };

// ---------------------------------------------------------------------------------------------
// Actions

export type TransitionCause =
  | 'startup'
  | 'startup owner'
  | 'startup state MASTER'
  | 'master down'
  | 'priority 0 from master'
  | 'preempt'
  | 'higher priority advert'
  | 'equal priority, higher address'
  | 'peer claim'
  | 'peer released'
  | 'twin released'
  | 'peer dead on both channels'
  | 'twin dead'
  | 'fault'
  | 'fault cleared'
  | 'maintenance'
  | 'heartbeat-release'
  | 'stall'
  | 'sync group'
  | 'shutdown';

export type GarpReason =
  | 'become master'
  | 'master delay'
  | 'master refresh'
  | 'config reload'
  | 'lower priority master heard'
  | 'lower priority master heard (delayed)'
  | 'lower priority peer claim';

export type Action =
  /** Send one advert with these values; the shell encodes it with the instance's VIPs. */
  | { type: 'send-advert'; priority: number; advertIntervalCs: number }
  | { type: 'add-vips' }
  | { type: 'remove-vips' }
  /** One burst of gratuitous ARP / unsolicited NA: `count` messages per VIP. */
  | { type: 'send-garp'; reason: GarpReason; count: number }
  /**
   * Run the notify script(s) for this state (keepalived arguments): the one source of the notify
   * state (INIT at shutdown is STOP); the shell puts it on the bus as 'notify'.
   */
  | { type: 'notify'; state: NotifyState; cause: TransitionCause; detail: string }
  | { type: 'transition'; from: VrrpState; to: VrrpState; cause: TransitionCause; detail: string }
  /** Only with a sync group: the instance would become MASTER now but waits for its siblings. */
  | { type: 'want-master'; cause: TransitionCause; detail: string }
  | { type: 'alarm'; name: AlarmName; detail: string; overlapMs?: number };

export type AlarmName =
  /**
   * A MASTER heard another master of lower rank longer after its own first advert than a
   * handover takes (one advert interval): split-brain, being resolved by us. `overlapMs` says
   * how long after our first advert as MASTER the other master was still heard.
   */
  | 'dual-master'
  /** Two routers both claim to own the address (priority 255); ours lowered to 254 (keepalived). */
  | 'address-owner-conflict';

// ---------------------------------------------------------------------------------------------
// Snapshot

export interface InstanceCounters {
  advertsReceived: number;
  advertsSent: number;
  priorityZeroReceived: number;
  priorityZeroSent: number;
  /** Adverts ignored: from our own address, wrong VRID/version/family, or while INIT/FAULT. */
  advertsIgnored: number;
  /** Lower-priority adverts discarded by a preempting BACKUP. */
  preemptDiscarded: number;
  /** Lower-priority adverts heard while MASTER (two masters met). */
  lowerPriorityHeard: number;
  becameMaster: number;
  releasedMaster: number;
  garpBursts: number;
  peerClaims: number;
  peerReleases: number;
  peerDead: number;
  unknownTrack: number;
}

export interface InstanceSnapshot {
  name: string;
  vrid: number;
  version: VrrpVersion;
  family: Family;
  state: VrrpState;
  configuredPriority: number;
  /** Priority we advertise / elect with; 0 while demoted. */
  effectivePriority: number;
  /** Everything holding the instance down, in a fixed order; empty when it takes part normally. */
  demotions: Demotion[];
  /** The operator's maintenance demotion is set (one of `demotions`). */
  maintenance: boolean;
  preempt: boolean;
  /** An unweighted tracked object is down. */
  ownFault: boolean;
  /** Held in FAULT by the sync group. */
  groupFault: boolean;
  tracked: Array<{ name: string; up: boolean; weight: number }>;
  vipsHeld: boolean;
  wantMaster: boolean;
  /** The master we last accepted an advert/claim from (BACKUP), if any. */
  master: { address: string; priority: number; advertIntervalCs: number; heardAt: number } | null;
  masterAdverIntervalCs: number;
  skewTimeMs: number;
  masterDownIntervalMs: number;
  /** Pending timers (ms, same clock as `now`). */
  timers: { advert?: number; masterDown?: number; garpDelay?: number; garpRefresh?: number; lowerPrioGarp?: number };
  preemptDelayUntil: number | null;
  /**
   * A BACKUP with preempt that is discarding a lower-ranked master's adverts or serial claims
   * (preempt_delay passed): since when. null otherwise (MASTER, FAULT, demoted, nopreempt, the
   * master outranks us). The heartbeat turns it into a preempt request to the twin.
   */
  preemptReadySince: number | null;
  lastTransition: { from: VrrpState; to: VrrpState; cause: TransitionCause; detail: string; at: number } | null;
  counters: InstanceCounters;
}

/** `VI_1: BACKUP -> MASTER (master down, 3609 ms)` — the log line for a transition action. */
export function formatTransition(
  name: string,
  t: { from: VrrpState; to: VrrpState; cause: TransitionCause; detail: string },
): string {
  return `${name}: ${t.from} -> ${t.to} (${t.cause}${t.detail ? `, ${t.detail}` : ''})`;
}
