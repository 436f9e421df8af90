/** The `status` control command's answer; also what `twinvip status --json` prints. */
export interface DaemonStatus {
  node: string;
  version: string;
  pid: number;
  started_at: string;
  uptime_s: number;
  config: { path: string; hash: string; loaded_at: string; reloads: number; refused_reloads: number };
  control: { socket: string; clients: number };
  /**
   * `degraded` while a feature that was running has broken (its instances are in FAULT); the
   * reasons name the feature, the call and the errno.
   */
  health: { state: 'ok' | 'degraded'; reasons: string[] };
  /** Alarms raised on the bus and not cleared (critical ones for a broken feature), oldest first. */
  alarms?: { id: string; severity: 'warning' | 'critical'; message: string; instance?: string; cause?: string; since: string }[];
  /** Each running feature: `running`, or `waiting` for an optional peer (MQTT broker), or `degraded`. */
  features: Record<string, FeatureStatus>;
  /** One entry per VRRP instance; empty until the VRRP part lands. */
  instances: InstanceStatus[];
  /** Every counter of every part, by group. */
  counters: Record<string, Record<string, number>>;
  /** The split-brain diagnosis (src/diagnose/): causes found, with evidence and fix; absent when not running. */
  diagnosis?: unknown;
}

export interface InstanceStatus {
  name: string;
  state: string;
  priority?: number;
  [key: string]: unknown;
}

export interface FeatureStatus {
  /**
   * running: doing its job. waiting: started, an outside party it may run without is not there
   * yet (MQTT broker unreachable: events wait in the outbox). degraded: broke while running.
   */
  state: 'running' | 'waiting' | 'degraded';
  detail?: string;
}
