import { formatIssues, loadConfigFile, type ConfigResult, type TwinvipConfig } from '../config';
import { startMark } from '../lib/start-marks';
import { ControlServer } from '../control';
import type { Logger, SubsystemLogger } from '../log';
import { VERSION } from '../version';
import { registerBuiltinCommands } from './builtin-commands';
import { CounterRegistry } from './counters';
import { EventBus, type DaemonEvents } from './events';
import type { DaemonContext, Extension } from './extension';
import { FeatureError, startFailure, type FailureReason } from '../lib/feature-failure';
import type { DaemonStatus, FeatureStatus, InstanceStatus } from './status';

export interface DaemonOptions {
  configPath: string;
  /** The configuration already loaded and valid (run.ts refuses to start otherwise). */
  config: TwinvipConfig;
  configHash: string;
  logger: Logger;
  extensions?: Extension[];
  /** Injectable for tests. */
  loadConfig?: (path: string) => Promise<ConfigResult>;
  now?: () => number;
}

export type ReloadOutcome =
  | { ok: true; changed: boolean; oldHash: string; newHash: string }
  | { ok: false; errors: string[]; keptHash: string };

/** `feature` is set when a configured feature could not start (run exits with EXIT.FEATURE). */
export type StartResult = { ok: true } | { ok: false; error: string; feature?: FailureReason };

/** A feature that broke while running: shown as `degraded` with its reason until cleared. */
export interface Fault {
  /** Stable id, also the critical alarm's id (e.g. "vrrp-socket-failed"). */
  id: string;
  feature: string;
  /** One line: what broke, the call and errno, and what was done ("VI_1 in FAULT"). */
  reason: string;
  /** The instances it holds in FAULT, if any. */
  instances?: string[];
  /** Epoch ms it was raised. */
  since: number;
}

/** Something that can list VRRP instances for `status`; the VRRP part provides one. */
export type InstanceLister = () => InstanceStatus[];

/**
 * The shell's lifecycle: owns the configuration, the event bus, the control socket and the
 * extensions. It knows no feature: features are Extensions started in order and stopped in
 * reverse order.
 */
export class Daemon implements DaemonContext {
  readonly bus: EventBus;
  readonly control: ControlServer;
  readonly counters = new CounterRegistry();
  readonly logger: Logger;
  readonly configPath: string;
  startedAt = 0;
  private cfg: TwinvipConfig;
  private hash: string;
  private loadedAt = 0;
  private reloads = 0;
  private refusedReloads = 0;
  private readonly extensions: Extension[];
  private readonly started: Extension[] = [];
  private readonly log: SubsystemLogger;
  private readonly loadConfig: (path: string) => Promise<ConfigResult>;
  private readonly now: () => number;
  private reloadChain: Promise<unknown> = Promise.resolve();
  private stopPromise: Promise<void> | undefined;
  private resolveStopped!: (cause: string) => void;
  private instanceLister: InstanceLister = () => [];
  private readonly statusRefreshers: (() => Promise<void>)[] = [];
  private readonly faults = new Map<string, Fault>();
  private readonly faultListeners = new Set<() => void>();
  private readonly alarms = new Map<string, DaemonEvents['alarm']>();
  /** Settles with the cause once stop() has finished. */
  readonly stopped: Promise<string>;

  constructor(opts: DaemonOptions) {
    this.configPath = opts.configPath;
    this.cfg = opts.config;
    this.hash = opts.configHash;
    this.logger = opts.logger;
    this.extensions = opts.extensions ?? [];
    this.loadConfig = opts.loadConfig ?? loadConfigFile;
    this.now = opts.now ?? Date.now;
    this.log = this.logger.for('daemon');
    this.bus = new EventBus((event, err) => this.log.error(`listener of '${event}' failed`, { error: err instanceof Error ? err.message : String(err) }));
    this.control = new ControlServer({ log: this.logger.for('control') });
    this.stopped = new Promise((r) => {
      this.resolveStopped = r;
    });
    this.logger.onRecord((record) => this.bus.emit('log', record));
    // Subscribed first, so the record is up to date before any feature's listener runs.
    this.bus.on('alarm', (a) => {
      const key = a.instance ? `${a.id}@${a.instance}` : a.id;
      if (a.active) this.alarms.set(key, a);
      else this.alarms.delete(key);
    });
    this.counters.add('control', () => ({ ...this.control.counters }));
    registerBuiltinCommands(this);
  }

  get config(): TwinvipConfig {
    return this.cfg;
  }

  get configHash(): string {
    return this.hash;
  }

  activeAlarms(): DaemonEvents['alarm'][] {
    return [...this.alarms.values()];
  }

  /** The VRRP part calls this once to make its instances visible in `status`. */
  setInstanceLister(lister: InstanceLister): void {
    this.instanceLister = lister;
  }

