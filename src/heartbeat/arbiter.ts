// The split-brain arbiter: combines, per VRRP instance, the Ethernet channel (adverts from the
// peer, reported by the shell) and the serial channel (the peer's authenticated heartbeat) as
// DESIGN.md's decision table says, and turns the combination into events for the VRRP state
// machine and actions for the shell. I/O-free: every input carries `now` (ms, monotonic).
//
// Decision table (seen from the BACKUP) and what this file does for each row:
//   E ok,   S ok                      -> plain VRRP. (Serial MASTER claims are forwarded as
//                                        'peer-claim', which carries what the advert carries.)
//   E ok,   S lost                    -> plain VRRP; alarm serial-heartbeat-lost.
//   E lost, S ok, peer MASTER healthy -> stay BACKUP: every heartbeat yields 'peer-claim', which
//                                        the VRRP machine treats as an advert, so Master_Down
//                                        never expires; alarm ethernet-heartbeat-lost.
//                                        Gateway rule: see below.
//   E lost, S ok, peer FAULT/releasing/priority 0, or a release frame
//                                     -> 'peer-release' once: take over at once when the twin is
//                                        the only other router of the VRID (soleTwin: pair mode,
//                                        no mixed group, no foreign router heard), else after
//                                        skew time (RFC, a group with a third router).
//   E lost, S lost                    -> after S silent deadPeriods x period AND no advert for one
//                                        advert interval + margin: ['run-fence' -> 'fence-result']
//                                        -> 'peer-dead' once.
// Preempt in one exchange (preempt.ts): the twin's heartbeat flag wantsMaster reaches an
// outranked MASTER as 'peer-claim' (it steps down, and its release makes the twin MASTER).
// The MASTER mirror: a serial MASTER claim reaches a MASTER as 'peer-claim' as well; VRRP's own
// advert rules (RFC 3768 §6.4.3 / RFC 5798 §6.4.3: higher priority, then higher primary address)
// make it step down when outranked, with or without Ethernet adverts.
//
// Gateway rule (symmetric, decided by the holder of the VIP only, so the two boxes can never
// both act): node X emits 'send-release' for an instance when
//   X is MASTER, S is ok, the peer reports the instance BACKUP with priority > 0 and not
//   releasing, the peer reports it does NOT hear X's adverts (Ethernet path broken), the peer
//   reports its LAN gateway reachable, and X's own gateway is not reachable.
// The daemon turns 'send-release' into a maintenance demote of that instance plus a release frame
// on S; the peer's arbiter turns the release frame into 'peer-release' and takes over at once.
// Seen from the BACKUP, "the peer cannot reach the gateway while we can" is therefore handled by
// the peer releasing, never by the backup grabbing: no dual-master window.
//
// Pair mode (vrid-conflict.ts): the twin's addresses come with each heartbeat; an advert for our
// VRID from any other source is dropped by the VRRP runner before the state machine
// (twinFilter()), reported here as 'foreign-advert' (alarm vrid-conflict with source, priority,
// address list, first/last seen), and never refreshes the Ethernet channel. Not for an instance
// declared a mixed group, nor before the first heartbeat (then the twin is unknown: plain VRRP).
//
// Split-brain: when both channels were lost for an instance and one heals while this node is
// MASTER and the peer shows MASTER (a heartbeat saying so, or any advert: only masters advertise),
// 'split-brain-detected'; once either side leaves MASTER, 'split-brain-resolved' with durationMs
// measured from the later of (partition start, our MASTER transition) — an upper bound of the
// dual-master time — and, if this node kept MASTER, a 'garp' action to re-announce the VIPs.
// A MASTER that sees a partition heal without seeing the peer MASTER re-announces as well: the
// peer may have held the VIP during the partition and stepped down before telling us.

import type { VrrpState } from '../vrrp/types';
import type { Family, HeartbeatFrame, Health, InstanceReport, ReleaseFrame } from './frame';
import type { ProbeInstance } from './probe';
import { twinAddressesOf, VridConflicts, type ConflictSource, type ForeignAdvert } from './vrid-conflict';
import {
  ChannelLiveness,
  DEFAULT_DEAD_PERIODS,
  DEFAULT_ETHERNET_MARGIN_MS,
  DEFAULT_SERIAL_PERIOD_MS,
  ethernetDeadMs,
  serialDeadMs,
} from './peer-liveness';

export interface ArbiterInstanceConfig {
  vrid: number;
  family: Family;
  /** Our configured advert interval; replaced by the peer's once its adverts arrive. */
  advertIntervalCs: number;
  /** A third router legitimately shares the VRID: no twin filter, plain RFC/keepalived rules. */
  mixedGroup?: boolean;
}

