// `twinvip run`'s VRRP feature: from the configuration to running instances on real
// interfaces. Start-up order matters: stale VIPs go first (a previous run killed hard may have
// left them, as keepalived does after SIGKILL), then the link states are read so an instance
// whose interface is down starts in FAULT, then sockets open and the instances start.

import type { TwinvipConfig } from '../../config';
import { withVrrpPasswords } from '../../config/secrets';
import { LinkMonitor, primaryAddress, readInterfaces as readNetInterfaces, removeStaleVips, type InterfaceInfo } from '../../net';
import type { DaemonContext, Extension } from '../../daemon/extension';
import { FeatureError } from '../../lib/feature-failure';
import { checkRunnerFromConfig, type CheckRunner, type TrackSource } from '../../track';
import { scriptPolicyFromConfig } from '../../exec';
import type { SubsystemLogger } from '../../log';
import type { FeatureStatus, InstanceStatus } from '../../daemon/status';
import { familyNumber, planInstance, trackName, type InstancePlan } from './instance-plan';
import { NetIo, SOCKET_FAULT_AFTER, socketKeys, toNetVip, type SocketFault } from './net-io';
import { receiveLedger } from './receive-ledger';
import { VrrpRunner, type RunnerClock } from './runner';
import { StallGate } from '../stall-gate';
import { startMark } from '../../lib/start-marks';
import { DEFAULT_ETHERNET_MARGIN_MS, stallAdvertBudgetMs, stallMinSettleMs, stallSettleMs, stallThresholdMs, type StallWatchOptions } from '../../heartbeat';

const monotonic: RunnerClock = {
  now: () => performance.now(),
  schedule: (at, fn) => {
    const t = setTimeout(fn, Math.max(0, at - performance.now()));
    return () => clearTimeout(t);
  },
};

export class VrrpExtension implements Extension {
  readonly name = 'vrrp';
  /** @param nginxHealth the local Nginx's health, for instances with `track_nginx`. */
  constructor(private readonly nginxHealth?: TrackSource) {}
  private runner: VrrpRunner | undefined;
  private checks: CheckRunner[] = [];
  private io: NetIo | undefined;
  private monitor: LinkMonitor | undefined;
  private unregister: (() => void)[] = [];
  private instancesKey = '';
  /** The runner's stop, begun when the daemon's stop began. */
  private stopping: Promise<void> | undefined;
  private stallGate: StallGate | undefined;

  /** The running runner, for the heartbeat arbiter, maintenance and the console. */
  get vrrp(): VrrpRunner | undefined {
    return this.runner;
  }

  /** The HA path's stall gate (src/ha/stall-gate.ts), for the heartbeat feature and its serial link. */
  get gate(): StallGate | undefined {
    return this.stallGate;
  }

  /** For the script policy of the running configuration (checks ask for it at each run). */
  private ctx: DaemonContext | undefined;

  async start(ctx: DaemonContext): Promise<void> {
    this.ctx = ctx;
    const config = withVrrpPasswords(ctx.config);
    const log = ctx.logger.for('vrrp');
    this.instancesKey = instancesKey(config);
    const names = Object.keys(config.instances);
    if (names.length === 0) return;

    const ifnames = interfacesOf(config);
    const infos = await readInterfaces(ifnames);
    startMark('ha-interfaces');

    // Stale VIPs: none of ours should be on the box before an election says so; an address
    // owner's VIP is its own primary address and stays.
    const provisional = names.map((n) => planInstance(config, n, config.instances[n]!, '0.0.0.0', []));
    const owned = new Set(provisional.filter((p) => p.params.addressOwner).flatMap((p) => p.vips.map((v) => v.address)));
    const stale = await removeStaleVips(provisional.flatMap((p) => p.vips.map(toNetVip)), (v) => owned.has(v.address));
    for (const v of stale.removed) log.info(`removed stale VIP ${v.address}/${v.prefixLength} from ${v.ifname}`);
    for (const e of stale.errors) log.warn(`stale VIP clean-up: ${e}`);

    startMark('ha-stale-vips');
    const fresh = await readInterfaces(ifnames);
    this.monitor = await this.startMonitor(ifnames, log);
    startMark('ha-monitor');

    const plans = this.buildPlans(config, fresh, new Set());
    const groups = groupsOf(config);
    this.io = new NetIo(log, (f) => this.socketBroke(f));
    const gate = new StallGate(stallOptions(config), { log, bus: ctx.bus, runner: () => this.runner });
    this.stallGate = gate;
    this.runner = new VrrpRunner({
      plans, groups, io: gate.io(this.io), clock: gate.clock(monotonic), log, bus: ctx.bus,
      onAdvert: (plan, advert) => gate.advert(plan, advert.priority),
    });
    const runner = this.runner;
    this.io.open(plans, macsOf(fresh), ownOf(fresh, new Set()), (p) => {
      gate.beat();
      runner.receive(p);
    });
    startMark('ha-sockets-open');
    // The gate's watch starts with the whole HA path (HaSide, once the heartbeat runs too).
    this.runner.start();
    startMark('ha-runner-started');
    this.startTracking(config, plans, log);

    // A graceful stop hands over first, before any other feature stops (MQTT may take a while
    // to say goodbye): priority 0 from every MASTER and its VIPs removed, at once.
    this.unregister.push(
      ctx.bus.on('stopping', () => {
        this.stallGate?.stop();
        this.stopping ??= runner.stop();
      }),
    );
    ctx.setInstanceLister(() => this.instanceStatus());
    ctx.counters.add('vrrp', () => this.counters());
    this.unregister.push(
      ctx.control.register('vrrp', async () => this.runner?.views().map((v) => ({ ...v.snapshot, accepted: v.accepted, drops: nonZero(v.drops), warnings: nonZero(v.warnings) })) ?? [], {
        summary: 'every VRRP instance in detail',
      }),
    );
  }

