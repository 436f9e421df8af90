// `twinvip run`'s dual-heartbeat feature: the serial link to the twin, the split-brain arbiter
// between it and the VRRP runner, and the fence hook. Started after the VRRP extension (it needs
// the runner) and stopped before it, so a graceful stop tells the twin over serial first.
//
// Data flow (DESIGN.md decision table; the rules live in src/heartbeat/arbiter.ts):
//   runner transitions (bus) ──local-state──┐            ┌── vrrp events ──> runner.deliver()
//   runner accepted adverts ───advert───────┤            ├── send-release ─> demote + release frame
//   SerialLink heartbeat/release ─serial────┼─ arbiter ──┼── run-fence ───> fence command
//   timer at nextDeadline() ─────tick───────┘            ├── garp ────────> runner.announce()
//                                                        └── alarms ──────> bus 'alarm' + log
// The heartbeat we send is built each period from the runner's views (body.ts), and once more
// right after every transition so the twin learns it within one frame time, not one period.

import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { commandArgv } from '../../lib/command-argv';
import { HEARTBEAT_KEY_RULES } from '../../config/secrets';
import { readSecretFile } from '../../lib/secret-file';
import { HeartbeatArbiter, REJECT_REASONS, type ArbiterInstanceConfig, type ArbiterOutput, type Family, type Health, type HeartbeatFrame, type ReleaseFrame } from '../../heartbeat';
import { SerialLink, type RequestResult } from './serial-link';
import { FeatureError } from '../../lib/feature-failure';
import { CommandError } from '../../control/server';
import type { SubsystemLogger } from '../../log';
import type { DaemonContext, Extension } from '../../daemon/extension';
import type { FeatureStatus } from '../../daemon/status';
import type { InstanceView, VrrpRunner } from '../vrrp/runner';
import { healthFromViews, healthRoles, heartbeatBody, instanceKey, localInstances, ownAddresses, type LocalInstance } from './body';
import { runFence } from './fence';
import { TwinProbe, type ProbeLinkLayer } from './twin-probe';
import { describeVerdict } from '../../heartbeat/probe';
import { scriptPolicyFromConfig } from '../../exec';
import { ReleaseTracker } from '../../heartbeat/release-policy';
import { heartbeatStatus, type HeartbeatOff, type HeartbeatStatus } from './status';
import { PairingLink } from './pairing-link';
import { formatCode } from '../../heartbeat/pairing';
import { stat, unlink } from 'node:fs/promises';
import type { StallGate } from '../stall-gate';

const now = (): number => performance.now();


/** Arbiter alarms that clear an earlier one: emitted on the bus under the original id, active false. */
const CLEARS: Record<string, string> = {
  'serial-heartbeat-restored': 'serial-heartbeat-lost',
  'ethernet-heartbeat-restored': 'ethernet-heartbeat-lost',
  'split-brain-resolved': 'split-brain-detected',
  'fence-failed-resolved': 'fence-failed',
  'vrid-conflict-resolved': 'vrid-conflict',
};

export interface HeartbeatCountersExtra {
  alarms_raised: number;
  releases_sent: number;
  releases_restored: number;
  fences_run: number;
  fences_failed: number;
  peer_events: number;
  garp_bursts: number;
  requests_answered: number;
}

export class HeartbeatExtension implements Extension {
  readonly name = 'heartbeat';
  private link: SerialLink | undefined;
  private probe: TwinProbe | undefined;
  private arbiter: HeartbeatArbiter | undefined;
  private ctx: DaemonContext | undefined;
  private log: SubsystemLogger | undefined;
  private readonly byKey = new Map<string, LocalInstance>();
  private readonly lastLocal = new Map<string, string>();
  private lastHealth = '';
  private healthOverrides: Partial<Health> = {};
  private releases = new ReleaseTracker();
  private readonly stopping = new Set<string>();
  /** Releases waiting for the instance's VIPs to be gone; a graceful stop waits for them. */
  private readonly pendingReleases = new Set<Promise<void>>();
  /** What the last heartbeat said per instance (kept while a MASTER's VIPs are being removed). */
  private readonly lastReported = new Map<string, LocalInstance>();
  private tickTimer: NodeJS.Timeout | undefined;
  private reviewTimer: NodeJS.Timeout | undefined;
  private readonly unregister: (() => void)[] = [];
  /** What startLink hooked into the runner and the bus: undone by stopLink (an unpair). */
  private readonly linkUnregister: (() => void)[] = [];
  private lastPeerFrame: HeartbeatFrame | undefined;
  private lastPeerFrameAt: number | undefined;
  /**
   * Per local interface, our MAC and the twin's there, as the split-brain diagnosis last learned
   * them from the twin's evidence over serial (authenticated: never from a LAN packet). The HA
   * path's own probe rounds send their questions to that MAC as frames too (see probeLink).
   */
  private twinLink = new Map<string, { own: string; twin: string }>();
  private readonly activeAlarms = new Map<string, { id: string; instance: string | undefined; message: string; since: number }>();
  private deviceLabel = '';
  private startedWith = '';
  private periodMs = 100;
  private deadMs = 500;
  readonly extra: HeartbeatCountersExtra = {
    alarms_raised: 0, releases_sent: 0, releases_restored: 0, fences_run: 0, fences_failed: 0, peer_events: 0, garp_bursts: 0, requests_answered: 0,
  };

  /**
   * `runner` gives the VRRP extension's running runner (undefined when no instance is configured);
   * `gate` its stall gate: frames wait with the adverts while a stall is checked, and the twin's
   * heartbeats read after the stall are the check's evidence.
   */
  constructor(
    private readonly runner: () => VrrpRunner | undefined,
    private readonly gate: () => StallGate | undefined = () => undefined,
  ) {}

