/** Where the control socket lives when the configuration does not say (systemd's RuntimeDirectory). */
export const DEFAULT_CONTROL_SOCKET = '/run/twinvip/control.sock';

/** The configuration `twinvip run`, `status` and `console` read when no -c is given. */
export const DEFAULT_CONFIG_PATH = '/etc/twinvip/twinvip.json';
