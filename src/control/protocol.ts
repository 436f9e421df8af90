/**
 * The control socket's wire protocol: newline-delimited JSON, one request per line, one response
 * per request, correlated by `id` (Zigbee2MQTT's single response envelope). Requests on one
 * connection may be answered out of order when handlers are slow; clients match on `id`.
 */

/** Longest request line accepted; anything longer is answered with an error and the connection closed. */
export const MAX_LINE_BYTES = 64 * 1024;

export type RequestId = string | number;

export interface ControlRequest {
  id: RequestId;
  cmd: string;
  args?: Record<string, unknown>;
}

export type ControlResponse =
  | { id: RequestId | null; status: 'ok'; data?: unknown }
  | { id: RequestId | null; status: 'error'; error: string };

export type ParsedRequest =
  | { ok: true; request: ControlRequest }
  | { ok: false; id: RequestId | null; error: string };

function isId(v: unknown): v is RequestId {
  return (typeof v === 'string' && v.length <= 128) || (typeof v === 'number' && Number.isFinite(v));
}

/** Parses one request line; a malformed request is a value, never an exception. */
export function parseRequest(line: string): ParsedRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    return { ok: false, id: null, error: `malformed JSON: ${(err as Error).message}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, id: null, error: 'a request must be a JSON object {id, cmd, args?}' };
  }
  const r = raw as Record<string, unknown>;
  const id = isId(r.id) ? r.id : null;
  if (id === null) return { ok: false, id: null, error: "'id' must be a string (at most 128 chars) or a finite number" };
  if (typeof r.cmd !== 'string' || r.cmd === '') return { ok: false, id, error: "'cmd' must be a non-empty string" };
  if (r.args !== undefined && (typeof r.args !== 'object' || r.args === null || Array.isArray(r.args))) {
    return { ok: false, id, error: "'args' must be an object when given" };
  }
  const request: ControlRequest = { id, cmd: r.cmd };
  if (r.args !== undefined) request.args = r.args as Record<string, unknown>;
  return { ok: true, request };
}

export function encodeMessage(msg: ControlRequest | ControlResponse): string {
  return `${JSON.stringify(msg)}\n`;
}

export type ParsedResponse = { ok: true; response: ControlResponse } | { ok: false; error: string };

export function parseResponse(line: string): ParsedResponse {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    return { ok: false, error: `malformed JSON from daemon: ${(err as Error).message}` };
  }
  if (typeof raw !== 'object' || raw === null) return { ok: false, error: 'response is not an object' };
  const r = raw as Record<string, unknown>;
  const id = isId(r.id) ? r.id : null;
  if (r.status === 'ok') return { ok: true, response: { id, status: 'ok', data: r.data } };
  if (r.status === 'error') return { ok: true, response: { id, status: 'error', error: typeof r.error === 'string' ? r.error : 'unknown error' } };
  return { ok: false, error: "response has no status 'ok' or 'error'" };
}
