// Defaults of the nginx section the code applies (settings.ts, rules.ts). Kept apart from the
// TypeBox schema (schema.ts) so the daemon's start-up path does not load TypeBox.

/** Where Nginx's own status endpoint listens unless `nginx.status` says otherwise (loopback only). */
export const DEFAULT_STATUS = { address: '127.0.0.1', port: 8089 };
