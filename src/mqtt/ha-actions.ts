/**
 * What MQTT commands may ask of the VRRP part. The VRRP shell implements it and hands it to the
 * extension (constructor option or setHaActions); while absent, `maintenance` and `failover`
 * answer "not available".
 */
export interface HaActions {
  /** Maintenance on: advertise priority 0 and stay BACKUP (hand the VIPs over); off: back to normal. */
  maintenance(on: boolean): Promise<HaActionResult>;
  /** Hand the VIPs of `instance` (default: every MASTER instance of this node) to the peer. */
  failover(instance?: string): Promise<HaActionResult>;
  /**
   * Runs `act` as one operator action (reload, config push): refused, with the running action
   * named, while another one (console or MQTT) is in progress, as maintenance and failover are.
   */
  exclusive<T>(name: string, act: () => Promise<T>): Promise<T | { ok: false; error: string }>;
}

/** An error value, not an exception: `ok: false` with the reason the action was refused. */
export type HaActionResult = { ok: true; data?: unknown } | { ok: false; error: string };