  async start(ctx: DaemonContext): Promise<void> {
    const serial = ctx.config.heartbeat.serial;
    const log = ctx.logger.for('heartbeat');
    this.ctx = ctx;
    this.log = log;
    this.startedWith = JSON.stringify(ctx.config.heartbeat);
    if (!serial || !serial.enabled) return;
    const runner = this.runner();
    if (!runner) {
      log.warn('serial heartbeat configured but no VRRP instance runs: nothing to arbitrate, link not opened');
      return;
    }
    // Registered now, paired or not: the daemon forwards the HA side's commands and counter
    // groups as they are when the HA path has started (an unpaired box pairs later).
    this.unregister.push(ctx.counters.add('heartbeat', () => this.counters()));
    this.unregister.push(
      ctx.control.register('heartbeat', (args) => this.command(args), {
        summary: 'both heartbeat channels: last heard, the peer node and its view, alarms; {request: "status"} asks the twin over serial',
      }),
    );
    this.unregister.push(
      ctx.control.register('pair', (args) => this.pairCommand(args), {
        summary: 'first-boot pairing over the serial link: {action: "status" | "start" | "confirm" (code) | "cancel" | "unpair"}',
      }),
    );
    let key: Buffer;
    if (serial.key !== undefined) key = Buffer.from(serial.key, 'utf8');
    else {
      const read = await readKey(serial.key_file!);
      if (read === 'absent') {
        await this.startPairing(ctx, serial.key_file!);
        return;
      }
      key = read;
    }
    if (key.length < 16) throw new Error('heartbeat key is shorter than 16 bytes');
    await this.startLink(ctx, key);
  }

  private pairing: PairingLink | undefined;

  /**
   * No key file yet: plain VRRP (the instances run without the arbiter, as with no serial
   * heartbeat), and the serial port carries pairing frames only until `twinvip pair` on one box
   * and the code typed on the other agree on a key; then the authenticated heartbeat starts.
   */
  private async startPairing(ctx: DaemonContext, keyFile: string): Promise<void> {
    const serial = ctx.config.heartbeat.serial!;
    const log = this.log!;
    this.deviceLabel = serial.device;
    const link = new PairingLink({
      path: serial.device,
      baudRate: serial.baud,
      name: ctx.config.node.name,
      keyFile,
      log: (level, line) => log[level](line),
      onPaired: (key) => void this.switchToPaired(ctx, key),
    });
    this.pairing = link;
    link.start();
    const first = await link.firstOpen;
    if (!first.ok) throw new FeatureError(`serial heartbeat ${serial.device}: ${first.error.message}`, { call: first.error.call, errno: first.error.errno });
    log.warn(`unpaired: no heartbeat key at ${keyFile}; plain VRRP without split-brain protection over serial until paired (twinvip pair on one box, the code on the other)`);
  }

  private async switchToPaired(ctx: DaemonContext, key: Buffer): Promise<void> {
    const link = this.pairing;
    if (!link) return;
    await link.stop();
    this.pairing = undefined;
    try {
      await this.startLink(ctx, key);
    } catch (err) {
      this.log?.error(`paired, but the serial heartbeat did not start: ${(err as Error).message}`);
      ctx.reportFault({ id: 'serial-heartbeat-start', feature: 'heartbeat', reason: `serial heartbeat did not start after pairing: ${(err as Error).message}` });
    }
  }

