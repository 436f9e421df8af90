/** Process exit codes of the twinvip commands (documented in `twinvip help` and README). */
export const EXIT = {
  /** Clean shutdown (SIGTERM/SIGINT), or a command that succeeded. */
  OK: 0,
  /** Configuration invalid or unreadable; every error was printed. */
  CONFIG: 1,
  /** Bad command-line usage. */
  USAGE: 2,
  /** No daemon answers on the control socket (status, console). */
  NO_DAEMON: 3,
  /** The daemon could not start: control socket busy (another daemon) or not creatable. */
  STARTUP: 4,
  /** The daemon answered with an error. */
  DAEMON_ERROR: 5,
  /**
   * A feature the configuration asks for could not start (VRRP socket, interface, serial port,
   * Nginx): one line names the feature, the call and the errno. systemd restarts the unit.
   */
  FEATURE: 6,

  /** A bug: an exception escaped. */
  INTERNAL: 70,
} as const;