  featureStatus(): FeatureStatus | undefined {
    const n = this.runner?.views().length ?? 0;
    return this.runner ? { state: 'running', detail: `${n} instance${n === 1 ? '' : 's'}` } : undefined;
  }

  /** Retry timers of broken sockets, and each one's next delay. */
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private readonly retryDelay = new Map<string, number>();
  /** When each broken socket was last reopened (Date.now()). */
  private readonly reopenedAt = new Map<string, number>();

  /**
   * A VRRP socket broke while running (sends or receives failing, not a link down): the instances
   * on it cannot be defended, so they go to FAULT — priority 0 advert if MASTER, VIPs released,
   * release over serial by the heartbeat — and the daemon is `degraded` with a critical alarm
   * until a reopened socket works. The reopen is retried with back-off (RETRY_MS, doubling).
   */
  private socketBroke(f: SocketFault): void {
    const runner = this.runner;
    const ctx = this.ctx;
    if (!runner || !ctx) return;
    const affected = runner.views().filter((v) => socketKeys(v.plan).includes(f.key)).map((v) => v.plan.name);
    const reopened = this.reopenedAt.get(f.key);
    const delay = firstRetryDelay(this.retryDelay.get(f.key), reopened === undefined ? undefined : Date.now() - reopened);
    ctx.reportFault({
      id: `vrrp-socket-failed:${f.key}`,
      feature: 'vrrp',
      reason: `${f.what} failed ${f.count} times in a row: ${f.error}; ${affected.join(', ') || 'no instance'} in FAULT, VIPs released; reopening in ${Math.round(delay / 1000)} s`,
      instances: affected,
    });
    runner.track(trackName.socket(f.key), false);
    this.scheduleRetry(f, delay);
  }

  private scheduleRetry(f: SocketFault, delay: number): void {
    clearTimeout(this.retries.get(f.key));
    this.retryDelay.set(f.key, Math.min(delay * 2, RETRY_MS.max));
    const t = setTimeout(() => {
      this.retries.delete(f.key);
      const io = this.io;
      const log = this.ctx?.logger.for('vrrp');
      if (!io || !this.runner) return;
      const r = io.reopenSocket(f.key);
      if (!r.ok) {
        log?.error(`${f.what}: reopen failed: ${r.error}; next try in ${Math.round(this.retryDelay.get(f.key)! / 1000)} s`);
        this.scheduleRetry(f, this.retryDelay.get(f.key)!);
        return;
      }
      // Trial: the instances leave FAULT (to BACKUP); if the new socket fails again as MASTER,
      // SOCKET_FAULT_AFTER sends later it is broken again and the next reopen waits twice as long.
      log?.info(`${f.what}: reopened; its instances leave FAULT (broken again after ${SOCKET_FAULT_AFTER} failures in a row)`);
      this.reopenedAt.set(f.key, Date.now());
      this.runner.track(trackName.socket(f.key), true);
      this.ctx?.clearFault(`vrrp-socket-failed:${f.key}`, `${f.what} reopened; its instances leave FAULT`);
    }, delay);
    t.unref();
    this.retries.set(f.key, t);
  }