export interface ArbiterOptions {
  instances: ArbiterInstanceConfig[];
  serialPeriodMs?: number;
  deadPeriods?: number;
  ethernetMarginMs?: number;
  /** A fence command is configured: ask the shell to run it before 'peer-dead'. */
  fence?: boolean;
  /**
   * Probe the twin's daemon over the LAN (probe.ts) once the serial link has been silent for
   * `afterMs`, instead of waiting for the Ethernet channel to expire: the verdict decides row 5.
   * After an "alive" verdict the serial link is down while the twin lives: probing starts again
   * only once its adverts stop too (both channels lost), every `reprobeMs`. Absent: row 5 as
   * RFC timers allow (both channels silent).
   */
  probe?: { afterMs: number; reprobeMs?: number };
}

export const DEFAULT_REPROBE_MS = 1000;

export type ArbiterInput =
  /** The VRRP machine changed state or effective priority (also once at start). */
  | { type: 'local-state'; vrid: number; family: Family; state: VrrpState; priority: number }
  | { type: 'local-health'; health: Health }
  /** A valid advert (not our own) for this instance; only the twin's count for the Ethernet channel. */
  | { type: 'advert'; vrid: number; family: Family; priority: number; advertIntervalCs: number; address: string }
  /** An advert for this instance's VRID that the runner dropped as not the twin's (pair mode). */
  | ({ type: 'foreign-advert' } & ForeignAdvert)
  /** An accepted (authenticated, fresh) heartbeat or release frame. */
  | { type: 'serial-frame'; frame: HeartbeatFrame | ReleaseFrame }
  | { type: 'fence-result'; ok: boolean; detail?: string }
  /** The verdict of a probe round the arbiter asked for ('probe-twin'); detail says which signal decided. */
  | { type: 'probe-result'; alive: boolean; detail: string; twin?: ProbeInstance[] }
  /** Time passed; call at nextDeadline(). */
  | { type: 'tick' };

/** Events for the VRRP state machine — exactly these shapes. */
export type PeerEvent =
  | { type: 'peer-claim'; priority: number; address: string; advertIntervalCs: number }
  /** immediate: the twin is the only other router of the VRID (soleTwin()): no skew. */
  | { type: 'peer-release'; immediate: boolean }
  | { type: 'peer-dead'; detail?: string };

export type AlarmName =
  | 'serial-heartbeat-lost'
  | 'serial-heartbeat-restored'
  | 'ethernet-heartbeat-lost'
  | 'ethernet-heartbeat-restored'
  | 'split-brain-detected'
  | 'split-brain-resolved'
  | 'fence-failed'
  /** Pair mode: a router that is not the twin advertises our VRID (one alarm per new source). */
  | 'vrid-conflict'
  /** Clears vrid-conflict: no foreign advert for CONFLICT_QUIET_MS. */
  | 'vrid-conflict-resolved'
  /** Clears fence-failed: a later fence succeeded, or the twin was heard again. */
  | 'fence-failed-resolved';

export interface Alarm {
  type: 'alarm';
  name: AlarmName;
  detail: string;
  durationMs?: number;
  /** Absent for peer-wide alarms (serial-*, fence-failed*). */
  vrid?: number;
  family?: Family;
}

export type ArbiterOutput =
  | { type: 'vrrp'; vrid: number; family: Family; event: PeerEvent }
  /** This node gives the instance up: demote it (maintenance) and send a release frame on S. */
  | { type: 'send-release'; vrid: number; family: Family; reason: string }
  /** Probe the twin's daemon at `address` (probe.ts), then feed { type: 'probe-result' }. */
  | { type: 'probe-twin'; address: string; vrid: number; family: Family; reason: string }
  /** Run the fence hook, then feed { type: 'fence-result' }. */
  | { type: 'run-fence'; instances: { vrid: number; family: Family }[] }
  /** Re-announce this instance's VIPs (gratuitous ARP / unsolicited NA) after a split-brain. */
  | { type: 'garp'; vrid: number; family: Family; reason: string }
  | Alarm;

interface InstanceState {
  cfg: ArbiterInstanceConfig;
  ethernet: ChannelLiveness;
  local: VrrpState;
  localPriority: number;
  masterSince: number | null;
  ethAlarmSince: number | null;
  releaseLatched: boolean;
  deadLatched: boolean;
  fencePending: boolean;
  sendReleaseLatched: boolean;
  partitionSince: number | null;
  splitBrain: { start: number; detectedAt: number } | null;
}

