/**
 * One VRRP instance (virtual router) as a sans-I/O state machine: `handle(event, now)` returns the
 * actions the shell must perform; `nextDeadline()` says when to call `handle({type:'timer'})`.
 * No clock, socket or timer lives here; `now` is milliseconds on any monotonic clock.
 *
 * Rules, by source:
 * - RFC 3768 §6.1 / RFC 5798 §6.1: Skew_Time, Master_Down_Interval (timers.ts); v3 backups learn
 *   Master_Adver_Interval from the master's adverts, v2 uses its own Advertisement_Interval.
 * - §6.4.1 Initialize: priority 255 (address owner) → MASTER at once; otherwise BACKUP with the
 *   Master_Down timer armed.
 * - §6.4.2 Backup: priority 0 advert → Master_Down timer = Skew_Time; Preempt_Mode false or
 *   priority ≥ ours → reset Master_Down timer; otherwise discard (a preempting backup lets the
 *   timer run out and takes over). Master_Down timer fires → MASTER.
 * - §6.4.3 Master: Adver timer → advert; priority 0 advert → advert at once; higher priority, or
 *   equal priority from a higher primary address → BACKUP; shutdown → priority 0 advert.
 *
 * keepalived behaviour matched (vrrp.c vrrp_state_backup / vrrp_state_master_rx, vrrp_scheduler.c):
 * - A MASTER hearing a lower-priority advert answers with an advert (unless lower_prio_no_advert)
 *   and re-sends gratuitous ARP (garp_lower_prio_repeat): after a healed partition the loser steps
 *   down at once and the LAN's ARP caches follow the winner (keepalived issues #166, #1884).
 *   twinvip also raises the alarm 'dual-master', but only when the other master is heard more
 *   than one advert interval after our first advert as MASTER: a routine preemption always
 *   hears the old master's last advert (sent before, or as, it steps down) right after taking
 *   over, and that is a handover, not a split-brain. Once per episode (until the other master
 *   has been silent for three advert intervals, or we leave MASTER).
 * - preempt_delay: a preempting BACKUP that first hears a lower-priority master starts a delay;
 *   until it has passed such adverts still reset the Master_Down timer (no preemption); after it,
 *   they are discarded and the backup takes over when the timer runs out. A higher-or-equal
 *   advert cancels the delay; entering BACKUP clears it (keepalived's preempt_time).
 * - `state MASTER` (initialState 'MASTER'): keepalived 2.x enters BACKUP with a 1 µs master-down
 *   timer, i.e. takes over at once, and clears nopreempt and preempt_delay. We do the same
 *   (Master_Down timer = 0, cause 'startup state MASTER'); the default 'BACKUP' waits the full
 *   Master_Down_Interval as RFC 6.4.1 says.
 * - Entering FAULT from MASTER sends a priority 0 advert and removes the VIPs; leaving FAULT goes
 *   to BACKUP (an address owner goes straight back to MASTER).
 * - Tracking weights: priority = configured + Σ(weight>0 while up) + Σ(weight<0 while down),
 *   clamped to 1..254; an address owner stays 255. An unweighted object down → FAULT.
 * - Two address owners (255 both): ours is lowered to 254 and an alarm raised (keepalived).
 *
 * twinvip additions:
 * - Named demotions ('demote' event; DemotionReason in events.ts), each set and cleared by its
 *   one owner and combinable: while any is set a MASTER sends priority 0, removes its VIPs and
 *   goes BACKUP, and a BACKUP never takes over, not even on peer-dead. Clearing the last one
 *   re-arms Master_Down (plain VRRP decides again); clearing one of two changes nothing.
 * - Heartbeat arbiter hooks: peer-claim (serial) counts like an advert for a BACKUP and makes an
 *   out-ranked MASTER step down; peer-release = priority 0 advert (Skew_Time), or MASTER now when
 *   the arbiter says the twin is the only other router (`immediate`); peer-dead → MASTER now.
 * - With a sync group, a BACKUP whose Master_Down timer fires emits 'want-master' and waits for
 *   the group coordinator (keepalived's "only sync to master if everyone wants to").
 */

import type { Advert } from './types';
import {
  DEFAULT_GARP,
  DEMOTION_REASONS,
  type Action,
  type Demotion,
  type DemotionReason,
  type GarpParams,
  type GarpReason,
  type InstanceCounters,
  type InstanceEvent,
  type InstanceParams,
  type InstanceSnapshot,
  type NotifyState,
  type TransitionCause,
  type VrrpState,
} from './events';
import { masterDownIntervalMs, skewTimeMs } from './timers';
import { V3_MAX_ADVERT_CS } from './packet';
import { compareAddresses } from '../lib/ip';