  async stop(): Promise<void> {
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
    for (const u of this.unregister.splice(0)) u();
    for (const u of this.trackingUnregister.splice(0)) u();
    for (const c of this.checks.splice(0)) c.stop();
    // Ends a running stall check first: the priority 0 adverts of the shutdown must leave.
    this.stallGate?.stop();
    await (this.stopping ?? this.runner?.stop());
    this.stopping = undefined;
    this.io?.close();
    this.monitor?.stop();
    this.runner = undefined;
  }

  /**
   * keepalived-style reload: unchanged instances run on untouched, changed ones are rebuilt and
   * keep their MASTER/BACKUP state, removed ones shut down, added ones start (after their stale
   * VIPs are removed). Sockets are reopened only where interfaces or groups changed.
   */
  async onConfigReloaded(ctx: DaemonContext): Promise<void> {
    const key = instancesKey(ctx.config);
    if (key === this.instancesKey) return;
    const log = ctx.logger.for('vrrp');
    if (!this.runner || !this.io) {
      log.warn('instances added to a configuration that had none: they start at the next restart');
      return;
    }
    const config = withVrrpPasswords(ctx.config);
    const oldPlans = this.runner.views().map((v) => v.plan);
    const oldNames = new Set(oldPlans.map((p) => p.name));
    const ifnames = interfacesOf(config);
    const infos = await readInterfaces(ifnames);
    // Our VIPs are on the interfaces while we are MASTER: they are not the box's own addresses.
    const ours = new Set<string>();
    for (const p of oldPlans) for (const v of p.vips) ours.add(v.address);
    const provisional = Object.keys(config.instances).map((n) => planInstance(config, n, config.instances[n]!, '0.0.0.0', []));
    for (const p of provisional) for (const v of p.vips) ours.add(v.address);
    // ...except an address owner's, which are its primary addresses (as at start-up).
    for (const p of provisional) if (p.params.addressOwner) for (const v of p.vips) ours.delete(v.address);

    // Stale VIPs of added instances only; a running MASTER's VIPs are not stale.
    const held = new Set(oldPlans.flatMap((p) => p.vips.map((v) => v.address)));
    const owned = new Set(provisional.filter((p) => p.params.addressOwner).flatMap((p) => p.vips.map((v) => v.address)));
    const candidates = provisional.filter((p) => !oldNames.has(p.name)).flatMap((p) => p.vips.filter((v) => !held.has(v.address)).map(toNetVip));
    if (candidates.length > 0) {
      const stale = await removeStaleVips(candidates, (v) => owned.has(v.address));
      for (const v of stale.removed) log.info(`removed stale VIP ${v.address}/${v.prefixLength} from ${v.ifname}`);
      for (const e of stale.errors) log.warn(`stale VIP clean-up: ${e}`);
    }

    if (ifnames.join() !== this.monitorIfnames.join()) {
      this.monitor?.stop();
      this.monitor = await this.startMonitor(ifnames, log);
    }
    const plans = this.buildPlans(config, infos, ours);
    const runner = this.runner;
    const gate = this.stallGate;
    const onPacket = (p: Parameters<VrrpRunner['receive']>[0]) => {
      gate?.beat();
      runner.receive(p);
    };
    gate?.configure(stallOptions(config));
    const macs = macsOf(infos);
    const own = ownOf(infos, ours);
    this.io.open(plans, macs, own, onPacket);
    const diff = await this.runner.replace(plans, groupsOf(config));
    this.io.reconcile(plans, macs, own, onPacket);
    this.instancesKey = key;
    for (const c of this.checks.splice(0)) c.stop();
    for (const u of this.trackingUnregister.splice(0)) u();
    this.startTracking(config, plans, log);
    const list = (names: string[]) => (names.length ? names.join(', ') : 'none');
    log.info(
      `reload applied: unchanged ${list(diff.unchanged)}; rebuilt ${list(diff.changed)}; removed ${list(diff.removed)}; added ${list(diff.added)}`,
    );
  }

  private monitorIfnames: string[] = [];
  private trackingUnregister: (() => void)[] = [];

  private async startMonitor(ifnames: string[], log: SubsystemLogger): Promise<LinkMonitor> {
    this.monitorIfnames = ifnames;
    return LinkMonitor.start({
      ifnames,
      onChange: (s) => {
        log.info(`${s.ifname}: link ${s.up ? 'up' : 'down'} (${s.operstate})`);
        this.runner?.track(trackName.iface(s.ifname), s.up);
      },
      onError: (e) => log.warn(`link monitor: ${e.message}`),
    });
  }

