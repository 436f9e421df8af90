/**
 * Syslog priorities for the two ways a line reaches an operator's log tools:
 * - stdout under systemd: each line starts with `<N>` (sd-daemon(3)'s SD_ERR etc.), which journald
 *   strips and files as the entry's PRIORITY (its SyslogLevelPrefix= default), so
 *   `journalctl -p err -u twinvip` shows twinvip's errors. Without it every line is `info`.
 * - an optional datagram per line to the local syslog socket (/dev/log), with a facility
 *   (local0 by default, as keepalived is usually set up: local0 -> /var/log/keepalived.log).
 */
import type { LogFormat } from './format';
import { formatJson, formatTextBody } from './format';
import type { Level } from './levels';
import type { LogRecord } from './record';

/** RFC 5424 severities: error 3, warning 4, informational 6, debug 7. */
export const SYSLOG_SEVERITY: Record<Level, number> = { debug: 7, info: 6, warn: 4, error: 3 };

export const SYSLOG_FACILITIES = ['local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'] as const;
export type SyslogFacility = (typeof SYSLOG_FACILITIES)[number];

/** RFC 5424 facility codes: local0 = 16 ... local7 = 23. */
export function facilityCode(facility: SyslogFacility): number {
  return 16 + SYSLOG_FACILITIES.indexOf(facility);
}

/** `<3>` for an error: the sd-daemon prefix journald reads on a stdout line. */
export function journalPrefix(level: Level): string {
  return `<${SYSLOG_SEVERITY[level]}>`;
}

/**
 * Prefixes every line of a (possibly multi-line) text with the level's journal prefix: journald
 * makes one entry per line, and each line must carry its own priority.
 */
export function withJournalPrefix(text: string, level: Level): string {
  const p = journalPrefix(level);
  return text
    .split('\n')
    .map((l, i, all) => (l === '' && i === all.length - 1 ? l : p + l))
    .join('\n');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 3164 timestamp in local time, as glibc's syslog(3) writes it: `Nov 25 14:36:48`, day space-padded. */
export function rfc3164Time(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/**
 * One datagram for the local syslog socket in the format glibc's syslog(3) sends
 * (`<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG`), which rsyslog's imuxsock and journald's /dev/log both
 * parse: PRI = facility * 8 + severity. The message is the text line without its own timestamp
 * (syslog adds one), or the JSON object as it is.
 */
export function syslogDatagram(r: LogRecord, opts: { format: LogFormat; facility: SyslogFacility; tag: string; pid: number }): string {
  const pri = facilityCode(opts.facility) * 8 + SYSLOG_SEVERITY[r.level];
  const msg = opts.format === 'json' ? formatJson(r) : formatTextBody(r);
  return `<${pri}>${rfc3164Time(r.ts)} ${opts.tag}[${opts.pid}]: ${msg}`;
}

/**
 * Whether stdout is connected to the journal: systemd sets JOURNAL_STREAM to the `device:inode`
 * of the stream it connected, and a process checks it against its own stdout (sd_journal_stream_fd
 * docs, systemd.exec(5)), so a child whose stdout was redirected elsewhere does not prefix.
 */
export function stdoutIsJournal(env: NodeJS.ProcessEnv, stdoutId: { dev: bigint; ino: bigint } | undefined): boolean {
  const js = env.JOURNAL_STREAM;
  if (!js || !stdoutId) return false;
  const m = /^(\d+):(\d+)$/.exec(js);
  if (!m) return false;
  return BigInt(m[1]!) === stdoutId.dev && BigInt(m[2]!) === stdoutId.ino;
}
