import type { TwinvipConfig } from '../config';
import type { ControlServer } from '../control';
import type { Logger } from '../log';
import type { CounterRegistry } from './counters';
import type { ReloadOutcome } from './daemon';
import type { DaemonEvents, EventBus } from './events';
import type { DaemonStatus, InstanceStatus } from './status';

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
   * Alarms raised on the bus and not cleared since, oldest first. A feature that starts after
   * another (MQTT and e-mail start after Nginx control, which raises certificate alarms at its
   * own start) reads them once right after subscribing to `alarm`, so it misses none.
   */
  activeAlarms?(): DaemonEvents['alarm'][];
}

/**
 * A self-contained feature (MQTT, console, Nginx control...). start() subscribes to the bus and
 * registers control commands and counters; stop() undoes all of it. A start() that throws is
 * logged and the daemon runs on without that feature; stop() errors are logged too.
 */
export interface Extension {
  readonly name: string;
  start(ctx: DaemonContext): void | Promise<void>;
  stop(): void | Promise<void>;
  /** Called after a successful reload; the new config is in ctx.config. */
  onConfigReloaded?(ctx: DaemonContext): void | Promise<void>;
}
