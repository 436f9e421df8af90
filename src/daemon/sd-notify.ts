/**
 * systemd readiness and watchdog notification (sd_notify(3)), sent by the main process itself so
 * the unit keeps NotifyAccess=main. Node has no unix datagram socket: the datagram goes through
 * our addon's sendUnixDatagram. With NOTIFY_SOCKET unset (a shell, a test, a non-systemd init)
 * every call does nothing.
 *
 * READY=1 once the control socket answers and the instances are started; STATUS= a one-line
 * summary, updated on every transition; WATCHDOG=1 at half of WATCHDOG_USEC from the event loop
 * (see watchdog.ts); STOPPING=1 when shutdown begins.
 */
import { loadAddon } from '../net/native';
import type { DaemonStatus } from './status';
import { startWatchdog, type Watchdog } from './watchdog';

export interface Notifier {
  /** NOTIFY_SOCKET was set: messages go somewhere. */
  readonly enabled: boolean;
  /** Half of WATCHDOG_USEC in ms when systemd asked for watchdog pings (for this PID), else undefined. */
  readonly watchdogIntervalMs: number | undefined;
  ready(status: string): void;
  status(status: string): void;
  stopping(status: string): void;
  /** Starts the pings when the unit has WatchdogSec; returns a stopper (a no-op otherwise). */
  startWatchdog(health?: () => string | undefined): () => void;
}

/** Sends one datagram to the socket named by NOTIFY_SOCKET ("@name" = abstract); throws on failure. */
export type DatagramSender = (socket: string, message: string) => void;

export interface NotifyEnv {
  socket?: string;
  watchdogUsec?: number;
}

/**
 * Reads NOTIFY_SOCKET and WATCHDOG_USEC as sd_watchdog_enabled(3) does: a WATCHDOG_PID naming
 * another process means the watchdog is not ours (e.g. we were started by a script the unit runs).
 */
export function parseNotifyEnv(env: NodeJS.ProcessEnv, pid: number): NotifyEnv {
  const out: NotifyEnv = {};
  const socket = env.NOTIFY_SOCKET;
  if (socket && (socket.startsWith('/') || (socket.startsWith('@') && socket.length > 1))) out.socket = socket;
  const usec = env.WATCHDOG_USEC && /^\d+$/.test(env.WATCHDOG_USEC) ? Number(env.WATCHDOG_USEC) : 0;
  const forPid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) : pid;
  if (usec > 0 && forPid === pid) out.watchdogUsec = usec;
  return out;
}

const addonSender: DatagramSender = (socket, message) => {
  loadAddon().sendUnixDatagram(socket, Buffer.from(message, 'utf8'));
};

export function createNotifier(
  env: NodeJS.ProcessEnv,
  warn: (msg: string) => void,
  opts: { send?: DatagramSender; pid?: number } = {},
): Notifier {
  const parsed = parseNotifyEnv(env, opts.pid ?? process.pid);
  // Children (notify scripts, nginx) must not inherit these and talk to systemd as if they were
  // us (sd_notify's unset_environment).
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  const socket = parsed.socket;
  const send = opts.send ?? addonSender;
  const warned = new Set<string>();

  const notify = (message: string) => {
    if (!socket) return;
    try {
      send(socket, message);
    } catch (err) {
      // Once per cause: a missing socket would otherwise log on every watchdog ping.
      const code = (err as { code?: string }).code ?? (err as Error).message;
      if (warned.has(code)) return;
      warned.add(code);
      warn(`sd_notify to ${socket} failed: ${(err as Error).message}`);
    }
  };

  const watchdogIntervalMs = parsed.watchdogUsec === undefined ? undefined : Math.max(1, Math.floor(parsed.watchdogUsec / 2000));
  let watchdog: Watchdog | undefined;

  return {
    enabled: socket !== undefined,
    watchdogIntervalMs,
    ready: (status) => notify(`READY=1\nSTATUS=${oneLine(status)}`),
    status: (status) => notify(`STATUS=${oneLine(status)}`),
    stopping: (status) => notify(`STOPPING=1\nSTATUS=${oneLine(status)}`),
    startWatchdog(health) {
      if (!socket || watchdogIntervalMs === undefined || watchdog) return () => {};
      const wd = startWatchdog({
        intervalMs: watchdogIntervalMs,
        ping: () => notify('WATCHDOG=1'),
        health,
        onHealthChange: (reason) => warn(reason === undefined ? 'watchdog pings resumed' : `watchdog pings withheld: ${reason}`),
      });
      watchdog = wd;
      return () => {
        wd.stop();
        if (watchdog === wd) watchdog = undefined;
      };
    },
  };
}

/** systemctl status shows STATUS= on one line; a newline would start another assignment. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 400);
}

/**
 * The one-line STATUS: each instance's state, then the config hash, e.g. "VI_1 MASTER (150);
 * config 1a2b"; while a feature is broken it ends with "; degraded: <reason>".
 */
export function statusLine(s: Pick<DaemonStatus, 'node' | 'instances' | 'config'> & { health?: DaemonStatus['health'] }): string {
  const inst = s.instances.length === 0
    ? 'no VRRP instances'
    : s.instances.map((i) => `${i.name} ${i.state}${i.priority === undefined ? '' : ` (${i.priority})`}`).join(', ');
  const degraded = s.health?.state === 'degraded' ? `; degraded: ${s.health.reasons.join('; ')}` : '';
  return `${s.node}: ${inst}; config ${s.config.hash}${degraded}`;
}