const OWNER_PRIORITY = 255;

type TimerName = 'advert' | 'masterDown' | 'garpDelay' | 'garpRefresh' | 'lowerPrioGarp';

interface Rival {
  priority: number;
  source: string;
  advertIntervalCs: number;
}

/** Parameter errors are bugs of the caller (configuration is validated before it gets here). */
export function checkInstanceParams(p: InstanceParams): string[] {
  const errors: string[] = [];
  const int = (v: number) => Number.isInteger(v);
  if (!p.name) errors.push('name: must not be empty');
  if (!int(p.vrid) || p.vrid < 1 || p.vrid > 255) errors.push(`vrid: ${p.vrid} not in 1..255`);
  if (p.version !== 2 && p.version !== 3) errors.push(`version: ${String(p.version)} not 2 or 3`);
  if (p.family !== 4 && p.family !== 6) errors.push(`family: ${String(p.family)} not 4 or 6`);
  if (p.version === 2 && p.family === 6) errors.push('version 2 is IPv4 only');
  if (!int(p.priority) || p.priority < 1 || p.priority > 255) errors.push(`priority: ${p.priority} not in 1..255`);
  if (!int(p.advertIntervalCs) || p.advertIntervalCs < 1 || p.advertIntervalCs > V3_MAX_ADVERT_CS)
    errors.push(`advertIntervalCs: ${p.advertIntervalCs} not in 1..4095`);
  if (p.version === 2 && (p.advertIntervalCs % 100 !== 0 || p.advertIntervalCs > 25500))
    errors.push(`advertIntervalCs: ${p.advertIntervalCs} must be whole seconds (1..255 s) for VRRPv2`);
  if ((p.preemptDelayMs ?? 0) < 0) errors.push('preemptDelayMs: must be >= 0');
  if (!p.primaryAddress) errors.push('primaryAddress: must not be empty');
  const names = new Set<string>();
  for (const t of p.tracked ?? []) {
    if (names.has(t.name)) errors.push(`tracked: duplicate name ${t.name}`);
    names.add(t.name);
  }
  return errors;
}

export class VrrpInstance {
  readonly name: string;
  private readonly p: Required<Omit<InstanceParams, 'garp' | 'tracked' | 'syncGroup'>> & {
    syncGroup: string | undefined;
  };
  private readonly garp: GarpParams;
  private readonly weights = new Map<string, number>();
  private readonly trackUp = new Map<string, boolean>();

  private state: VrrpState = 'INIT';
  private basePriority: number;
  private readonly demotions = new Set<DemotionReason>();
  private groupFault = false;
  private wantMaster = false;
  private vipsHeld = false;
  private masterAdverCs: number;
  private master: InstanceSnapshot['master'] = null;
  private readonly timers: Partial<Record<TimerName, number>> = {};
  /** Why the Master_Down timer is armed, for the cause of the BACKUP → MASTER transition. */
  private downCause: TransitionCause = 'master down';
  private downDetail = '';
  private downArmedAt = 0;
  private preemptUntil: number | null = null;
  /**
   * A preempting BACKUP discarding a lower-ranked master's adverts/claims (after any
   * preempt_delay): since when, without a break. The heartbeat asks the twin to hand over in
   * one exchange from it (snapshot 'preemptReadySince'); null otherwise.
   */
  private preemptingSince: number | null = null;
  private lastLowerPrioGarpAt = -Infinity;
  /** When this mastership's first advert went out (dual-master judgement). */
  private masterSince = 0;
  /** A lower-ranked master heard in this mastership: when last, and whether the alarm is raised. */
  private lowerMaster: { lastHeardAt: number; alarmed: boolean } | null = null;
  private lastTransition: InstanceSnapshot['lastTransition'] = null;
  private readonly counters: InstanceCounters = {
    advertsReceived: 0,
    advertsSent: 0,
    priorityZeroReceived: 0,
    priorityZeroSent: 0,
    advertsIgnored: 0,
    preemptDiscarded: 0,
    lowerPriorityHeard: 0,
    becameMaster: 0,
    releasedMaster: 0,
    garpBursts: 0,
    peerClaims: 0,
    peerReleases: 0,
    peerDead: 0,
    unknownTrack: 0,
  };