  private async pairCommand(args: Record<string, unknown>): Promise<unknown> {
    const action = args.action ?? 'status';
    const serial = this.ctx?.config.heartbeat.serial;
    const keyFile = serial?.key_file;
    if (action === 'status') return this.pairStatus();
    if (action === 'unpair') {
      if (!keyFile) throw new CommandError('the key is given inline (heartbeat.serial.key): nothing to unpair; use key_file to pair over the cable');
      if (this.pairing) return { ...this.pairStatus(), message: 'not paired: nothing to remove' };
      await unlink(keyFile).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw new CommandError(`cannot remove ${keyFile}: ${err.message}`);
      });
      this.log?.warn(`unpair: heartbeat key ${keyFile} removed on request; the authenticated serial heartbeat stops, plain VRRP until paired again`);
      await this.stopLink();
      try {
        await this.startPairing(this.ctx!, keyFile);
      } catch (err) {
        this.log?.error(`unpaired, but the serial port did not open for pairing: ${(err as Error).message}`);
        this.ctx!.reportFault({ id: 'serial-heartbeat-start', feature: 'heartbeat', reason: `serial port did not open for pairing after unpair: ${(err as Error).message}` });
        throw new CommandError(`key ${keyFile} removed, but the serial port did not open for pairing: ${(err as Error).message}`);
      }
      return { paired: false, key_file: keyFile, message: `key ${keyFile} removed: unpaired (plain VRRP); run twinvip pair --unpair on the twin too, then pair both boxes again (twinvip pair on one, the code on the other)` };
    }
    const link = this.pairing;
    if (!link) {
      throw new CommandError(
        keyFile
          ? `already paired (key ${keyFile}): pairing frames are refused; to pair again run twinvip pair --unpair on both boxes first`
          : 'the heartbeat key is given inline (heartbeat.serial.key): pairing needs key_file',
      );
    }
    switch (action) {
      case 'start': {
        const s = await link.begin(typeof args.timeout_ms === 'number' ? Math.min(args.timeout_ms, 60_000) : 10_000);
        if (s.phase === 'committed') throw new CommandError(`the twin has not answered on ${s.device} yet (is it running, unpaired, and the cable connected?); still trying — see twinvip pair --status`);
        if (s.phase === 'failed') throw new CommandError(`pairing failed: ${s.error}`);
        return { ...this.pairStatus(), message: `code ${formatCode(s.code!)}: type it on ${s.peer} (twinvip pair --confirm ${s.code}, or "pair ${s.code}" on its console)` };
      }
      case 'confirm': {
        if (typeof args.code !== 'string') throw new CommandError("'code' must be the 6 digits box A shows");
        const r = await link.confirm(args.code);
        if (!r.ok) throw new CommandError(r.message);
        return { ...this.pairStatus(), paired: true, message: r.message };
      }
      case 'cancel':
        link.cancel();
        return this.pairStatus();
      default:
        throw new CommandError("'action' must be status, start, confirm, cancel or unpair");
    }
  }

  private pairStatus(): Record<string, unknown> {
    const serial = this.ctx?.config.heartbeat.serial;
    if (this.pairing) return { paired: false, ...this.pairing.status() };
    return { paired: true, key_file: serial?.key_file ?? null, inline_key: serial?.key !== undefined, serial_ok: this.link?.peerAlive() ?? false };
  }

  /** The authenticated heartbeat with `key`: the arbiter, the link, the probe. */
  private async startLink(ctx: DaemonContext, key: Buffer): Promise<void> {
    const serial = ctx.config.heartbeat.serial!;
    const log = this.log!;
    const runner = this.runner()!;

    const locals = localInstances(runner.views());
    for (const l of locals) this.byKey.set(instanceKey(l.vrid, l.family), l);
    this.periodMs = serial.period_ms;
    this.deadMs = serial.period_ms * serial.dead_periods;
    this.deviceLabel = serial.device;
    const fence = ctx.config.heartbeat.fence;
    const probe = ctx.config.heartbeat.probe;
    if (probe?.enabled) {
      this.probe = new TwinProbe({
        port: probe.port, key, nodeId: String(serial.node_id), tries: probe.tries, intervalMs: probe.interval_ms,
        log: (line) => log.warn(line),
        instances: () => localInstances(this.runner()?.views() ?? []).map((l) => ({ vrid: l.vrid, family: l.family, state: l.state, priority: l.priority })),
      });
      await this.probe.start();
    }
    this.arbiter = new HeartbeatArbiter(
      {
        instances: locals.map(arbiterInstance),
        serialPeriodMs: serial.period_ms,
        deadPeriods: serial.dead_periods,
        fence: fence !== undefined,
        // Re-probing a twin whose adverts stopped (its answer counts as its claim) must come
        // before VRRP's Master_Down_Interval could expire: at most every advert interval.
        ...(probe?.enabled
          ? { probe: { afterMs: probe.after_ms ?? serial.period_ms + 30, reprobeMs: Math.min(1000, ...locals.map((l) => l.advertIntervalCs * 10)) } }
          : {}),
      },
      now(),
    );
    this.refreshLocal(true);

    this.link = new SerialLink({
      path: serial.device,
      baudRate: serial.baud,
      periodMs: serial.period_ms,
      deadPeriods: serial.dead_periods,
      key,
      nodeId: String(serial.node_id),
      bootNumberFile: join(ctx.config.node.state_dir, 'serial-boot'),
      heartbeat: () => this.body(),
      onRequest: (what) => this.answer(what),
      log: (line) => log.info(line),
      hold: () => this.gate()?.holdFrame() ?? false,
    });
    const link = this.link;
    link.on('heartbeat', (f, _at, sentAt) => this.onFrame(f, sentAt));
    link.on('release', (f) => this.onFrame(f));
    link.on('port-lost', (reason) => {
      log.warn(`serial ${serial.device}: port lost (${reason})`);
      this.armPortGone(serial.device, reason, serial.port_gone_s * 1000);
    });
    link.on('open', () => this.portBack(serial.device));

    runner.setAdvertObserver((plan, advert) =>
      this.feed({ type: 'advert', vrid: plan.params.vrid, family: plan.family, priority: advert.priority, advertIntervalCs: advert.advertIntervalCs, address: advert.source }),
    );
    this.linkUnregister.push(() => runner.setAdvertObserver(undefined));
    // Pair mode: adverts for our VRIDs from anyone but the twin never reach the state machine.
    runner.setPairGate({
      twinFilter: (plan) => this.arbiter?.twinFilter(plan.params.vrid, plan.family),
      foreign: (plan, advert) =>
        this.feed({ type: 'foreign-advert', vrid: plan.params.vrid, family: plan.family, source: advert.source, priority: advert.priority, addresses: advert.addresses }),
    });
    this.linkUnregister.push(() => runner.setPairGate(undefined));
    // The bus runs listeners inside the runner's action loop: act after it, never re-enter it.
    this.linkUnregister.push(
      ctx.bus.on('transition', (t) =>
        queueMicrotask(() => {
          if (!this.link) return;
          if (t.from !== 'MASTER') {
            this.refreshLocal(false);
            this.link.sendHeartbeatNow();
            return;
          }
          // Leaving MASTER: the twin hears of it once our VIPs are gone (a few ms), so that it
          // may take them over at once without two boxes answering for them.
          if (t.to === 'INIT') this.stopping.add(t.instance);
          const done = runner.vipsSettled(t.instance).then(() => {
            this.pendingReleases.delete(done);
            if (!this.link) return;
            this.refreshLocal(false);
            if (givesUp(t.to, t.cause)) this.releaseOnSerial(t.instance, t.to, t.cause);
            this.link.sendHeartbeatNow();
          });
          this.pendingReleases.add(done);
        }),
      ),
    );
    this.reviewTimer = setInterval(() => {
      if (this.gate()?.beat() ?? true) this.review();
    }, serial.period_ms);
    // This timer beats the stall gate every period: the gate's own watch timer is not needed.
    this.gate()?.coveredBy(serial.period_ms);
    link.start();
    // Fail loudly: a heartbeat whose port never opened would leave split-brain protection off
    // while everything looks started. A port lost later is reopened with back-off (port-lost).
    const first = await link.firstOpen;
    if (!first.ok) throw new FeatureError(`serial heartbeat ${serial.device}: ${first.error.message}`, { call: first.error.call, errno: first.error.errno });
    this.scheduleTick();
    log.info(
      `serial heartbeat on ${serial.device} at ${serial.baud} baud as node ${serial.node_id}: period ${serial.period_ms} ms, peer lost after ${this.deadMs} ms` +
        (fence ? `, fence ${commandArgv(fence.command)[0]}` : ''),
    );
  }

  /**
   * Undoes startLink (an unpair while running): the runner's hooks, the timers, the probe, the
   * port; releases in force are lifted (plain VRRP decides again) and the alarms cleared. Waits for
   * releases being sent, as a stop does.
   */
  private async stopLink(): Promise<void> {
    const runner = this.runner();
    for (const u of this.linkUnregister.splice(0)) u();
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.reviewTimer) {
      clearInterval(this.reviewTimer);
      this.gate()?.coveredBy(undefined);
    }
    this.tickTimer = this.reviewTimer = undefined;
    await Promise.all([...this.pendingReleases]);
    for (const name of this.releases.names()) runner?.deliver(name, { type: 'demote', reason: 'heartbeat-release', active: false });
    this.releases = new ReleaseTracker();
    for (const a of [...this.activeAlarms.values()]) this.alarm(a.id, false, 'warning', `${a.message} (unpaired: no serial heartbeat)`, a.instance);
    this.probe?.stop();
    this.probe = undefined;
    if (this.portGoneTimer) clearTimeout(this.portGoneTimer);
    this.portGoneTimer = undefined;
    if (this.portGone) this.ctx?.clearFault('serial-port-gone', 'unpaired: the serial heartbeat is stopped');
    this.portGone = false;
    const link = this.link;
    this.link = undefined;
    this.arbiter = undefined;
    await link?.stop();
    this.byKey.clear();
    this.lastLocal.clear();
    this.lastReported.clear();
    this.stopping.clear();
    this.lastHealth = '';
    this.lastPeerFrame = undefined;
    this.lastPeerFrameAt = undefined;
  }

  featureStatus(): FeatureStatus | undefined {
    if (this.pairing) {
      const s = this.pairing.status();
      const what = s.phase === 'idle' ? 'waiting for twinvip pair' : s.phase;
      return { state: 'waiting', detail: `unpaired: plain VRRP, serial ${this.deviceLabel} carries pairing only (${what})` };
    }
    if (!this.link) return undefined;
    return { state: 'running', detail: `serial ${this.deviceLabel} ${this.link.isOpen ? 'open' : 'closed, reopening'}` };
  }

  private portGoneTimer: NodeJS.Timeout | undefined;
  private portGone = false;

  /**
   * Fail loudly: a serial port lost and not back within `port_gone_s` (30 s) is a fault (degraded,
   * critical alarm `serial-port-gone`) until it reopens. The instances stay as they are: VRRP
   * still defends them over Ethernet, as without the serial heartbeat; putting them in FAULT
   * would turn a lost second channel into an outage on both boxes when the cable's two ports
   * go together (a pty pair, a shared USB hub). The reopening goes on with its back-off.
   */
  private armPortGone(device: string, reason: string, goneMs: number): void {
    if (this.portGoneTimer || this.portGone) return;
    this.portGoneTimer = setTimeout(() => {
      this.portGoneTimer = undefined;
      if (this.link?.isOpen !== false) return;
      this.portGone = true;
      this.ctx?.reportFault({
        id: 'serial-port-gone',
        feature: 'heartbeat',
        reason: `serial heartbeat ${device}: port lost (${reason}) and not reopened within ${goneMs / 1000} s; split-brain protection rests on the Ethernet adverts alone`,
      });
    }, goneMs);
    this.portGoneTimer.unref();
  }

  private portBack(device: string): void {
    if (this.portGoneTimer) clearTimeout(this.portGoneTimer);
    this.portGoneTimer = undefined;
    if (!this.portGone) return;
    this.portGone = false;
    this.ctx?.clearFault('serial-port-gone', `serial heartbeat ${device}: port open again`);
  }

  async stop(): Promise<void> {
    const pairing = this.pairing;
    this.pairing = undefined;
    await pairing?.stop();
    if (this.portGoneTimer) clearTimeout(this.portGoneTimer);
    this.portGoneTimer = undefined;
    for (const u of [...this.linkUnregister.splice(0), ...this.unregister.splice(0)]) u();
    this.probe?.stop();
    this.probe = undefined;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.reviewTimer) {
      clearInterval(this.reviewTimer);
      this.gate()?.coveredBy(undefined);
    }
    this.tickTimer = this.reviewTimer = undefined;
    const link = this.link;
    if (!link) return;
    // Graceful stop: tell the twin now, over the channel that does not depend on the LAN, that
    // every instance we hold is being given up; the VRRP extension stops after us and sends
    // priority 0 as well (RFC 3768 §6.4.3), whichever reaches the twin first wins.
    // The VRRP feature shut its instances down when the stop began (daemon 'stopping'): each
    // MASTER's release leaves as soon as its VIPs are gone (the transition handler above).
    await Promise.all([...this.pendingReleases]);
    const runner = this.runner();
    for (const l of runner ? localInstances(runner.views()) : []) {
      if (l.state !== 'MASTER') continue;
      // Still MASTER (the VRRP feature did not stop first): release after the VIPs are gone.
      runner!.deliver(l.name, { type: 'shutdown' });
      await runner!.vipsSettled(l.name);
      this.stopping.add(l.name);
      if (link.sendRelease(l.vrid, l.family)) {
        this.extra.releases_sent++;
        this.log?.forInstance(l.name).info('MASTER -> INIT (shutdown): release sent to the twin over serial');
      }
    }
    link.sendHeartbeatNow();
    // Let the writes reach the kernel before the port closes (a tty's close drains what it holds).
    // Kept short: the twin re-arms its skew timer on our priority 0 advert, which the VRRP
    // extension sends only after this returns, so every ms here delays a graceful handover.
    await new Promise((r) => setTimeout(r, 5));
    await link.stop();
    this.link = undefined;
  }

  onConfigReloaded(ctx: DaemonContext): void {
    if (JSON.stringify(ctx.config.heartbeat) !== this.startedWith) {
      this.log?.warn('heartbeat settings changed: they take effect at the next restart (the serial link keeps running as it is)');
    }
    // The VRRP part has applied the reload already (it starts before us): arbitrate the instances
    // it runs now, added ones included, from this moment on.
    const runner = this.runner();
    if (!runner || !this.arbiter) return;
    const locals = localInstances(runner.views());
    const before = new Set(this.byKey.keys());
    this.byKey.clear();
    for (const l of locals) this.byKey.set(instanceKey(l.vrid, l.family), l);
    for (const name of [...this.lastLocal.keys()]) if (!locals.some((l) => l.name === name)) this.lastLocal.delete(name);
    this.arbiter.setInstances(locals.map(arbiterInstance), now());
    const added = locals.filter((l) => !before.has(instanceKey(l.vrid, l.family))).map((l) => l.name);
    if (added.length > 0) this.log?.info(`serial heartbeat now arbitrates ${added.join(', ')} as well (added by the reload)`);
    this.refreshLocal(true);
    this.link?.sendHeartbeatNow();
  }

  /** Sets health facts measured elsewhere (Nginx supervisor, check runner); undefined keys fall back to tracking. */
  setHealth(h: Partial<Health>): void {
    this.healthOverrides = { ...this.healthOverrides, ...h };
  }

  /** Asks the twin over the serial link (the console's `peer` command): `status` answers with its status JSON. */
  requestPeer(what: string, timeoutMs = 3000): Promise<RequestResult> {
    if (!this.link) return Promise.resolve({ ok: false, error: 'stopped' });
    return this.link.request(what, timeoutMs);
  }

  /** The answer of the `heartbeat` control command. */
  status(): HeartbeatStatus | HeartbeatOff {
    if (this.pairing) return { enabled: false, unpaired: this.pairing.status() };
    if (!this.arbiter || !this.link || !this.ctx) return { enabled: false };
    const t = now();
    return heartbeatStatus({
      now: t,
      device: this.deviceLabel,
      nodeId: String(this.ctx.config.heartbeat.serial?.node_id ?? ''),
      open: this.link.isOpen,
      periodMs: this.periodMs,
      deadMs: this.deadMs,
      view: this.arbiter.view(t),
      names: (vrid, family) => this.byKey.get(instanceKey(vrid, family))?.name ?? `${family}/${vrid}`,
      peerFrame: this.lastPeerFrame,
      peerFrameAt: this.lastPeerFrameAt,
      ownConfigHash: this.ctx.configHash,
      health: this.health(),
      releasing: [...this.releasingSet()],
      alarms: [...this.activeAlarms.values()].map((a) => ({ id: a.id, ...(a.instance ? { instance: a.instance } : {}), message: a.message, since_ms: Math.round(t - a.since) })),
    });
  }

  // ---------------------------------------------------------------------------------------

  private async command(args: Record<string, unknown>): Promise<unknown> {
    if (args.twin_link !== undefined) {
      this.twinLink = linkMacs(args.twin_link);
      return { twin_link: Object.fromEntries(this.twinLink) };
    }
    if (args.probe === true) return this.probeTwinNow(linkMacs(args.link_macs));
    if (args.request === undefined) return this.status();
    if (this.pairing) throw new CommandError('not paired yet: the serial link carries pairing frames only (twinvip pair)');
    if (typeof args.request !== 'string' || !/^[a-z0-9-]{1,32}$/.test(args.request)) {
      throw new CommandError("'request' must be a short word such as \"status\"");
    }
    const timeoutMs = typeof args.timeout_ms === 'number' && args.timeout_ms > 0 ? Math.min(args.timeout_ms, 30_000) : 3000;
    const r = await this.requestPeer(args.request, timeoutMs);
    if (!r.ok) throw new CommandError(`the twin did not answer '${args.request}' over serial: ${r.error}`);
    try {
      return { from: 'peer', body: JSON.parse(r.body) as unknown };
    } catch {
      return { from: 'peer', body: r.body };
    }
  }

  /**
   * One LAN probe round to the twin now (the split-brain diagnosis, src/diagnose/): whether its
   * daemon answers over Ethernet, to the address its last heartbeat gave for the first instance.
   * With the twin's MAC (and ours) on that interface, known from its evidence over serial, the
   * questions also go to that MAC as whole frames: they leave even when our neighbour entry for
   * the twin has failed (a one-way fault), so the round tells the direction, not a cut.
   */
  private async probeTwinNow(macs: Map<string, { own: string; twin: string }>): Promise<{ answered: boolean | null; detail: string }> {
    const probe = this.probe;
    const peer = this.lastPeerFrame?.instances[0];
    if (!probe || !peer) return { answered: null, detail: probe ? 'twin unknown (no heartbeat yet)' : 'probe disabled' };
    const view = this.runner()?.views().find((v) => v.plan.params.vrid === peer.vrid && v.plan.family === peer.family);
    const v = await probe.round(peer.address, view?.plan.interface, this.probeLink(view, macs));
    return { answered: v.daemon, detail: describeVerdict(v, peer.address) };
  }

  /**
   * Where a probe round's questions also go as frames: the twin's MAC on the view's interface
   * (`macs`, from the diagnosis's request, else the ones it last handed over), from our primary
   * address there. The kernel's own datagram needs the twin's neighbour entry; a one-way fault
   * that loses the twin's ARP replies (a switch's ARP inspection, an ARP filter on the twin)
   * leaves that entry FAILED while the twin's IP traffic, its answers, still arrives: without the
   * frames such a twin reads as dead and is taken over.
   */
  private probeLink(view: InstanceView | undefined, macs?: Map<string, { own: string; twin: string }>): ProbeLinkLayer | undefined {
    if (!view) return undefined;
    const m = macs?.get(view.plan.interface) ?? this.twinLink.get(view.plan.interface);
    return m ? { ifname: view.plan.interface, srcMac: m.own, dstMac: m.twin, srcIp: view.plan.params.primaryAddress } : undefined;
  }

  private body() {
    const runner = this.runner();
    this.refreshLocal(false);
    const t = now();
    const instances = (runner ? localInstances(runner.views()) : []).map((l) => {
      // A MASTER whose VIPs are still being removed still answers for them: it says MASTER
      // until they are gone, and its release follows (the twin must not take them over yet).
      const before = this.lastReported.get(l.name);
      if (l.state !== 'MASTER' && before?.state === 'MASTER' && runner!.vipsChanging(l.name)) return before;
      this.lastReported.set(l.name, l);
      return l;
    });
    return heartbeatBody({
      instances,
      releasing: this.releasingSet(),
      hearsPeerAdverts: (vrid, family) => this.arbiter?.hearsPeerAdverts(vrid, family, t) ?? false,
      health: this.health(),
      configHash: this.ctx?.configHash ?? '',
      uptimeMs: t,
      addresses: runner ? ownAddresses(runner.views()) : [],
    });
  }

  private releasingSet(): Set<string> {
    return new Set([...this.releases.names(), ...this.stopping]);
  }

  private health(): Health {
    return healthFromViews(this.runner()?.views() ?? [], healthRoles(this.ctx?.config.checks), this.healthOverrides);
  }

  /** Feeds local-state for every instance whose state or priority changed, and local-health. */
  private refreshLocal(force: boolean): void {
    const runner = this.runner();
    if (!runner || !this.arbiter) return;
    for (const l of localInstances(runner.views())) {
      const sig = `${l.state}/${l.priority}`;
      if (!force && this.lastLocal.get(l.name) === sig) continue;
      this.lastLocal.set(l.name, sig);
      this.feed({ type: 'local-state', vrid: l.vrid, family: l.family, state: l.state, priority: l.priority });
    }
    const h = this.health();
    const hs = JSON.stringify(h);
    if (force || hs !== this.lastHealth) {
      this.lastHealth = hs;
      this.feed({ type: 'local-health', health: h });
    }
  }

  /**
   * A MASTER that gives the instance up on its own (FAULT: its link or a check failed;
   * maintenance, failover; shutdown) says so over serial as soon as its VIPs are gone. Its
   * priority 0 advert may never leave (the link is down) and the twin would otherwise wait until
   * its Ethernet channel expires (one advert interval + margin) before the FAULT in our heartbeat
   * counts; with the release frame it takes over at once when it is the only other router of the
   * VRID, else after its skew time (the arbiter's release rule), whatever the LAN does.
   */
  private releaseOnSerial(instance: string, to: string, cause: string): void {
    const l = [...this.byKey.values()].find((x) => x.name === instance);
    if (!l || !this.link) return;
    if (this.link.sendRelease(l.vrid, l.family)) {
      this.extra.releases_sent++;
      this.log!.forInstance(instance).info(`MASTER -> ${to} (${cause}): release sent to the twin over serial`);
    }
  }

  private onFrame(f: HeartbeatFrame | ReleaseFrame, sentAt?: number): void {
    const gate = this.gate();
    // Before the arbiter acts on it: a frame may be the first thing that runs after a stall.
    gate?.beat();
    if (f.kind === 'heartbeat') {
      this.lastPeerFrame = f;
      this.lastPeerFrameAt = now();
    } else {
      this.log?.info(`release frame from node ${f.nodeId} for VRID ${f.vrid}/IPv${f.family}`);
    }
    this.feed({ type: 'serial-frame', frame: f });
    if (gate && f.kind === 'heartbeat') {
      const masters: string[] = [];
      for (const r of f.instances) {
        const l = this.byKey.get(instanceKey(r.vrid, r.family));
        if (l && r.state === 'MASTER' && r.effectivePriority > 0 && r.releasing !== true) masters.push(l.name);
      }
      gate.serialFrame(masters, sentAt ?? now());
    }
  }

  private feed(input: Parameters<HeartbeatArbiter['handle']>[0]): void {
    if (!this.arbiter) return;
    const outputs = this.arbiter.handle(input, now());
    for (const o of outputs) this.perform(o);
    this.scheduleTick();
  }

  private scheduleTick(): void {
    if (!this.arbiter || !this.link) return;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
    const at = this.arbiter.nextDeadline();
    if (at === null) return;
    // +1 ms: the channel is silent at `now >= deadline`, and timers may round down.
    const tick = () => {
      this.tickTimer = undefined;
      this.feed({ type: 'tick' });
    };
    // Held while a stall is checked: the channels are judged once the buffered input is read.
    const gate = this.gate();
    this.tickTimer = setTimeout(gate ? gate.guard(tick) : tick, Math.max(0, at - now()) + 1);
  }

  private perform(o: ArbiterOutput): void {
    const log = this.log!;
    const runner = this.runner();
    const nameOf = (vrid: number, family: Family) => this.byKey.get(instanceKey(vrid, family))?.name;
    switch (o.type) {
      case 'vrrp': {
        const name = nameOf(o.vrid, o.family);
        if (!name || !runner) return;
        this.extra.peer_events++;
        if (o.event.type !== 'peer-claim') log.forInstance(name).info(`${o.event.type} from the heartbeat arbiter`);
        runner.deliver(name, o.event);
        return;
      }
      case 'send-release': {
        const name = nameOf(o.vrid, o.family);
        if (!name || !runner) return;
        log.forInstance(name).warn(`releasing to the twin: ${o.reason}`);
        this.releases.release(name, now());
        runner.deliver(name, { type: 'demote', reason: 'heartbeat-release', active: true });
        // The twin takes over at once on the release frame: send it once our VIPs are gone.
        const done = runner.vipsSettled(name).then(() => {
          this.pendingReleases.delete(done);
          if (this.link?.sendRelease(o.vrid, o.family)) this.extra.releases_sent++;
        });
        this.pendingReleases.add(done);
        this.alarm('heartbeat-release', true, 'warning', `${name}: released to the twin (${o.reason})`, name);
        return;
      }
      case 'probe-twin': {
        const probe = this.probe;
        if (!probe) {
          this.feed({ type: 'probe-result', alive: false, detail: 'no probe socket' });
          return;
        }
        const view = runner?.views().find((v) => v.plan.params.vrid === o.vrid && v.plan.family === o.family);
        void probe.round(o.address, view?.plan.interface, this.probeLink(view)).then((v) => {
          const detail = describeVerdict(v, o.address);
          log[v.daemon ? 'info' : 'warn'](`probe of the twin (${o.reason}): ${detail}`);
          this.feed({ type: 'probe-result', alive: v.daemon, detail, twin: v.instances });
        });
        return;
      }
      case 'run-fence': {
        const fence = this.ctx?.config.heartbeat.fence;
        if (!fence) {
          this.feed({ type: 'fence-result', ok: true, detail: 'no fence configured' });
          return;
        }
        const argv = commandArgv(fence.command);
        const names = o.instances.map((i) => nameOf(i.vrid, i.family) ?? `${i.family}/${i.vrid}`);
        log.warn(`both heartbeat channels lost the twin: running fence ${argv.join(' ')} before taking over ${names.join(', ')}`);
        this.extra.fences_run++;
        void runFence({
          argv,
          ...(fence.user === undefined ? {} : { user: fence.user }),
          timeoutMs: Math.round(fence.timeout * 1000),
          env: { TWINVIP_INSTANCES: names.join(',') },
          policy: scriptPolicyFromConfig(this.ctx!.config.notify),
          onInsecure: (m) => log.warn(m),
        }).then((r) => {
          if (!r.ok) this.extra.fences_failed++;
          log[r.ok ? 'info' : 'warn'](`fence ${r.ok ? 'succeeded' : 'failed'} in ${r.durationMs} ms (${r.detail})`);
          this.feed({ type: 'fence-result', ok: r.ok, detail: r.detail });
        });
        return;
      }
      case 'garp': {
        const name = nameOf(o.vrid, o.family);
        if (!name || !runner) return;
        const view = runner.views().find((v) => v.plan.name === name);
        const count = view?.plan.params.garp?.masterRepeat ?? 5;
        if (runner.announce(name, count)) this.extra.garp_bursts++;
        log.forInstance(name).info(`gratuitous ARP/NA x${count}: ${o.reason}`);
        return;
      }
      case 'alarm': {
        const name = o.vrid !== undefined && o.family !== undefined ? nameOf(o.vrid, o.family) : undefined;
        const duration = o.durationMs !== undefined ? ` (${Math.round(o.durationMs)} ms)` : '';
        const cleared = CLEARS[o.name];
        if (cleared) {
          this.alarm(cleared, false, 'warning', `${o.name}${duration}: ${o.detail}`, name, o.durationMs);
        } else {
          const severity = o.name === 'split-brain-detected' || o.name === 'fence-failed' ? 'critical' : 'warning';
          this.alarm(o.name, true, severity, `${o.detail}${duration}`, name, o.durationMs);
        }
        return;
      }
    }
  }

  private alarm(id: string, active: boolean, severity: 'warning' | 'critical', message: string, instance?: string, durationMs?: number): void {
    const log = instance ? this.log!.forInstance(instance) : this.log!;
    const key = instance ? `${id}/${instance}` : id;
    if (active) {
      this.extra.alarms_raised++;
      this.activeAlarms.set(key, { id, instance, message, since: now() });
      log.warn(`alarm ${id}: ${message}`);
    } else {
      this.activeAlarms.delete(key);
      log.info(`alarm cleared ${id}: ${message}`);
    }
    this.ctx?.bus.emit('alarm', {
      id,
      active,
      severity,
      message: instance ? `${instance}: ${message}` : message,
      ...(instance ? { instance } : {}),
      ...(durationMs !== undefined ? { durationMs: Math.round(durationMs) } : {}),
      at: Date.now(),
    });
  }

  /** Every period: un-demote instances released on the gateway rule once the reason is gone. */
  private review(): void {
    const runner = this.runner();
    if (!runner || !this.arbiter) return;
    const t = now();
    const view = this.arbiter.view(t);
    const peerMaster = (name: string): boolean => {
      const l = [...this.byKey.values()].find((x) => x.name === name);
      const i = l && view.instances.find((x) => x.vrid === l.vrid && x.family === l.family);
      return i?.peer?.state === 'MASTER';
    };
    for (const r of this.releases.review(t, { gatewayOk: this.health().gateway, serialOk: view.serialOk, peerMaster })) {
      this.extra.releases_restored++;
      this.log!.forInstance(r.instance).info(`release lifted (${r.reason}): back to plain VRRP`);
      runner.deliver(r.instance, { type: 'demote', reason: 'heartbeat-release', active: false });
      this.alarm('heartbeat-release', false, 'warning', `${r.instance}: release lifted (${r.reason})`, r.instance);
    }
  }

  private readonly answerers = new Map<string, () => string | undefined | Promise<string | undefined>>();

  /** Another part answers the twin's serial request `what` (the console's peer view). */
  answerWith(what: string, answer: () => string | undefined | Promise<string | undefined>): void {
    this.answerers.set(what, answer);
  }

  private async answer(what: string): Promise<string> {
    this.extra.requests_answered++;
    const other = await this.answerers.get(what)?.();
    if (other !== undefined) return other;
    if (what !== 'status') return JSON.stringify({ error: 'unknown-request', what, known: ['status', ...this.answerers.keys()] });
    const ctx = this.ctx!;
    const s = ctx.status();
    const hb = this.status();
    // Bounded to what fits a response (16 KiB): the twin's console shows this as "the peer's view".
    return JSON.stringify({
      node: s.node,
      version: s.version,
      uptime_s: s.uptime_s,
      config_hash: ctx.configHash,
      instances: s.instances,
      heartbeat: hb,
    }).slice(0, 16 * 1024);
  }

  private counters(): Record<string, number> {
    const out: Record<string, number> = {};
    const c = this.link?.counters;
    if (c) {
      for (const r of REJECT_REASONS) out[`rejected.${r}`] = c.rejected[r];
      for (const [k, n] of Object.entries(c.accepted)) out[`accepted.${k}`] = n;
      for (const [k, n] of Object.entries(c.sent)) out[`sent.${k}`] = n;
      out.peer_reboots = c.peerReboots;
      out.bytes_in = c.bytesIn;
      out.bytes_out = c.bytesOut;
      out.port_opens = c.opens;
      out.port_open_failures = c.openFailures;
      out.port_losses = c.portLosses;
      out.dropped_port_closed = c.droppedPortClosed;
      out.skipped_busy = c.skippedBusy;
      out.request_timeouts = c.requestTimeouts;
      out.responses_dropped = c.responsesDropped;
    }
    for (const [k, n] of Object.entries(this.extra)) out[k] = n;
    if (this.probe) for (const [k, n] of Object.entries(this.probe.counters)) out[`probe.${k}`] = n;
    return out;
  }
}

