import { redactUrlCredentials } from '../log/redact';

export interface ConfigIssue {
  /** JSON pointer into the file, e.g. "/instances/VI_1/priority"; "" for the whole file. */
  path: string;
  message: string;
  value?: unknown;
  /** What would be valid. */
  hint?: string;
  /** Where in the file (1-based), when known. */
  line?: number;
  column?: number;
}

/** A value as it appears in a message: JSON, cut short. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  // A broker or check URL may carry user:password@; an error message must not repeat it.
  text = redactUrlCredentials(text);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * One line per issue, compiler style so editors can jump to it:
 * `twinvip.json:12:19: /instances/VI_1/priority: must be <= 255 (got 300); valid: 1..254, or 255 for an address owner`
 */
export function formatIssues(issues: ConfigIssue[], source: string): string {
  return issues
    .map((i) => {
      const where = i.line !== undefined ? `${source}:${i.line}:${i.column ?? 1}` : source;
      return `${where}: ${i.path || '/'}: ${i.message}${i.hint ? `; valid: ${i.hint}` : ''}`;
    })
    .join('\n');
}