  constructor(params: InstanceParams) {
    const errors = checkInstanceParams(params);
    if (errors.length > 0) throw new RangeError(`${params.name || 'vrrp instance'}: ${errors.join('; ')}`);
    const owner = params.addressOwner === true || params.priority === OWNER_PRIORITY;
    const masterHint = params.initialState === 'MASTER';
    this.name = params.name;
    this.p = {
      name: params.name,
      vrid: params.vrid,
      version: params.version,
      family: params.family,
      priority: owner ? OWNER_PRIORITY : params.priority,
      advertIntervalCs: params.advertIntervalCs,
      // keepalived: nopreempt is incompatible with priority 255 and with state MASTER.
      preempt: owner || masterHint ? true : params.preempt ?? true,
      preemptDelayMs: owner || masterHint || params.preempt === false ? 0 : params.preemptDelayMs ?? 0,
      primaryAddress: params.primaryAddress,
      vips: [...params.vips],
      initialState: params.initialState ?? 'BACKUP',
      addressOwner: owner,
      lowerPrioNoAdvert: params.lowerPrioNoAdvert ?? false,
      higherPrioSendAdvert: params.higherPrioSendAdvert ?? true,
      syncGroup: params.syncGroup,
    };
    this.garp = { ...DEFAULT_GARP, ...params.garp };
    this.basePriority = this.p.priority;
    this.masterAdverCs = this.p.advertIntervalCs;
    for (const t of params.tracked ?? []) {
      this.weights.set(t.name, t.weight ?? 0);
      this.trackUp.set(t.name, t.up ?? true);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Public surface

  handle(event: InstanceEvent, now: number): Action[] {
    const out: Action[] = [];
    switch (event.type) {
      case 'startup':
        this.onStartup(now, out);
        break;
      case 'shutdown':
        this.onShutdown(now, out);
        break;
      case 'resume':
        this.onResume(event.state, now, out);
        break;
      case 'advert':
        this.onAdvert(event.advert, now, out);
        break;
      case 'timer':
        this.onTimer(now, out);
        break;
      case 'track':
        this.onTrack(event.name, event.up, now, out);
        break;
      case 'demote':
        this.onDemote(event.reason, event.active, now, out);
        break;
      case 'peer-claim':
        this.counters.peerClaims++;
        this.onRival(
          { priority: event.priority, source: event.address, advertIntervalCs: event.advertIntervalCs },
          'claim',
          now,
          out,
        );
        break;
      case 'peer-release':
        this.counters.peerReleases++;
        if (this.state !== 'BACKUP') break;
        // The twin is the only other router of the VRID: skew exists to let the best of several
        // backups win, and there is no other one. MASTER now (the twin has dropped its VIPs).
        if (event.immediate === true) {
          if (!this.inMaintenance()) this.masterOrWant('twin released', 'over the serial channel, no other router on the VRID: no skew', now, out);
        } else this.armSkew('peer released', 'over the serial channel', now);
        break;
      case 'peer-dead':
        this.counters.peerDead++;
        if (this.state === 'BACKUP' && !this.inMaintenance()) {
          if (event.detail !== undefined) this.masterOrWant('twin dead', event.detail, now, out);
          else this.masterOrWant('peer dead on both channels', 'no advert and no serial frame', now, out);
        }
        break;
      case 'sync':
        this.onSync(event.to, event.group, event.origin, now, out);
        break;
    }
    return out;
  }

  /** The earliest pending timer, or undefined when nothing is armed (INIT, or a waiting state). */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const at of Object.values(this.timers)) if (at !== undefined && (min === undefined || at < min)) min = at;
    return min;
  }

  get currentState(): VrrpState {
    return this.state;
  }