  /** Plans for every configured instance; tracked objects start from what is known now. */
  private buildPlans(config: TwinvipConfig, infos: Map<string, InterfaceInfo>, vips: ReadonlySet<string>): InstancePlan[] {
    const known = new Map<string, boolean>();
    for (const v of this.runner?.views() ?? []) for (const t of v.snapshot.tracked) known.set(t.name, t.up);
    return Object.keys(config.instances).map((name) => {
      const inst = config.instances[name]!;
      const info = infos.get(inst.interface)!;
      const family = familyNumber(inst);
      const own = info.addresses.map((a) => a.address).filter((a) => !vips.has(a));
      const primary = inst.unicast_src_ip ?? primaryAddress({ ...info, addresses: info.addresses.filter((a) => !vips.has(a.address)) }, family);
      if (!primary) throw new Error(`${name}: interface ${inst.interface} has no IPv${family} address to send adverts from`);
      const plan = planInstance(config, name, inst, primary, own);
      withOwnInterfaceTracked(plan);
      for (const t of plan.params.tracked ?? []) {
        if (t.name.startsWith('iface:')) t.up = this.monitor?.state(t.name.slice('iface:'.length))?.up ?? false;
        else if (known.has(t.name)) t.up = known.get(t.name)!;
      }
      return plan;
    });
  }

  /** Checks (keepalived vrrp_script and friends) and the Nginx health feed tracked objects. */
  private startTracking(config: TwinvipConfig, plans: InstancePlan[], log: SubsystemLogger): void {
    const tracked = new Set(plans.flatMap((p) => p.tracked.map((t) => t.name)));
    // Asked at each run: a reload that changes enable_script_security or script_user applies at once.
    const policy = () => scriptPolicyFromConfig(this.ctx?.config.notify ?? config.notify);
    for (const [name, check] of Object.entries(config.checks ?? {})) {
      if (!tracked.has(trackName.check(name))) continue;
      const built = checkRunnerFromConfig(name, check, { policy, onWarning: (m) => log.warn(`check ${name}: ${m}`) });
      if (!built.ok) {
        log.error(built.error);
        this.runner?.track(trackName.check(name), false);
        continue;
      }
      this.trackingUnregister.push(
        built.runner.on((e) => {
          log.info(`check ${name} ${e.up ? 'up' : 'down'} (${e.cause})`);
          this.runner?.track(trackName.check(name), e.up);
        }),
      );
      built.runner.start();
      this.checks.push(built.runner);
    }
    if (this.nginxHealth && tracked.has(trackName.nginx)) {
      this.trackingUnregister.push(this.nginxHealth.on((e) => this.runner?.track(trackName.nginx, e.up)));
      if (this.nginxHealth.up !== undefined) this.runner?.track(trackName.nginx, this.nginxHealth.up);
    }
  }

  private instanceStatus(): InstanceStatus[] {
    return (this.runner?.views() ?? []).map(({ plan, snapshot: s }) => ({
      name: s.name,
      state: s.state,
      priority: s.effectivePriority,
      configured_priority: s.configuredPriority,
      vrid: s.vrid,
      version: s.version,
      interface: plan.interface,
      vips: plan.vips.map((v) => `${v.address}/${v.prefix}`),
      master: s.master ? { address: s.master.address, priority: s.master.priority } : null,
      last_transition: s.lastTransition
        ? { from: s.lastTransition.from, to: s.lastTransition.to, cause: s.lastTransition.detail ? `${s.lastTransition.cause}, ${s.lastTransition.detail}` : s.lastTransition.cause }
        : null,
      maintenance: s.maintenance,
      demotions: s.demotions,
    }));
  }

  private counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const v of this.runner?.views() ?? []) {
      for (const [k, n] of Object.entries(v.snapshot.counters)) out[`${v.plan.name}.${k}`] = n;
      out[`${v.plan.name}.accepted`] = v.accepted;
      for (const [k, n] of Object.entries(v.drops)) if (n) out[`${v.plan.name}.drop.${k}`] = n;
      for (const [k, n] of Object.entries(v.warnings)) if (n) out[`${v.plan.name}.warning.${k}`] = n;
    }
    Object.assign(out, receiveLedger(this.runner, this.io));
    if (this.io) for (const [k, n] of Object.entries(this.io.counters)) out[`io.${k}`] = n;
    if (this.stallGate) for (const [k, n] of Object.entries(this.stallGate.counters)) out[`stall.${k}`] = n;
    return out;
  }
}