  async start(): Promise<StartResult> {
    this.startedAt = this.now();
    this.loadedAt = this.startedAt;
    const socket = this.cfg.control.socket;
    startMark('main-daemon-start');
    const listened = await this.control.listen(socket);
    startMark('main-control-listening');
    if (!listened.ok) return listened;
    if (this.stopPromise) {
      // A SIGTERM arrived while the socket was being set up: stop() found nothing to close yet.
      await this.control.close();
      return { ok: false, error: 'stopped during start-up' };
    }
    // Fail loudly: a feature the configuration asks for and that cannot start is fatal. Running
    // "without VRRP" looks healthy and protects nothing; exiting lets systemd restart us (with
    // its back-off) and the journal shows the one line naming the feature, the call and errno.
    // A feature that may run degraded (MQTT with its broker down) does not throw from start().
    for (const ext of this.extensions) {
      if (this.stopPromise) break;
      try {
        startMark(`main-ext-${ext.name}`);
        await ext.start(this);
        if (this.stopPromise) {
          // A SIGTERM arrived while it started: stop() has already gone past it.
          await Promise.resolve(ext.stop()).catch((err: unknown) => this.log.error(`feature '${ext.name}' failed to stop cleanly`, { error: errMessage(err) }));
          break;
        }
        this.started.push(ext);
      } catch (err) {
        const reason = startFailure(err instanceof FeatureError && err.feature ? err.feature : ext.name, err);
        this.log.error(reason.line, { feature: reason.feature, ...(reason.call ? { call: reason.call } : {}), ...(reason.errno ? { errno: reason.errno } : {}) });
        // What it set up before failing (a socket, a timer) is undone with the others.
        this.started.push(ext);
        await this.stop(`feature '${reason.feature}' cannot start`);
        return { ok: false, error: reason.line, feature: reason };
      }
    }
    if (this.stopPromise) {
      await this.stopPromise;
      return { ok: false, error: 'stopped during start-up' };
    }
    this.log.info(`started: node ${this.cfg.node.name}, config ${this.hash}, control socket ${socket}`, {
      version: VERSION, pid: process.pid, config: this.configPath,
    });
    this.bus.emit('started', { node: this.cfg.node.name, pid: process.pid, configHash: this.hash, at: this.now() });
    return { ok: true };
  }

  /**
   * Re-reads the config file. A bad file is refused with every error logged and the running
   * configuration kept; a good one replaces it. Reloads are serialised: a SIGHUP during a reload
   * runs after it, on the file as it is then.
   */
  reload(cause: string): Promise<ReloadOutcome> {
    const run = this.reloadChain.then(() => this.reloadNow(cause));
    this.reloadChain = run.catch(() => {});
    return run;
  }

  private async reloadNow(cause: string): Promise<ReloadOutcome> {
    const path = this.configPath;
    if (this.stopPromise) {
      this.log.info(`reload (${cause}) ignored: stopping`);
      return { ok: false, errors: ['daemon is stopping'], keptHash: this.hash };
    }
    this.log.info(`reloading config from ${path} (${cause})`);
    const result = await this.loadConfig(path);
    if (!result.ok) {
      this.refusedReloads++;
      const lines = formatIssues(result.errors, path).split('\n').filter(Boolean);
      this.log.error(`config refused: ${result.errors.length} error(s) in ${path}; keeping running config ${this.hash}`, { path, kept: this.hash });
      for (const line of lines) this.log.error(line);
      this.bus.emit('config-refused', { path, errors: result.errors, keptHash: this.hash, at: this.now() });
      return { ok: false, errors: lines, keptHash: this.hash };
    }
    for (const w of result.warnings) this.log.warn(formatIssues([w], path));
    const oldHash = this.hash;
    if (result.hash === oldHash) {
      this.log.info(`config unchanged (${oldHash}); nothing to do`, { path });
      return { ok: true, changed: false, oldHash, newHash: oldHash };
    }
    const old = this.cfg;
    if (result.config.control.socket !== old.control.socket) {
      // Moving the socket under running clients would strand them; the new path applies at restart.
      this.log.warn(`control.socket changed to ${result.config.control.socket}; keeps ${old.control.socket} until restart`);
    }
    this.cfg = result.config;
    this.hash = result.hash;
    this.loadedAt = this.now();
    this.reloads++;
    this.logger.configure({ level: result.config.logging.level, format: result.config.logging.format });
    this.log.info(`config reloaded: ${oldHash} -> ${result.hash}`, { path, old: oldHash, new: result.hash });
    for (const ext of this.started) {
      if (!ext.onConfigReloaded) continue;
      try {
        await ext.onConfigReloaded(this);
      } catch (err) {
        this.log.error(`feature '${ext.name}' failed to apply the reloaded config`, { error: errMessage(err) });
      }
    }
    this.bus.emit('config-reloaded', { path, oldHash, newHash: result.hash, at: this.now() });
    return { ok: true, changed: true, oldHash, newHash: result.hash };
  }