export interface ArbiterInstanceView {
  vrid: number;
  family: Family;
  local: VrrpState;
  ethernetOk: boolean;
  lastAdvertAt: number | null;
  peer: InstanceReport | null;
  splitBrain: boolean;
  alarms: AlarmName[];
  /** The decision-table row that applies now, in words (console, status). */
  decision: string;
  /** Pair mode: routers other than the twin heard on this VRID in the current conflict episode. */
  conflicts?: ConflictSource[];
  mixedGroup?: boolean;
}

export interface ArbiterView {
  serialOk: boolean;
  lastFrameAt: number | null;
  peerNodeId: string | null;
  peerHealth: Health | null;
  /** Pair mode: the twin's addresses from its last heartbeat, null before the first one. */
  twinAddresses?: string[] | null;
  instances: ArbiterInstanceView[];
}

const key = (vrid: number, family: Family) => `${family}/${vrid}`;

export class HeartbeatArbiter {
  private readonly serial: ChannelLiveness;
  private serialAlarm = false;
  private lastHeartbeat: HeartbeatFrame | null = null;
  private readonly instances = new Map<string, InstanceState>();
  private health: Health = { uplink: false, gateway: false, nginx: false };
  private fenceRunning = false;
  /** The twin's addresses from its last heartbeat (kept when the serial link goes quiet). */
  private twin: Set<string> | null = null;
  private readonly conflicts = new VridConflicts();
  /** When the fence-failed alarm was raised and not yet cleared. */
  private fenceFailedAt: number | null = null;
  private readonly margin: number;
  private lastNow: number;
  /** The probe of the twin's daemon since the serial link last spoke (probe.ts). */
  private probe: { phase: 'idle' | 'running' | 'alive' | 'dead'; startedAt: number; at: number; detail: string } = { phase: 'idle', startedAt: 0, at: 0, detail: '' };

  constructor(private readonly opts: ArbiterOptions, now: number) {
    this.lastNow = now;
    this.margin = opts.ethernetMarginMs ?? DEFAULT_ETHERNET_MARGIN_MS;
    this.serial = new ChannelLiveness(
      serialDeadMs({ periodMs: opts.serialPeriodMs ?? DEFAULT_SERIAL_PERIOD_MS, deadPeriods: opts.deadPeriods ?? DEFAULT_DEAD_PERIODS }),
      now,
    );
    for (const cfg of opts.instances) this.instances.set(key(cfg.vrid, cfg.family), this.freshInstance(cfg, now));
  }

  /**
   * The instances after a configuration reload: those that stay keep their channel state and
   * latches (a new advert interval applies from their next advert), added ones start as at
   * start-up, removed ones are forgotten.
   */
  setInstances(instances: readonly ArbiterInstanceConfig[], now: number): void {
    const keep = new Map<string, InstanceState>();
    for (const cfg of instances) {
      const k = key(cfg.vrid, cfg.family);
      const old = this.instances.get(k);
      keep.set(k, old ? { ...old, cfg } : this.freshInstance(cfg, now));
    }
    this.instances.clear();
    for (const [k, v] of keep) this.instances.set(k, v);
  }

  private freshInstance(cfg: ArbiterInstanceConfig, now: number): InstanceState {
    return {
      cfg,
      ethernet: new ChannelLiveness(ethernetDeadMs(cfg.advertIntervalCs, this.margin), now),
      local: 'INIT',
      localPriority: 0,
      masterSince: null,
      ethAlarmSince: null,
      releaseLatched: false,
      deadLatched: false,
      fencePending: false,
      sendReleaseLatched: false,
      partitionSince: null,
      splitBrain: null,
    };
  }

  handle(input: ArbiterInput, now: number): ArbiterOutput[] {
    this.lastNow = now;
    const out: ArbiterOutput[] = [];
    switch (input.type) {
      case 'local-state': {
        const inst = this.instances.get(key(input.vrid, input.family));
        if (!inst) return out;
        if (input.state === 'MASTER' && inst.local !== 'MASTER') inst.masterSince = now;
        if (input.state !== 'MASTER') inst.masterSince = null;
        inst.local = input.state;
        inst.localPriority = input.priority;
        break;
      }
      case 'local-health':
        this.health = { ...input.health };
        break;
      case 'advert': {
        const inst = this.instances.get(key(input.vrid, input.family));
        if (!inst) return out;
        // A third router of a mixed group: VRRP acts on it, but it says nothing about the twin.
        if (this.twin !== null && !this.twin.has(input.address)) break;
        // Healing is judged before the advert refreshes the channel, so a partition that ends
        // with this very advert is still seen as one.
        this.checkHeal(inst, now, out, input.priority > 0);
        inst.ethernet.setDeadMs(ethernetDeadMs(input.advertIntervalCs, this.margin));
        inst.ethernet.heard(now);
        this.clearFenceFailed(`the twin's adverts are heard again (VRID ${input.vrid})`, now, out);
        if (inst.ethAlarmSince !== null) {
          out.push(this.alarm('ethernet-heartbeat-restored', inst, 'advert from peer heard again', now - inst.ethAlarmSince));
          inst.ethAlarmSince = null;
        }
        break;
      }
      case 'foreign-advert': {
        const inst = this.instances.get(key(input.vrid, input.family));
        if (!inst || inst.cfg.mixedGroup) return out;
        for (const e of this.conflicts.heard(input, now)) {
          if (e.type === 'raised') out.push(this.alarm('vrid-conflict', inst, e.detail));
        }
        break;
      }
      case 'serial-frame':
        this.onSerialFrame(input.frame, now, out);
        break;
      case 'fence-result':
        this.onFenceResult(input.ok, input.detail, now, out);
        break;
      case 'probe-result':
        this.onProbeResult(input.alive, input.detail, input.twin ?? [], now, out);
        break;
      case 'tick':
        break;
    }
    this.evaluate(now, out);
    return out;
  }