/** keepalived tracks an instance's own interface unless told not to: link down => FAULT. */
function withOwnInterfaceTracked(plan: InstancePlan): void {
  const own = trackName.iface(plan.interface);
  if (!plan.tracked.some((t) => t.name === own)) plan.tracked.push({ name: own });
  // Its sockets too (unweighted: a broken socket puts it in FAULT, see socketBroke).
  for (const key of socketKeys(plan)) {
    const name = trackName.socket(key);
    if (!plan.tracked.some((t) => t.name === name)) plan.tracked.push({ name });
  }
  plan.params.tracked = plan.tracked;
}

/**
 * Reopening a broken VRRP socket: first after 5 s, then twice as long each time, at most 5 min;
 * a socket that then works for a minute starts over at 5 s when it breaks again.
 */
export const RETRY_MS = { initial: 5_000, max: 300_000, stable: 60_000 };

/**
 * The delay before the first reopen of a socket that just broke. `next` is the delay the back-off
 * had reached (undefined: never broken), `workedMs` how long the socket worked since its last
 * reopen. Without the reset, a firewall mistake fixed hours ago would keep a later, unrelated
 * fault in FAULT for up to 5 min.
 */
export function firstRetryDelay(next: number | undefined, workedMs: number | undefined): number {
  if (next === undefined || (workedMs !== undefined && workedMs >= RETRY_MS.stable)) return RETRY_MS.initial;
  return next;
}

/**
 * The stall gate's thresholds: the earliest the twin may take over after we fall silent, and how
 * long a check waits for its news (src/heartbeat/stall.ts). Changes of the serial settings apply
 * at restart, like the serial link itself.
 */
function stallOptions(config: TwinvipConfig): StallWatchOptions {
  const advs = Object.values(config.instances).map((i) => Math.round(i.advert_int * 100));
  const s = config.heartbeat.serial;
  const probe = config.heartbeat.probe;
  const serial = s?.enabled
    ? {
        periodMs: s.period_ms,
        deadPeriods: s.dead_periods,
        ethernetMarginMs: DEFAULT_ETHERNET_MARGIN_MS,
        // The twin's probe (src/ha/heartbeat/extension.ts): after_ms defaults to period + 30.
        probeTakeoverMs: probe?.enabled ? (probe.after_ms ?? s.period_ms + 30) + probe.tries * probe.interval_ms : undefined,
      }
    : undefined;
  const inputs = { advertIntervalCs: advs.length ? Math.min(...advs) : 100, serial };
  return {
    thresholdMs: stallThresholdMs(inputs),
    settleMs: stallSettleMs(inputs),
    serial: serial !== undefined,
    advertBudgetMs: stallAdvertBudgetMs(inputs),
    minSettleMs: stallMinSettleMs(inputs),
  };
}

function interfacesOf(config: TwinvipConfig): string[] {
  const set = new Set<string>();
  for (const inst of Object.values(config.instances)) {
    set.add(inst.interface);
    for (const t of inst.track_interfaces) set.add(typeof t === 'string' ? t : t.name);
    for (const v of [...inst.vips, ...inst.excluded_vips]) if (typeof v === 'object' && v.dev) set.add(v.dev);
  }
  return [...set];
}

async function readInterfaces(names: string[]): Promise<Map<string, InterfaceInfo>> {
  const out = new Map<string, InterfaceInfo>();
  for (const [name, r] of await readNetInterfaces(names)) {
    // Named like every other start failure: the call, the errno, the kernel's or the tool's words.
    if (!r.ok) throw new FeatureError(`interface ${name}: ${r.call} ${r.errno ?? 'failed'} (${r.error})`, { call: r.call, ...(r.errno ? { errno: r.errno } : {}) });
    out.set(name, r.value);
  }
  return out;
}

function groupsOf(config: TwinvipConfig): Record<string, string[]> {
  return Object.fromEntries(Object.entries(config.sync_groups ?? {}).map(([g, s]) => [g, [...s.instances]]));
}

function macsOf(infos: Map<string, InterfaceInfo>): Map<string, string> {
  return new Map([...infos].map(([k, v]) => [k, v.mac]));
}

function ownOf(infos: Map<string, InterfaceInfo>, vips: ReadonlySet<string>): Map<string, string[]> {
  return new Map([...infos].map(([k, v]) => [k, v.addresses.map((a) => a.address).filter((a) => !vips.has(a))]));
}

function instancesKey(config: TwinvipConfig): string {
  return JSON.stringify([config.instances, config.sync_groups ?? {}, config.checks ?? {}]);
}

function nonZero(c: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(c).filter(([, n]) => n));
}
