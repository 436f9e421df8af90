import { addressFamily } from '../../lib/ip';

// Every value that reaches nginx.conf passes one of these whitelists, in the schema (patterns)
// and again in the renderer (assertSafe). Nginx interpolates `$` even inside quotes, so escaping
// is not enough: a value either has the shape of an address, a port, a path or a host name, or it
// never reaches the file. None of these admit whitespace, ';', '{', '}', quotes or '#'.

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';

export const PATTERNS = {
  /** An upstream group name: also the `upstream` block name in the file. */
  name: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
  /** A location prefix: an absolute URI path without spaces, regex or variables. */
  uriPath: '^/[A-Za-z0-9._~/-]{0,255}$',
  /** A directory on the box (static root). */
  fsPath: '^/[A-Za-z0-9._/-]{0,1023}$',
  /**
   * The modules include: a file or glob directly inside Debian's modules-enabled directory, whose
   * files are root's. A file included here is main-context config (a `load_module` in it runs
   * code in the root master), so no other directory is accepted; no "/" after the directory, so
   * no "..".
   */
  modulesInclude: '^/etc/nginx/modules-enabled/[A-Za-z0-9._*-]{1,128}\\.conf$',
  /** A file name (index files). */
  fileName: '^[A-Za-z0-9._-]{1,128}$',
  /** server_name: a host name, a leading-wildcard name (*.example.net), or "_". */
  serverName: `^(?:_|(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*)$`,
  /** An upstream server host name (an IP address is checked by format). */
  hostName: `^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`,
  /** The hash key: one or more Nginx variables, nothing else (e.g. $remote_addr$request_uri). */
  hashKey: '^(?:\\$[A-Za-z_][A-Za-z0-9_]{0,63}){1,4}$',
  /** `expires` argument: off, epoch, max, or a time such as 30d, 1h, 3600 (seconds). */
  expires: '^(?:off|epoch|max|[0-9]{1,9}(?:ms|s|m|h|d|w|M|y)?)$',
  /** Cache-Control header value, e.g. "public, max-age=3600, immutable". */
  cacheControl: '^[A-Za-z0-9=,-]+(?: [A-Za-z0-9=,-]+){0,15}$',
  /** System user for the workers (user directive); never root (workers parse client input). */
  user: '^(?!root$)[a-z_][a-z0-9_-]{0,31}$',
  /** client_max_body_size: bytes, or k/m/g units (0 = unlimited). */
  size: '^[0-9]{1,9}[kmg]?$',
  /** Name of a server's log files and syslog tag: Nginx's syslog tag allows [a-z0-9_] only. */
  logName: '^[a-z0-9_]{1,32}$',
} as const;

export type ValueKind = keyof typeof PATTERNS | 'address' | 'hostOrAddress' | 'generation' | 'cipherList';

const compiled = Object.fromEntries(Object.entries(PATTERNS).map(([k, p]) => [k, new RegExp(p)])) as Record<keyof typeof PATTERNS, RegExp>;

export function isSafe(kind: ValueKind, value: string): boolean {
  switch (kind) {
    case 'address':
      return addressFamily(value) !== undefined;
    case 'hostOrAddress':
      return addressFamily(value) !== undefined || compiled.hostName.test(value);
    case 'generation':
      return /^[0-9a-f]{8,64}$/.test(value);
    case 'cipherList':
      return /^[A-Z0-9_-]+(?::[A-Z0-9_-]+){0,31}$/.test(value);
    default:
      return compiled[kind].test(value);
  }
}

/** A value that is not safe here is a bug upstream (schema or semantics let it through): refuse to render. */
export class UnsafeValueError extends Error {
  override name = 'UnsafeValueError';
}

export function assertSafe(kind: ValueKind, value: string, where: string): string {
  if (!isSafe(kind, value)) throw new UnsafeValueError(`refusing to render ${where}: ${JSON.stringify(value)} is not a valid ${kind}`);
  return value;
}

/** Integers reach the file only as integers within range. */
export function assertInt(value: number, min: number, max: number, where: string): string {
  if (!Number.isInteger(value) || value < min || value > max) throw new UnsafeValueError(`refusing to render ${where}: ${String(value)} is not an integer ${min}..${max}`);
  return String(value);
}

/** Seconds (possibly fractional) as Nginx milliseconds, e.g. 2.5 -> "2500ms". */
export function durationMs(seconds: number, where: string): string {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 86400 * 365) throw new UnsafeValueError(`refusing to render ${where}: ${String(seconds)} is not a duration in seconds`);
  return `${Math.round(seconds * 1000)}ms`;
}

/**
 * The one host-name rule of the nginx section, used by the schema (format "upstream-host") and by
 * the renderer: an IP address, or a host name without a trailing dot (Nginx would try to resolve
 * "example.net." literally, and the renderer used to refuse what the schema accepted).
 */
export function isUpstreamHost(value: string): boolean {
  return isSafe('hostOrAddress', value);
}

export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1';
}