  /** The next time `tick` must be fed (absolute ms), or null when no channel is about to expire. */
  nextDeadline(): number | null {
    let next: number | null = null;
    const consider = (t: number) => {
      if (t > this.lastNow && (next === null || t < next)) next = t;
    };
    consider(this.serial.deadline());
    if (this.opts.probe) {
      consider(this.serial.lastEvidence() + this.opts.probe.afterMs);
      if (this.probe.phase === 'alive') consider(this.probe.at + (this.opts.probe.reprobeMs ?? DEFAULT_REPROBE_MS));
    }
    for (const inst of this.instances.values()) consider(inst.ethernet.deadline());
    const quiet = this.conflicts.nextDeadline();
    if (quiet !== null) consider(quiet);
    return next;
  }

  /**
   * Pair mode for an instance: the twin's addresses, for the VRRP runner to drop adverts from
   * anyone else. undefined = plain VRRP (mixed group, unknown instance, no heartbeat heard yet).
   * A reload changes `mixedGroup` through setInstances.
   */
  twinFilter(vrid: number, family: Family): { twin: ReadonlySet<string> } | undefined {
    const inst = this.instances.get(key(vrid, family));
    if (!inst || inst.cfg.mixedGroup || this.twin === null) return undefined;
    return { twin: this.twin };
  }

  /**
   * The twin is the only other router of this VRID, so a release by it needs no Skew_Time (skew
   * lets the best of several backups win): pair mode (the twin is known from its heartbeats), the
   * instance is not declared a mixed group (a third router's backup never advertises, so "not
   * heard" would not prove it absent), and no other router is heard on the VRID now (a
   * vrid-conflict episode is open).
   */
  private soleTwin(inst: InstanceState): boolean {
    return this.twin !== null && inst.cfg.mixedGroup !== true && this.conflicts.sources(inst.cfg.vrid, inst.cfg.family).length === 0;
  }

  /**
   * Preempt in one exchange (preempt.ts): the twin, BACKUP and outranking us, asks for the
   * instance while we are MASTER. Its request counts as its claim, so the VRRP machine steps
   * down as it would for the twin's first advert as MASTER; the shell then sends the release
   * once our VIPs are gone. Only for a MASTER (a BACKUP has nothing to hand over), only for a
   * strictly higher priority (RFC: an equal priority never preempts), only from the twin in
   * pair mode (a mixed group keeps the RFC path: its third router may outrank both).
   */
  private preemptRequest(inst: InstanceState, rep: InstanceReport): boolean {
    return rep.wantsMaster === true && rep.state === 'BACKUP' && rep.releasing !== true && inst.local === 'MASTER' &&
      rep.effectivePriority > inst.localPriority && this.soleTwin(inst);
  }

  /** Whether adverts from the peer for this instance are currently heard (for our heartbeat). */
  hearsPeerAdverts(vrid: number, family: Family, now: number): boolean {
    const inst = this.instances.get(key(vrid, family));
    return inst !== undefined && inst.ethernet.everHeard && !inst.ethernet.isSilent(now);
  }

