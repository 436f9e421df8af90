import type { ConfigIssue } from './config-issues';

/** Gathers the errors and warnings of the rules the schema cannot express. */
export class IssueCollector {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];

  error(path: string, message: string, value?: unknown, hint?: string): void {
    this.errors.push(issue(path, message, value, hint));
  }

  warn(path: string, message: string, value?: unknown, hint?: string): void {
    this.warnings.push(issue(path, message, value, hint));
  }
}

function issue(path: string, message: string, value: unknown, hint: string | undefined): ConfigIssue {
  const i: ConfigIssue = { path, message };
  if (value !== undefined) i.value = value;
  if (hint !== undefined) i.hint = hint;
  return i;
}

/** One JSON pointer segment (RFC 6901: "~" and "/" escaped). */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(...segments: (string | number)[]): string {
  return segments.map((s) => `/${escapePointer(String(s))}`).join('');
}

export function familyName(f: 'ipv4' | 'ipv6'): string {
  return f === 'ipv4' ? 'IPv4' : 'IPv6';
}
