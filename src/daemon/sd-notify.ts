/**
 * systemd readiness notification. The daemon calls these at the right moments; the real sender
 * (a unix datagram to $NOTIFY_SOCKET from the main process, so the unit keeps NotifyAccess=main,
 * plus the watchdog ping) comes with the appliance-image part: Node has no unix datagram socket,
 * so it needs a small addon or helper. Until then this does nothing (and says so once when
 * systemd asked for it), exactly what it must do when NOTIFY_SOCKET is unset.
 */
export interface Notifier {
  ready(status: string): void;
  status(status: string): void;
  stopping(status: string): void;
}

export function createNotifier(env: NodeJS.ProcessEnv, warn: (msg: string) => void): Notifier {
  if (env.NOTIFY_SOCKET) warn('NOTIFY_SOCKET is set but sd_notify is not implemented in this build; use Type=simple for now');
  return { ready() {}, status() {}, stopping() {} };
}