  view(now: number): ArbiterView {
    const sOk = !this.serial.isSilent(now);
    return {
      serialOk: sOk,
      lastFrameAt: this.serial.lastHeardAt,
      peerNodeId: this.lastHeartbeat?.nodeId ?? null,
      peerHealth: this.lastHeartbeat?.health ?? null,
      twinAddresses: this.twin ? [...this.twin] : null,
      instances: [...this.instances.values()].map((inst) => {
        const alarms: AlarmName[] = [];
        if (this.serialAlarm) alarms.push('serial-heartbeat-lost');
        if (inst.ethAlarmSince !== null) alarms.push('ethernet-heartbeat-lost');
        if (inst.splitBrain) alarms.push('split-brain-detected');
        if (this.conflicts.sources(inst.cfg.vrid, inst.cfg.family).length > 0) alarms.push('vrid-conflict');
        return {
          vrid: inst.cfg.vrid,
          family: inst.cfg.family,
          local: inst.local,
          ethernetOk: !inst.ethernet.isSilent(now),
          lastAdvertAt: inst.ethernet.lastHeardAt,
          peer: this.reportFor(inst) ?? null,
          splitBrain: inst.splitBrain !== null,
          alarms,
          decision: this.decisionFor(inst, sOk, now),
          conflicts: this.conflicts.sources(inst.cfg.vrid, inst.cfg.family),
          mixedGroup: inst.cfg.mixedGroup === true,
        };
      }),
    };
  }

  /** The decision-table row in force for `inst` (header of this file), for people. */
  private decisionFor(inst: InstanceState, sOk: boolean, now: number): string {
    const eOk = !inst.ethernet.isSilent(now);
    const rep = sOk ? this.reportFor(inst) : undefined;
    if (inst.splitBrain) return 'split-brain: both MASTER, resolving by VRRP rank';
    if (inst.sendReleaseLatched) return 'released to the twin: it reaches the LAN gateway, this node does not';
    if (eOk && sOk) return 'plain VRRP (both channels)';
    if (eOk) return 'plain VRRP (serial lost)';
    if (sOk && rep && (rep.state === 'FAULT' || rep.releasing === true || rep.effectivePriority === 0)) {
      return inst.local === 'MASTER' ? 'MASTER; the twin cannot serve' : 'take over: the twin cannot serve';
    }
    if (sOk && rep && claims(rep)) {
      return inst.local === 'MASTER' ? 'both claim MASTER: VRRP rank decides over serial' : 'stay BACKUP: the twin is MASTER over serial, Ethernet path broken';
    }
    if (sOk) return inst.local === 'MASTER' ? 'MASTER; the twin is alive over serial' : 'BACKUP; the twin is alive over serial, not MASTER';
    if (inst.local !== 'BACKUP') return `${inst.local}; the twin is not heard on either channel`;
    if (inst.fencePending) return 'twin lost on both channels: fencing before taking over';
    return 'twin lost on both channels: take over';
  }

  private onSerialFrame(frame: HeartbeatFrame | ReleaseFrame, now: number, out: ArbiterOutput[]): void {
    const wasSilentSince = this.serial.isSilent(now) ? (this.serial.lastHeardAt ?? null) : undefined;
    // Heal judgement needs the new content but the pre-frame channel state.
    if (frame.kind === 'heartbeat') {
      this.lastHeartbeat = frame;
      this.twin = twinAddressesOf(frame);
    }
    for (const inst of this.instances.values()) {
      const rep = frame.kind === 'heartbeat' ? findReport(frame, inst.cfg) : undefined;
      this.checkHeal(inst, now, out, rep?.state === 'MASTER');
    }
    this.serial.heard(now);
    this.probe = { phase: 'idle', startedAt: 0, at: 0, detail: '' };
    this.clearFenceFailed(`the twin ${frame.nodeId} is heard again over serial`, now, out);
    if (this.serialAlarm) {
      this.serialAlarm = false;
      const since = wasSilentSince ?? null;
      out.push({
        type: 'alarm',
        name: 'serial-heartbeat-restored',
        detail: `heartbeat from ${frame.nodeId} accepted again`,
        ...(since !== null ? { durationMs: now - since } : {}),
      });
    }
    if (frame.kind === 'release') {
      const inst = this.instances.get(key(frame.vrid, frame.family));
      if (inst && inst.local === 'BACKUP' && !inst.releaseLatched) {
        inst.releaseLatched = true;
        out.push({ type: 'vrrp', vrid: inst.cfg.vrid, family: inst.cfg.family, event: { type: 'peer-release', immediate: this.soleTwin(inst) } });
      }
      return;
    }
    for (const inst of this.instances.values()) {
      const rep = findReport(frame, inst.cfg);
      if (rep && (claims(rep) || this.preemptRequest(inst, rep))) {
        out.push({
          type: 'vrrp', vrid: inst.cfg.vrid, family: inst.cfg.family,
          event: { type: 'peer-claim', priority: rep.effectivePriority, address: rep.address, advertIntervalCs: rep.advertIntervalCs },
        });
      }
    }
  }

