import type { LogRecord } from './record';

export type LogFormat = 'text' | 'json';

/**
 * `2026-11-25T14:36:48.123Z info  VI_1: BACKUP -> MASTER (master down, 1204 ms)`.
 * The level is padded to 5 so messages line up; the instance, when present, prefixes the message
 * (the journal already shows the unit, so the subsystem is only shown without an instance).
 * Fields follow as key=value, values JSON-encoded when they are not plain words.
 */
export function formatText(r: LogRecord): string {
  return `${new Date(r.ts).toISOString()} ${formatTextBody(r)}`;
}

/** The text line without its timestamp (the syslog output's message: syslog stamps it itself). */
export function formatTextBody(r: LogRecord): string {
  const who = r.instance !== undefined ? `${r.instance}: ` : `${r.subsystem}: `;
  let line = `${r.level.padEnd(5)} ${who}${oneLine(r.msg)}`;
  if (r.fields) {
    for (const [k, v] of Object.entries(r.fields)) {
      if (v === undefined) continue;
      line += ` ${k}=${textValue(v)}`;
    }
  }
  return line;
}

/** One JSON object per line: ts, level, subsystem, instance?, msg, then the fields. */
export function formatJson(r: LogRecord): string {
  const obj: Record<string, unknown> = { ts: new Date(r.ts).toISOString(), level: r.level, subsystem: r.subsystem };
  if (r.instance !== undefined) obj.instance = r.instance;
  obj.msg = r.msg;
  if (r.fields) {
    for (const [k, v] of Object.entries(r.fields)) {
      // The envelope keys win: a field may never forge the level or the time of a line.
      if (!(k in obj)) obj[k] = v;
    }
  }
  return safeStringify(obj);
}

export function formatRecord(r: LogRecord, format: LogFormat): string {
  return format === 'json' ? formatJson(r) : formatText(r);
}

// A log line is one line: an embedded newline would let a value forge a second event.
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

function textValue(v: unknown): string {
  if (typeof v === 'string' && /^[\w.:/@+-]+$/.test(v)) return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return safeStringify(v);
}

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, val: unknown) => {
      if (typeof val === 'bigint') return val.toString();
      if (val instanceof Error) return { name: val.name, message: val.message };
      return val;
    }) ?? 'null';
  } catch {
    return '"[unserialisable]"';
  }
}
