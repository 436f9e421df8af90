// Credentials written into URLs (mqtt://user:secret@broker, http://user:secret@host/health) must
// not reach the journal, the console's `log` or MQTT: every log line passes through here.

// scheme://user:password@ — the password runs to the last '@' before the host part, so an
// unescaped '@' inside it is still hidden.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#]*)@/gi;

/** The text with the password part of every URL's user info replaced by "***". */
export function redactUrlCredentials(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_PASSWORD, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}

/** The same, deep through a log line's fields (strings in objects and arrays), copying only what changes. */
export function redactFields<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return redactUrlCredentials(value) as T;
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const r = redactFields(v, depth + 1);
      if (r !== v) (out ??= [...value])[i] = r;
    });
    return (out ?? value) as T;
  }
  if (value instanceof Error) {
    const msg = redactUrlCredentials(value.message);
    return (msg === value.message ? value : { name: value.name, message: msg }) as T;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const r = redactFields(v, depth + 1);
    if (r !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return (out ?? value) as T;
}