  private onFenceResult(ok: boolean, detail: string | undefined, now: number, out: ArbiterOutput[]): void {
    if (!this.fenceRunning) return;
    this.fenceRunning = false;
    const sOk = !this.serial.isSilent(now);
    for (const inst of this.instances.values()) {
      if (!inst.fencePending) continue;
      inst.fencePending = false;
      const stillDead = this.twinDead(inst, sOk, now) !== null && inst.local === 'BACKUP';
      if (ok && stillDead) {
        out.push({ type: 'vrrp', vrid: inst.cfg.vrid, family: inst.cfg.family, event: this.deadEvent(inst, sOk, now) });
      } else if (!stillDead) {
        // A channel healed while the fence ran: the peer is not dead, start over.
        inst.deadLatched = false;
      }
    }
    if (!ok) {
      if (this.fenceFailedAt === null) this.fenceFailedAt = now;
      out.push({
        type: 'alarm', name: 'fence-failed',
        detail: `fence hook failed${detail ? `: ${detail}` : ''}; no fast takeover, plain VRRP timers decide`,
      });
    } else {
      this.clearFenceFailed('a later fence run succeeded', now, out);
    }
  }

  private clearFenceFailed(why: string, now: number, out: ArbiterOutput[]): void {
    if (this.fenceFailedAt === null) return;
    out.push({ type: 'alarm', name: 'fence-failed-resolved', detail: why, durationMs: now - this.fenceFailedAt });
    this.fenceFailedAt = null;
  }

  private reportFor(inst: InstanceState): InstanceReport | undefined {
    return this.lastHeartbeat ? findReport(this.lastHeartbeat, inst.cfg) : undefined;
  }

  /**
   * A channel is about to bring news after both were lost. If this node is MASTER and the news
   * says the peer is MASTER too, the partition produced a split-brain.
   */
  private checkHeal(inst: InstanceState, now: number, out: ArbiterOutput[], peerMaster: boolean): void {
    this.trackPartition(inst, now);
    if (inst.partitionSince === null) return;
    const start = inst.partitionSince;
    inst.partitionSince = null;
    if (inst.local !== 'MASTER' || inst.splitBrain !== null) return;
    if (peerMaster) {
      const from = Math.max(start, inst.masterSince ?? start);
      inst.splitBrain = { start: from, detectedAt: now };
      out.push(this.alarm('split-brain-detected', inst, `both nodes MASTER for VRID ${inst.cfg.vrid} after both heartbeat channels were lost`));
      return;
    }
    // We held MASTER through a partition, and the news does not show the peer MASTER. A live peer
    // cut off from us took over (row 5) and drew the LAN's ARP caches to its MAC; if it heard our
    // claim first (serial comes back, or our advert reaches it before its own reaches us) it has
    // already stepped down, so no advert or frame ever shows it MASTER and neither side would
    // re-announce: clients keep sending to the box without the VIP until their ARP entry ages
    // out. A burst of gratuitous ARP from the holder is harmless if the peer never took over.
    out.push({ type: 'garp', vrid: inst.cfg.vrid, family: inst.cfg.family, reason: 'both heartbeat channels came back while this node held MASTER' });
  }

  private trackPartition(inst: InstanceState, now: number): void {
    if (inst.partitionSince !== null) return;
    if (this.serial.isSilent(now) && inst.ethernet.isSilent(now)) {
      // The partition began with the last evidence from either channel.
      inst.partitionSince = Math.max(this.serial.lastEvidence(), inst.ethernet.lastEvidence());
    }
  }

