// Fail loudly (issue #18): a feature the configuration asks for and that cannot start stops the
// daemon with one line naming the feature, the call that failed and its errno; a feature that
// breaks while running is a fault the daemon shows as `degraded` until it clears.
//
// Pure: no I/O, so the worker thread (if the HA path runs there) can build the same lines and
// send them across as plain data.

/**
 * A start-up failure with what it needs for its one line. `call` is the system call or program
 * ("setsockopt IP_MULTICAST_IF", "open /dev/ttyS1", "ip addr show dev eth9"), `errno` its code
 * name ("ENOPROTOOPT"). Plain fields, so it survives a structured clone as `{ ...err }`.
 */
export class FeatureError extends Error {
  readonly call: string | undefined;
  readonly errno: string | undefined;
  /** The feature that failed, when it is not the extension that threw (the HA thread runs two). */
  readonly feature: string | undefined;
  constructor(message: string, opts: { call?: string | undefined; errno?: string | undefined; cause?: unknown; feature?: string | undefined } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'FeatureError';
    this.call = opts.call;
    this.errno = opts.errno;
    this.feature = opts.feature;
  }
}

/** What a fatal start failure or a running fault says, as data (status, MQTT, the worker boundary). */
export interface FailureReason {
  feature: string;
  /** The one line: "feature 'vrrp' cannot start: lan0: setsockopt IP_MULTICAST_IF ENOPROTOOPT (Protocol not available)". */
  line: string;
  call?: string;
  errno?: string;
}

const ERRNO = /^E[A-Z0-9]{2,}$/;

/** The errno name and the call of an error from Node, our addon or FeatureError, when it has them. */
export function errnoOf(err: unknown): { call?: string; errno?: string } {
  if (typeof err !== 'object' || err === null) return {};
  const e = err as { code?: unknown; errno?: unknown; syscall?: unknown; call?: unknown };
  const out: { call?: string; errno?: string } = {};
  const code = typeof e.errno === 'string' && ERRNO.test(e.errno) ? e.errno : typeof e.code === 'string' && ERRNO.test(e.code) ? e.code : undefined;
  if (code) out.errno = code;
  const call = typeof e.call === 'string' ? e.call : typeof e.syscall === 'string' ? e.syscall : undefined;
  if (call) out.call = call;
  return out;
}

/**
 * One line for a feature that could not start. The message is kept as it is when it already names
 * the call and the errno (our addon's errors read "setsockopt IP_MULTICAST_IF ENOPROTOOPT (...)");
 * otherwise what is missing is added, so the line always carries both when the error had them.
 */
export function startFailure(feature: string, err: unknown): FailureReason {
  const message = oneLine(err instanceof Error ? err.message : String(err));
  const { call, errno } = errnoOf(err);
  let detail = message;
  if (errno && !message.includes(errno)) detail = `${message} (${call && !message.includes(call) ? `${call} ` : ''}${errno})`;
  else if (call && !message.includes(call)) detail = `${call}: ${message}`;
  return {
    feature,
    line: `feature '${feature}' cannot start: ${detail}`,
    ...(call ? { call } : {}),
    ...(errno ? { errno } : {}),
  };
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, '; ').trim();
}

/**
 * glibc's strerror texts of the errors a device open can meet, for libraries that give only the
 * text (serialport's "Error: Is a directory, cannot open /dev/x").
 */
const STRERROR: Record<string, string> = {
  'No such file or directory': 'ENOENT',
  'Is a directory': 'EISDIR',
  'Permission denied': 'EACCES',
  'Operation not permitted': 'EPERM',
  'Inappropriate ioctl for device': 'ENOTTY',
  'Device or resource busy': 'EBUSY',
  'No such device': 'ENODEV',
  'No such device or address': 'ENXIO',
  'Input/output error': 'EIO',
  'Not a directory': 'ENOTDIR',
  'Too many open files': 'EMFILE',
  'Read-only file system': 'EROFS',
  'Invalid argument': 'EINVAL',
};

/** The errno name a strerror text in `message` stands for, if it is one of the common ones. */
export function errnoFromText(message: string): string | undefined {
  for (const [text, code] of Object.entries(STRERROR)) if (message.includes(text)) return code;
  return undefined;
}