  /** Stops features in reverse order, closes and removes the control socket. Idempotent. */
  stop(cause: string): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    this.stopPromise = (async () => {
      this.log.info(`stopping (${cause})`);
      this.bus.emit('stopping', { cause, at: this.now() });
      for (const ext of [...this.started].reverse()) {
        try {
          await ext.stop();
        } catch (err) {
          this.log.error(`feature '${ext.name}' failed to stop cleanly`, { error: errMessage(err) });
        }
      }
      this.started.length = 0;
      await this.control.close();
      this.log.info(`stopped (${cause}); control socket ${this.cfg.control.socket} removed`);
      this.resolveStopped(cause);
    })();
    return this.stopPromise;
  }

  /**
   * A part whose status lives elsewhere (the HA thread) brings it up to date before the `status`
   * command answers; waited for STATUS_REFRESH_MS at most, then the last known state is shown.
   */
  addStatusRefresher(fn: () => Promise<void>): void {
    this.statusRefreshers.push(fn);
  }

  private readonly statusSections = new Map<'diagnosis', () => unknown>();

  /** A feature's own section of `status` (the diagnosis). */
  addStatusSection(name: 'diagnosis', fn: () => unknown): void {
    this.statusSections.set(name, fn);
  }

  /** status() after the refreshers: what the `status` control command answers. */
  async freshStatus(): Promise<DaemonStatus> {
    if (this.statusRefreshers.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(this.statusRefreshers.map((f) => f().catch(() => undefined))),
        new Promise((r) => (timer = setTimeout(r, STATUS_REFRESH_MS))),
      ]);
      clearTimeout(timer);
    }
    return this.status();
  }

  /**
   * A feature broke while running (a VRRP socket that cannot send, the serial port gone): it has
   * already put the affected instances in FAULT; this makes the daemon `degraded` with the
   * reason (status, console, MQTT state, systemd STATUS=) and raises the critical alarm.
   * Raising the same id again updates the reason without a second alarm.
   */
  reportFault(fault: Omit<Fault, 'since'>): void {
    const known = this.faults.get(fault.id);
    this.faults.set(fault.id, { ...fault, since: known?.since ?? this.now() });
    if (!known) {
      this.log.error(`degraded: ${fault.reason}`, { feature: fault.feature, fault: fault.id });
      this.bus.emit('alarm', { id: fault.id, active: true, severity: 'critical', message: fault.reason, at: this.now() });
    }
    for (const l of this.faultListeners) l();
  }

  /** The fault is over (socket reopened, port back): the alarm clears, `degraded` goes when none is left. */
  clearFault(id: string, message: string): void {
    const known = this.faults.get(id);
    if (!known) return;
    this.faults.delete(id);
    this.log.info(`fault cleared: ${message}`, { feature: known.feature, fault: id });
    this.bus.emit('alarm', { id, active: false, severity: 'critical', message, at: this.now() });
    for (const l of this.faultListeners) l();
  }

  /** Called after every fault raised or cleared (run.ts updates systemd's STATUS=). */
  onFaultsChanged(listener: () => void): () => void {
    this.faultListeners.add(listener);
    return () => this.faultListeners.delete(listener);
  }

  activeFaults(): Fault[] {
    return [...this.faults.values()];
  }

  status(): DaemonStatus {
    const now = this.now();
    const faults = this.activeFaults();
    const features: Record<string, FeatureStatus> = {};
    for (const ext of this.started) {
      let each: Record<string, FeatureStatus | undefined>;
      try {
        each = ext.featureStatuses ? ext.featureStatuses() : { [ext.name]: ext.featureStatus?.() };
      } catch (err) {
        each = { [ext.name]: { state: 'degraded', detail: `health unknown: ${errMessage(err)}` } };
      }
      for (const [name, status] of Object.entries(each)) {
        let h = status;
        const own = faults.filter((f) => f.feature === name);
        if (own.length > 0) h = { state: 'degraded', detail: own.map((f) => f.reason).join('; ') };
        if (h) features[name] = h;
      }
    }
    return {
      node: this.cfg.node.name,
      version: VERSION,
      pid: process.pid,
      started_at: new Date(this.startedAt).toISOString(),
      uptime_s: Math.round((now - this.startedAt) / 1000),
      config: {
        path: this.configPath,
        hash: this.hash,
        loaded_at: new Date(this.loadedAt).toISOString(),
        reloads: this.reloads,
        refused_reloads: this.refusedReloads,
      },
      control: { socket: this.control.socketPath ?? this.cfg.control.socket, clients: this.control.clientCount },
      health: faults.length === 0 ? { state: 'ok', reasons: [] } : { state: 'degraded', reasons: faults.map((f) => f.reason) },
      features,
      alarms: this.activeAlarms().map((a) => ({ id: a.id, severity: a.severity, message: a.message, ...(a.instance ? { instance: a.instance } : {}), ...(a.cause ? { cause: a.cause } : {}), since: new Date(a.at).toISOString() })),
      instances: this.instanceLister(),
      counters: this.counters.snapshot(),
      ...Object.fromEntries([...this.statusSections].map(([k, f]) => [k, f()])),
    };
  }
}

const STATUS_REFRESH_MS = 1000;

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