  private evaluate(now: number, out: ArbiterOutput[]): void {
    for (const e of this.conflicts.expire(now)) {
      const inst = this.instances.get(key(e.vrid, e.family));
      if (inst && e.type === 'cleared') out.push(this.alarm('vrid-conflict-resolved', inst, e.detail, e.durationMs));
    }
    const sOk = !this.serial.isSilent(now);
    if (!sOk && !this.serialAlarm) {
      this.serialAlarm = true;
      const last = this.serial.lastHeardAt;
      out.push({
        type: 'alarm', name: 'serial-heartbeat-lost',
        detail: last === null ? 'no heartbeat accepted since start' : `no heartbeat accepted for ${now - last} ms`,
      });
    }
    const fenceWanted: InstanceState[] = [];
    for (const inst of this.instances.values()) {
      const eOk = !inst.ethernet.isSilent(now);
      const rep = sOk ? this.reportFor(inst) : undefined;
      const { vrid, family } = inst.cfg;
      this.trackPartition(inst, now);

      // Ethernet alarm: silence is only a fault when the peer should be advertising.
      const expected = sOk ? rep !== undefined && claims(rep) : inst.local === 'BACKUP' && inst.ethernet.everHeard;
      if (!eOk && expected && inst.ethAlarmSince === null) {
        inst.ethAlarmSince = inst.ethernet.lastHeardAt ?? now;
        out.push(this.alarm('ethernet-heartbeat-lost', inst,
          sOk ? `peer ${this.lastHeartbeat?.nodeId} claims MASTER over serial but no advert heard` : 'no advert heard from peer'));
      } else if (inst.ethAlarmSince !== null && sOk && rep && !claims(rep)) {
        out.push(this.alarm('ethernet-heartbeat-restored', inst,
          `peer reports ${rep.state}${rep.releasing ? ' (releasing)' : ''}: no adverts expected`, now - inst.ethAlarmSince));
        inst.ethAlarmSince = null;
      }

      // Row 4: the peer says it cannot serve.
      const peerCannotServe = !eOk && rep !== undefined && (rep.state === 'FAULT' || rep.releasing === true || rep.effectivePriority === 0);
      if (peerCannotServe && inst.local === 'BACKUP') {
        if (!inst.releaseLatched) {
          inst.releaseLatched = true;
          out.push({ type: 'vrrp', vrid, family, event: { type: 'peer-release', immediate: this.soleTwin(inst) } });
        }
      } else {
        inst.releaseLatched = false;
      }

      // Row 5: both channels lost, or (probing) the serial link silent and the twin's daemon
      // silent to the probe.
      const bothLost = !eOk && !sOk;
      if (this.twinDead(inst, sOk, now) !== null && inst.local === 'BACKUP') {
        if (!inst.deadLatched) {
          inst.deadLatched = true;
          if (this.opts.fence) {
            inst.fencePending = true;
            fenceWanted.push(inst);
          } else {
            out.push({ type: 'vrrp', vrid, family, event: this.deadEvent(inst, sOk, now) });
          }
        }
      } else if (!inst.fencePending) {
        inst.deadLatched = false;
      }

      // Gateway rule, holder side (see header).
      const shouldRelease =
        inst.local === 'MASTER' && rep !== undefined && rep.state === 'BACKUP' && rep.effectivePriority > 0 &&
        !rep.releasing && rep.hearsPeerAdverts === false && this.lastHeartbeat!.health.gateway && !this.health.gateway;
      if (shouldRelease && !inst.sendReleaseLatched) {
        inst.sendReleaseLatched = true;
        out.push({
          type: 'send-release', vrid, family,
          reason: `Ethernet path to ${this.lastHeartbeat!.nodeId} broken; it reaches the LAN gateway and this node does not`,
        });
      } else if (!shouldRelease) {
        inst.sendReleaseLatched = false;
      }

      // Split-brain resolution.
      if (inst.splitBrain) {
        let how: string | null = null;
        if (inst.local !== 'MASTER') how = `this node stepped down to ${inst.local}`;
        else if (rep && rep.state !== 'MASTER') how = `peer stepped down to ${rep.state}`;
        else if (bothLost) how = 'peer stopped advertising';
        if (how !== null) {
          out.push(this.alarm('split-brain-resolved', inst, how, now - inst.splitBrain.start));
          inst.splitBrain = null;
          if (inst.local === 'MASTER') out.push({ type: 'garp', vrid, family, reason: 'split-brain resolved' });
        }
      }
    }
    this.evaluateProbe(sOk, now, out);
    if (fenceWanted.length > 0 && !this.fenceRunning) {
      this.fenceRunning = true;
      out.push({ type: 'run-fence', instances: fenceWanted.map((i) => ({ vrid: i.cfg.vrid, family: i.cfg.family })) });
    }
  }

  /**
   * Row 5's verdict for a BACKUP instance: why the twin counts as dead now, or null. Probing (the
   * twin known): the last probe round, begun after the serial link fell silent, got no answer
   * from the twin's daemon and no advert of the twin arrived since it began. Otherwise: both
   * channels silent.
   */
  private twinDead(inst: InstanceState, sOk: boolean, now: number): string | null {
    if (this.probing()) {
      // The probe delay, not the serial alarm's dead time: the round is the evidence.
      if (now - this.serial.lastEvidence() < this.opts.probe!.afterMs || this.probe.phase !== 'dead') return null;
      if ((inst.ethernet.lastHeardAt ?? -Infinity) >= this.probe.startedAt) return null;
      // The probe crosses the LAN, so its silence is evidence only while the LAN reached the
      // twin: with the Ethernet path already lost when the serial link fell silent, a twin (or
      // line) stalled for a moment looks exactly like a dead one. Then row 5 as without the
      // probe: the serial link's full dead time too (measured in the demo at load 10: a 349 ms
      // stall during an Ethernet cut made a second master for 315 ms).
      const lanWasUp = inst.ethernet.everHeard && inst.ethernet.deadline() > this.serial.lastEvidence();
      if (!lanWasUp && !this.serial.isSilent(now)) return null;
      return this.probe.detail;
    }
    return !sOk && inst.ethernet.isSilent(now) ? 'no advert and no serial frame' : null;
  }