/**
 * Leaving MASTER by our own decision, not because the twin outranked us. A heartbeat release is
 * not here: its release frame goes out where it is decided (perform 'send-release').
 */
/** What the arbiter needs of a local instance (a reload passes it again: mixed_group may change). */
function arbiterInstance(l: LocalInstance): ArbiterInstanceConfig {
  return { vrid: l.vrid, family: l.family, advertIntervalCs: l.advertIntervalCs, mixedGroup: l.mixedGroup };
}

function givesUp(to: string, cause: string): boolean {
  // 'peer claim': the twin claimed the instance over serial (its preempt request, preempt.ts):
  // the release tells it our VIPs are gone, so it takes over at once.
  return to === 'FAULT' || to === 'INIT' || cause.startsWith('maintenance') || cause.startsWith('peer claim');
}

/**
 * The key file as `twinvip check` and the loader judged it (src/lib/secret-file.ts); 'absent'
 * when it does not exist (the box is not paired yet). Any other fault is an error.
 */
async function readKey(path: string): Promise<Buffer | 'absent'> {
  if (!(await exists(path))) return 'absent';
  const r = await readSecretFile(path, HEARTBEAT_KEY_RULES);
  if (!r.ok) throw new Error(`heartbeat key: ${r.error}`);
  return Buffer.from(r.value, 'utf8');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    return true;
  }
}

/** The probe command's `link_macs` ({ifname: {own, twin}}, MACs as text), checked; bad entries left out. */
function linkMacs(v: unknown): Map<string, { own: string; twin: string }> {
  const out = new Map<string, { own: string; twin: string }>();
  if (typeof v !== 'object' || v === null) return out;
  const mac = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
  for (const [ifname, m] of Object.entries(v as Record<string, unknown>)) {
    const o = m as { own?: unknown; twin?: unknown } | null;
    if (typeof o?.own === 'string' && typeof o.twin === 'string' && mac.test(o.own) && mac.test(o.twin)) out.set(ifname, { own: o.own, twin: o.twin });
  }
  return out;
}
