/** The `status` control command's answer; also what `twinvip status --json` prints. */
export interface DaemonStatus {
  node: string;
  version: string;
  pid: number;
  started_at: string;
  uptime_s: number;
  config: { path: string; hash: string; loaded_at: string; reloads: number; refused_reloads: number };
  control: { socket: string; clients: number };
  /** One entry per VRRP instance; empty until the VRRP part lands. */
  instances: InstanceStatus[];
  /** Every counter of every part, by group. */
  counters: Record<string, Record<string, number>>;
}

export interface InstanceStatus {
  name: string;
  state: string;
  priority?: number;
  [key: string]: unknown;
}
