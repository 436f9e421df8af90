import type { TwinvipConfig } from '../config';
import type { ControlServer } from '../control';
import type { Logger } from '../log';
import type { CounterRegistry } from './counters';
import type { ReloadOutcome } from './daemon';
import type { DaemonEvents, EventBus } from './events';
import type { Fault } from './daemon';
import type { DaemonStatus, FeatureStatus, InstanceStatus } from './status';

/**
 * What the daemon hands every feature: a typed context object rather than a global settings
 * singleton or constructors with many positional arguments.
 */
export interface DaemonContext {
  /** The running configuration; replaced on a successful reload (read it when needed, do not cache). */
  readonly config: TwinvipConfig;
  readonly configHash: string;
  readonly configPath: string;
  readonly logger: Logger;
  readonly bus: EventBus;
  readonly control: ControlServer;
  readonly counters: CounterRegistry;
  /** Epoch ms of start. */
  readonly startedAt: number;
  /** The same answer as the `status` control command (MQTT state, console). */
  status(): DaemonStatus;
  /** Re-reads the config file, exactly as SIGHUP does (MQTT `reload`, console `reload`). */
  reload(cause: string): Promise<ReloadOutcome>;
  /** The VRRP part tells the daemon how to list its instances in `status`. */
  setInstanceLister(lister: () => InstanceStatus[]): void;
  /**
   * The feature broke while running and has put the instances it affects in FAULT: the daemon
   * shows `degraded` with the reason and raises the critical alarm `fault.id`.
   */
  reportFault(fault: Omit<Fault, 'since'>): void;
  /** The fault is over; the alarm clears. */
  clearFault(id: string, message: string): void;
  /**
   * Alarms raised on the bus and not cleared since, oldest first. A feature that starts after
   * another (MQTT and e-mail start after Nginx control, which raises certificate alarms at its
   * own start) reads them once right after subscribing to `alarm`, so it misses none.
   */
  activeAlarms?(): DaemonEvents['alarm'][];
}

/**
 * A self-contained feature (MQTT, console, Nginx control...). start() subscribes to the bus and
 * registers control commands and counters; stop() undoes all of it. A start() that throws stops
 * the daemon (exit EXIT.FEATURE, the one line naming the feature, the call and the errno; see
 * feature-failure.ts): a feature the configuration asks for never silently runs without it.
 * A feature that may wait for an outside party (MQTT broker) starts anyway and says so in
 * health(). stop() must undo a partial start too; its errors are logged.
 */
export interface Extension {
  readonly name: string;
  start(ctx: DaemonContext): void | Promise<void>;
  stop(): void | Promise<void>;
  /** Called after a successful reload; the new config is in ctx.config. */
  onConfigReloaded?(ctx: DaemonContext): void | Promise<void>;
  /** How it is doing, for `status` features; undefined = not configured (not listed). Default: running. */
  featureStatus?(): FeatureStatus | undefined;
  /** Instead of featureStatus, for an extension that runs several features (the HA thread: vrrp, heartbeat). */
  featureStatuses?(): Record<string, FeatureStatus | undefined>;
}