  snapshot(): InstanceSnapshot {
    const prio = this.electionPriority();
    return {
      name: this.p.name,
      vrid: this.p.vrid,
      version: this.p.version,
      family: this.p.family,
      state: this.state,
      configuredPriority: this.basePriority,
      effectivePriority: this.inMaintenance() ? 0 : prio,
      demotions: this.demotionList(),
      maintenance: this.demotions.has('maintenance'),
      preempt: this.p.preempt,
      ownFault: this.ownFault(),
      groupFault: this.groupFault,
      tracked: [...this.weights].map(([name, weight]) => ({ name, weight, up: this.trackUp.get(name) ?? true })),
      vipsHeld: this.vipsHeld,
      wantMaster: this.wantMaster,
      master: this.master ? { ...this.master } : null,
      masterAdverIntervalCs: this.masterAdverCs,
      skewTimeMs: skewTimeMs(this.p.version, prio, this.masterAdverCs),
      masterDownIntervalMs: masterDownIntervalMs(this.p.version, prio, this.masterAdverCs),
      timers: { ...this.timers },
      preemptDelayUntil: this.preemptUntil,
      preemptReadySince: this.state === 'BACKUP' && !this.inMaintenance() ? this.preemptingSince : null,
      lastTransition: this.lastTransition ? { ...this.lastTransition } : null,
      counters: { ...this.counters },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Priority and faults

  /** Any demotion set: priority 0, never MASTER. */
  private inMaintenance(): boolean {
    return this.demotions.size > 0;
  }

  private demotionList(): Demotion[] {
    const out: Demotion[] = DEMOTION_REASONS.filter((r) => this.demotions.has(r));
    if (this.ownFault()) out.push('fault');
    if (this.groupFault) out.push('sync-group-fault');
    return out;
  }

  /** The priority we elect and advertise with (RFC "Priority"; keepalived effective_priority). */
  private electionPriority(): number {
    if (this.basePriority === OWNER_PRIORITY) return OWNER_PRIORITY;
    let prio = this.basePriority;
    for (const [name, weight] of this.weights) {
      const up = this.trackUp.get(name) ?? true;
      if (weight > 0 && up) prio += weight;
      if (weight < 0 && !up) prio += weight;
    }
    return Math.min(254, Math.max(1, prio));
  }

  private ownFault(): boolean {
    for (const [name, weight] of this.weights) if (weight === 0 && !(this.trackUp.get(name) ?? true)) return true;
    return false;
  }

  private downTrackedNames(): string {
    return [...this.weights]
      .filter(([name, w]) => w === 0 && !(this.trackUp.get(name) ?? true))
      .map(([name]) => `${name} down`)
      .join(', ');
  }

  private masterDownMs(): number {
    return masterDownIntervalMs(this.p.version, this.electionPriority(), this.masterAdverCs);
  }

  private skewMs(): number {
    return skewTimeMs(this.p.version, this.electionPriority(), this.masterAdverCs);
  }

  // -------------------------------------------------------------------------------------------
  // Events

  private onStartup(now: number, out: Action[]): void {
    if (this.state !== 'INIT') return;
    this.masterAdverCs = this.p.advertIntervalCs;
    if (this.ownFault() || this.groupFault) {
      this.transition('FAULT', 'startup', this.downTrackedNames() || 'sync group in fault', now, out);
      return;
    }
    if (this.basePriority === OWNER_PRIORITY && !this.inMaintenance()) {
      // RFC 6.4.1: the address owner becomes MASTER at once.
      this.becomeMaster('startup owner', 'priority 255', now, out);
      return;
    }
    this.enterBackup('startup', this.inMaintenance() ? `demoted: ${this.demotionList().join(', ')}` : '', now, out);
    if (this.p.initialState === 'MASTER' && !this.inMaintenance()) {
      this.armDown(0, 'startup state MASTER', 'configured initial state', now);
    }
  }

  /**
   * A reload rebuilt this instance: no INIT -> BACKUP -> MASTER round (no notify, no advert gap).
   * A resumed MASTER advertises its (possibly new) priority at once and re-announces its VIPs
   * (the set may have grown); if its new priority loses, the peer's advert makes it step down
   * as usual. A fault or maintenance at resume time goes through the normal paths.
   */
  private onResume(prev: 'MASTER' | 'BACKUP', now: number, out: Action[]): void {
    if (this.state !== 'INIT') return;
    this.masterAdverCs = this.p.advertIntervalCs;
    if (prev === 'MASTER' && this.inMaintenance()) {
      // Demoted while the instance was being rebuilt: hand over as a demotion of a MASTER does.
      this.state = 'MASTER';
      this.vipsHeld = true;
      this.sendAdvert(0, out);
      this.removeVips(out);
      this.counters.releasedMaster++;
      this.enterBackup(this.demotionCause(), 'priority 0', now, out);
      return;
    }
    if (prev === 'MASTER') {
      this.state = 'MASTER';
      this.masterSince = now;
      this.lowerMaster = null;
      this.vipsHeld = true;
      if (this.ownFault() || this.groupFault) {
        this.enterFault('startup', this.downTrackedNames() || 'sync group in fault', now, out);
        return;
      }
      this.sendAdvert(this.electionPriority(), out);
      this.garpBurst('config reload', this.garp.masterRepeat, out);
      this.timers.advert = now + this.p.advertIntervalCs * 10;
      if (this.garp.masterRefreshMs > 0) this.timers.garpRefresh = now + this.garp.masterRefreshMs;
      return;
    }
    if (this.ownFault() || this.groupFault || this.basePriority === OWNER_PRIORITY) {
      this.onStartup(now, out);
      return;
    }
    this.state = 'BACKUP';
    if (!this.inMaintenance()) this.armDown(this.masterDownMs(), 'master down', '', now);
  }

  private onShutdown(now: number, out: Action[]): void {
    if (this.state === 'INIT') return;
    if (this.state === 'MASTER') {
      // RFC 6.4.3 "If a Shutdown event is received": priority 0 so a backup takes over at Skew_Time.
      this.sendAdvert(0, out);
      this.removeVips(out);
      this.counters.releasedMaster++;
    }
    this.wantMaster = false;
    this.transition('INIT', 'shutdown', '', now, out, 'STOP');
  }

  private onAdvert(advert: Advert, now: number, out: Action[]): void {
    this.counters.advertsReceived++;
    if (
      advert.vrid !== this.p.vrid ||
      advert.version !== this.p.version ||
      advert.family !== this.p.family ||
      advert.source === this.p.primaryAddress
    ) {
      this.counters.advertsIgnored++;
      return;
    }
    if (advert.priority === 0) this.counters.priorityZeroReceived++;
    this.onRival(
      { priority: advert.priority, source: advert.source, advertIntervalCs: advert.advertIntervalCs },
      'advert',
      now,
      out,
    );
  }

  /** An advert (Ethernet) or a mastership claim (serial) from another router. */
  private onRival(r: Rival, via: 'advert' | 'claim', now: number, out: Action[]): void {
    if (this.state === 'BACKUP') this.backupHears(r, via, now);
    else if (this.state === 'MASTER') this.masterHears(r, via, now, out);
    else if (via === 'advert') this.counters.advertsIgnored++;
  }

  /** RFC 3768/5798 §6.4.2 with keepalived's preempt_delay. */
  private backupHears(r: Rival, via: 'advert' | 'claim', now: number): void {
    if (r.priority === 0) {
      this.armSkew('priority 0 from master', `${r.source}${via === 'claim' ? ' (serial)' : ''}`, now);
      return;
    }
    const ours = this.electionPriority();
    const delaying =
      this.p.preemptDelayMs > 0 && (this.preemptUntil === null || this.preemptUntil > now);
    if (!this.p.preempt || r.priority >= ours || delaying) {
      if (this.p.version === 3) this.masterAdverCs = r.advertIntervalCs;
      this.master = { address: r.source, priority: r.priority, advertIntervalCs: r.advertIntervalCs, heardAt: now };
      this.wantMaster = false;
      if (this.p.preemptDelayMs > 0) {
        if (r.priority >= ours) this.preemptUntil = null;
        else if (this.preemptUntil === null) this.preemptUntil = now + this.p.preemptDelayMs;
      }
      if (!this.inMaintenance()) this.armDown(this.masterDownMs(), 'master down', '', now);
      this.preemptingSince = null;
      return;
    }
    // Preempt: discard, and let the Master_Down timer run out (RFC: "Discard the ADVERTISEMENT").
    this.counters.preemptDiscarded++;
    this.preemptingSince ??= now;
    this.downCause = 'preempt';
    this.downDetail = `lower priority master ${r.source} (${r.priority}), ours ${ours}`;
  }

  /** RFC §6.4.3 with keepalived's vrrp_state_master_rx. */
  private masterHears(r: Rival, via: 'advert' | 'claim', now: number, out: Action[]): void {
    const ours = this.electionPriority();
    if (r.priority === 0) {
      if (via === 'advert') {
        this.sendAdvert(ours, out);
        this.timers.advert = now + this.p.advertIntervalCs * 10;
      }
      return;
    }
    if (r.priority === OWNER_PRIORITY && ours === OWNER_PRIORITY) {
      this.basePriority = OWNER_PRIORITY - 1;
      out.push({
        type: 'alarm',
        name: 'address-owner-conflict',
        detail: `${r.source} also claims to own the addresses; our priority lowered to 254`,
      });
      this.masterHears(r, via, now, out);
      return;
    }
    const cmp = compareAddresses(r.source, this.p.primaryAddress);
    if (r.priority > ours || (r.priority === ours && cmp > 0)) {
      const cause: TransitionCause =
        via === 'claim' ? 'peer claim' : r.priority > ours ? 'higher priority advert' : 'equal priority, higher address';
      const detail = `from ${r.source} (${r.priority})${via === 'claim' ? ' over serial' : ''}, ours ${ours}`;
      // keepalived higher_prio_send_advert: one last advert at our priority, so a winner that
      // missed the split (a healed partition) hears a lower-priority master and re-sends
      // gratuitous ARP — otherwise LAN hosts may keep our MAC for the VIP.
      if (via === 'advert' && this.p.higherPrioSendAdvert) this.sendAdvert(ours, out);
      this.removeVips(out);
      this.counters.releasedMaster++;
      if (this.p.version === 3) this.masterAdverCs = r.advertIntervalCs;
      this.master = { address: r.source, priority: r.priority, advertIntervalCs: r.advertIntervalCs, heardAt: now };
      this.enterBackup(cause, detail, now, out, true);
      return;
    }
    if (r.priority === ours && cmp === 0) return; // our own address: a looped-back copy
    // A lower-ranked master: two masters met (healed partition, or a peer that started MASTER),
    // or the master we just preempted, whose last advert crossed ours (a handover).
    this.counters.lowerPriorityHeard++;
    this.judgeDualMaster(r, via, ours, now, out);
    if (via === 'advert' && !this.p.lowerPrioNoAdvert) this.sendAdvert(ours, out);
    // Rate-limited to one burst per advert interval: serial claims may arrive faster than adverts.
    if (this.garp.lowerPrioRepeat > 0 && now - this.lastLowerPrioGarpAt >= this.p.advertIntervalCs * 10) {
      this.lastLowerPrioGarpAt = now;
      this.garpBurst(via === 'advert' ? 'lower priority master heard' : 'lower priority peer claim', this.garp.lowerPrioRepeat, out);
      if (this.garp.lowerPrioDelayMs > 0) this.timers.lowerPrioGarp = now + this.garp.lowerPrioDelayMs;
    }
  }

  private judgeDualMaster(r: Rival, via: 'advert' | 'claim', ours: number, now: number, out: Action[]): void {
    const intervalMs = this.p.advertIntervalCs * 10;
    // A new episode once the other master has been silent for three advert intervals.
    if (this.lowerMaster === null || now - this.lowerMaster.lastHeardAt > 3 * intervalMs) {
      this.lowerMaster = { lastHeardAt: now, alarmed: false };
    }
    this.lowerMaster.lastHeardAt = now;
    const overlapMs = now - this.masterSince;
    if (this.lowerMaster.alarmed || overlapMs <= intervalMs) return;
    this.lowerMaster.alarmed = true;
    out.push({
      type: 'alarm',
      name: 'dual-master',
      overlapMs,
      detail: `lower priority master ${r.source} (${r.priority}) heard${via === 'claim' ? ' over serial' : ''} ${Math.round(overlapMs)} ms after our first advert as MASTER, ours ${ours}; re-announcing`,
    });
  }

  private onTimer(now: number, out: Action[]): void {
    // Fire every due timer, earliest first; a handler may disarm or re-arm others.
    for (let guard = 0; guard < 16; guard++) {
      let due: TimerName | undefined;
      let dueAt = Infinity;
      for (const [name, at] of Object.entries(this.timers) as Array<[TimerName, number | undefined]>) {
        if (at !== undefined && at <= now && at < dueAt) {
          due = name;
          dueAt = at;
        }
      }
      if (due === undefined) return;
      delete this.timers[due];
      this.fire(due, dueAt, now, out);
    }
  }

  private fire(timer: TimerName, dueAt: number, now: number, out: Action[]): void {
    const intervalMs = this.p.advertIntervalCs * 10;
    switch (timer) {
      case 'advert':
        if (this.state !== 'MASTER') return;
        this.sendAdvert(this.electionPriority(), out);
        // Keep the cadence anchored on the schedule, not on the shell's wake-up latency.
        this.timers.advert = dueAt + intervalMs > now ? dueAt + intervalMs : now + intervalMs;
        return;
      case 'masterDown':
        if (this.state !== 'BACKUP' || this.inMaintenance()) return;
        this.masterOrWant(
          this.downCause,
          this.downCause === 'master down' ? `${Math.round(now - this.downArmedAt)} ms without advert` : this.downDetail,
          now,
          out,
        );
        return;
      case 'garpDelay':
        if (this.state === 'MASTER') this.garpBurst('master delay', this.garp.masterRepeat, out);
        return;
      case 'garpRefresh':
        if (this.state !== 'MASTER') return;
        this.garpBurst('master refresh', this.garp.masterRefreshRepeat, out);
        this.timers.garpRefresh = now + this.garp.masterRefreshMs;
        return;
      case 'lowerPrioGarp':
        if (this.state === 'MASTER')
          this.garpBurst('lower priority master heard (delayed)', this.garp.lowerPrioRepeat, out);
        return;
    }
  }

  private onTrack(name: string, up: boolean, now: number, out: Action[]): void {
    if (!this.trackUp.has(name)) {
      this.counters.unknownTrack++;
      return;
    }
    const wasFault = this.ownFault();
    const oldPrio = this.electionPriority();
    this.trackUp.set(name, up);
    const isFault = this.ownFault();
    if (!wasFault && isFault) {
      if (this.state === 'MASTER' || this.state === 'BACKUP') this.enterFault('fault', `${name} down`, now, out);
      return;
    }
    if (wasFault && !isFault) {
      if (this.state === 'FAULT' && !this.groupFault) this.leaveFault(`${name} up`, now, out);
      return;
    }
    if (this.electionPriority() !== oldPrio && this.state === 'MASTER') this.sendAdvert(this.electionPriority(), out);
  }

  private onDemote(reason: DemotionReason, active: boolean, now: number, out: Action[]): void {
    const was = this.inMaintenance();
    this.preemptingSince = null;
    if (active) this.demotions.add(reason);
    else this.demotions.delete(reason);
    if (this.inMaintenance() && !was) {
      this.wantMaster = false;
      if (this.state === 'MASTER') {
        this.sendAdvert(0, out);
        this.removeVips(out);
        this.counters.releasedMaster++;
        this.enterBackup(reason, 'priority 0', now, out);
      }
      delete this.timers.masterDown;
      return;
    }
    if (was && !this.inMaintenance() && this.state === 'BACKUP') this.armDown(this.masterDownMs(), 'master down', '', now);
  }

  /** The transition cause of a demotion in force (the first reason set, in the fixed order). */
  private demotionCause(): TransitionCause {
    return DEMOTION_REASONS.find((r) => this.demotions.has(r)) ?? 'maintenance';
  }

  private onSync(to: 'MASTER' | 'BACKUP' | 'FAULT' | 'FAULT-CLEAR', group: string, origin: string, now: number, out: Action[]): void {
    const detail = `${group}: ${origin}`;
    switch (to) {
      case 'MASTER':
        if (this.state === 'BACKUP' && !this.inMaintenance()) this.becomeMaster('sync group', detail, now, out);
        return;
      case 'BACKUP':
        if (this.state === 'MASTER') {
          this.sendAdvert(0, out); // hand the sibling VRID over at Skew_Time, not Master_Down
          this.removeVips(out);
          this.counters.releasedMaster++;
          this.enterBackup('sync group', detail, now, out);
        }
        return;
      case 'FAULT':
        this.groupFault = true;
        if (this.state === 'MASTER' || this.state === 'BACKUP') this.enterFault('sync group', detail, now, out);
        return;
      case 'FAULT-CLEAR':
        this.groupFault = false;
        if (this.state === 'FAULT' && !this.ownFault()) this.leaveFault(`sync group ${group} up`, now, out);
        return;
    }
  }

  // -------------------------------------------------------------------------------------------
  // State changes

  private masterOrWant(cause: TransitionCause, detail: string, now: number, out: Action[]): void {
    delete this.timers.masterDown;
    if (this.p.syncGroup !== undefined) {
      this.wantMaster = true;
      out.push({ type: 'want-master', cause, detail });
      return;
    }
    this.becomeMaster(cause, detail, now, out);
  }

  private becomeMaster(cause: TransitionCause, detail: string, now: number, out: Action[]): void {
    this.wantMaster = false;
    this.master = null;
    this.preemptUntil = null;
    this.masterAdverCs = this.p.advertIntervalCs; // a master uses its own interval (RFC 5798 6.4.1)
    this.transitionOnly('MASTER', cause, detail, now, out);
    this.masterSince = now;
    this.lowerMaster = null;
    this.counters.becameMaster++;
    out.push({ type: 'add-vips' });
    this.vipsHeld = true;
    this.sendAdvert(this.electionPriority(), out);
    this.garpBurst('become master', this.garp.masterRepeat, out);
    out.push({ type: 'notify', state: 'MASTER', cause, detail });
    this.clearTimers();
    this.timers.advert = now + this.p.advertIntervalCs * 10;
    if (this.garp.masterDelayMs > 0) this.timers.garpDelay = now + this.garp.masterDelayMs;
    if (this.garp.masterRefreshMs > 0) this.timers.garpRefresh = now + this.garp.masterRefreshMs;
  }

  /** Into BACKUP from INIT, MASTER or FAULT; the caller has already released the VIPs. */
  private enterBackup(cause: TransitionCause, detail: string, now: number, out: Action[], keepLearned = false): void {
    this.clearTimers();
    this.wantMaster = false;
    this.preemptUntil = null;
    if (!keepLearned) {
      this.masterAdverCs = this.p.advertIntervalCs;
      this.master = null;
    }
    this.transition('BACKUP', cause, detail, now, out);
    if (!this.inMaintenance()) this.armDown(this.masterDownMs(), 'master down', '', now);
  }

  private enterFault(cause: TransitionCause, detail: string, now: number, out: Action[]): void {
    if (this.state === 'MASTER') {
      // keepalived vrrp_state_leave_master(FAULT): priority 0 so the peer takes over at Skew_Time.
      this.sendAdvert(0, out);
      this.removeVips(out);
      this.counters.releasedMaster++;
    }
    this.clearTimers();
    this.wantMaster = false;
    this.master = null;
    this.transition('FAULT', cause, detail, now, out);
  }

  private leaveFault(detail: string, now: number, out: Action[]): void {
    if (this.basePriority === OWNER_PRIORITY && !this.inMaintenance()) {
      this.becomeMaster('fault cleared', detail, now, out);
      return;
    }
    this.enterBackup('fault cleared', detail, now, out);
  }

  private transition(to: VrrpState, cause: TransitionCause, detail: string, now: number, out: Action[], notify?: NotifyState): void {
    this.transitionOnly(to, cause, detail, now, out);
    out.push({ type: 'notify', state: notify ?? (to as NotifyState), cause, detail });
    if (to === 'INIT') this.clearTimers();
  }

  private transitionOnly(to: VrrpState, cause: TransitionCause, detail: string, now: number, out: Action[]): void {
    const from = this.state;
    this.preemptingSince = null;
    this.state = to;
    this.lastTransition = { from, to, cause, detail, at: now };
    out.push({ type: 'transition', from, to, cause, detail });
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  private armDown(ms: number, cause: TransitionCause, detail: string, now: number): void {
    this.timers.masterDown = now + ms;
    this.downArmedAt = now;
    this.downCause = cause;
    this.downDetail = detail;
  }

  private armSkew(cause: TransitionCause, detail: string, now: number): void {
    if (this.inMaintenance()) return;
    // A serial release followed a few ms later by the priority-0 advert of the same shutdown (or
    // the reverse) is one event: keep the skew timer already running rather than restart it.
    const armed = this.timers.masterDown;
    const skewArmed = this.downCause === 'peer released' || this.downCause === 'priority 0 from master';
    if (armed !== undefined && skewArmed && armed <= now + this.skewMs()) return;
    this.armDown(this.skewMs(), cause, detail, now);
  }

  private clearTimers(): void {
    for (const k of Object.keys(this.timers) as TimerName[]) delete this.timers[k];
  }

  private sendAdvert(priority: number, out: Action[]): void {
    this.counters.advertsSent++;
    if (priority === 0) this.counters.priorityZeroSent++;
    out.push({ type: 'send-advert', priority, advertIntervalCs: this.p.advertIntervalCs });
  }

  private removeVips(out: Action[]): void {
    out.push({ type: 'remove-vips' });
    this.vipsHeld = false;
  }

  private garpBurst(reason: GarpReason, count: number, out: Action[]): void {
    if (count <= 0) return;
    this.counters.garpBursts++;
    out.push({ type: 'send-garp', reason, count });
  }
}