  private deadEvent(inst: InstanceState, sOk: boolean, now: number): PeerEvent {
    const why = this.twinDead(inst, sOk, now);
    return this.probing() ? { type: 'peer-dead', detail: `serial silent ${Math.round(now - this.serial.lastEvidence())} ms, ${why ?? ''}` } : { type: 'peer-dead' };
  }

  private probing(): boolean {
    return this.opts.probe !== undefined && this.twin !== null;
  }

  /** When to ask the shell for a probe round (see ArbiterOptions.probe). */
  private evaluateProbe(sOk: boolean, now: number, out: ArbiterOutput[]): void {
    const cfg = this.opts.probe;
    if (!cfg || !this.probing() || this.probe.phase === 'running' || this.probe.phase === 'dead') return;
    if (now - this.serial.lastEvidence() < cfg.afterMs) return;
    const candidates = [...this.instances.values()].filter((i) => i.local === 'BACKUP');
    if (candidates.length === 0) return;
    const silentMs = Math.round(now - this.serial.lastEvidence());
    let reason: string;
    if (this.probe.phase === 'idle') {
      reason = `serial link silent for ${silentMs} ms`;
    } else {
      // 'alive': the serial link is down and the twin lives. Again only once its adverts stop too.
      const lost = candidates.filter((i) => i.ethernet.isSilent(now));
      if (lost.length === 0 || now - this.probe.at < (cfg.reprobeMs ?? DEFAULT_REPROBE_MS)) return;
      reason = `serial link silent for ${silentMs} ms and no advert from the twin for ${Math.round(now - lost[0]!.ethernet.lastEvidence())} ms`;
    }
    const target = candidates.find((i) => this.reportFor(i) !== undefined) ?? candidates[0]!;
    const address = this.reportFor(target)?.address ?? [...this.twin!][0]!;
    this.probe = { phase: 'running', startedAt: now, at: now, detail: '' };
    out.push({ type: 'probe-twin', address, vrid: target.cfg.vrid, family: target.cfg.family, reason });
    void sOk;
  }

  private onProbeResult(alive: boolean, detail: string, twin: readonly ProbeInstance[], now: number, out: ArbiterOutput[]): void {
    if (this.probe.phase !== 'running') return;
    this.probe = { phase: alive ? 'alive' : 'dead', startedAt: this.probe.startedAt, at: now, detail };
    // The answer says what the twin holds: a MASTER there counts as its claim (as a heartbeat
    // would), so VRRP's own Master_Down never expires while the twin's daemon answers — also
    // when its adverts no longer reach us.
    for (const t of alive ? twin : []) {
      const inst = this.instances.get(key(t.vrid, t.family));
      const rep = inst && this.reportFor(inst);
      if (!inst || t.state !== 'MASTER' || t.priority === 0 || !rep) continue;
      out.push({ type: 'vrrp', vrid: t.vrid, family: t.family, event: { type: 'peer-claim', priority: t.priority, address: rep.address, advertIntervalCs: rep.advertIntervalCs } });
    }
    if (alive && !this.serialAlarm) {
      // The twin lives and the serial link does not carry it: raise the serial alarm now.
      this.serialAlarm = true;
      out.push({ type: 'alarm', name: 'serial-heartbeat-lost', detail: `no heartbeat for ${Math.round(now - this.serial.lastEvidence())} ms, but ${detail}: staying BACKUP` });
    }
  }

  private alarm(name: AlarmName, inst: InstanceState, detail: string, durationMs?: number): Alarm {
    return {
      type: 'alarm', name, detail: `VRID ${inst.cfg.vrid}/IPv${inst.cfg.family}: ${detail}`,
      vrid: inst.cfg.vrid, family: inst.cfg.family,
      ...(durationMs !== undefined ? { durationMs } : {}),
    };
  }
}

function findReport(frame: HeartbeatFrame, cfg: ArbiterInstanceConfig): InstanceReport | undefined {
  return frame.instances.find((i) => i.vrid === cfg.vrid && i.family === cfg.family);
}

/** The peer holds (or claims) MASTER and is able to serve. */
function claims(rep: InstanceReport): boolean {
  return rep.state === 'MASTER' && rep.effectivePriority > 0 && rep.releasing !== true;
}
