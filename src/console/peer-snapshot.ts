// The twin's status snapshot arrives as JSON over the serial link. It is authenticated, but the
// twin may run another version: everything is checked and re-built field by field, so a
// surprising answer renders as "?" instead of breaking the console.
import type { ChannelView, HeartbeatView, InstanceView, MqttView, NginxView } from './ports';
import type { ConsoleSnapshot, Part } from './snapshot';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function parsePeerSnapshot(body: string): ConsoleSnapshot | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isObj(raw) || typeof raw.node !== 'string') return undefined;
  return {
    node: raw.node,
    version: str(raw.version) ?? '?',
    uptimeS: num(raw.uptimeS) ?? 0,
    configHash: str(raw.configHash) ?? '?',
    maintenance: raw.maintenance === true,
    // The twin's `degraded` reasons (absent from a twin that predates them).
    degraded: Array.isArray(raw.degraded) ? raw.degraded.filter((r): r is string => typeof r === 'string') : [],
    instances: part(raw.instances, (v) => (Array.isArray(v) ? v.filter(isObj).map(instance) : undefined)),
    heartbeat: part(raw.heartbeat, heartbeat),
    nginx: part(raw.nginx, (v) => (isObj(v) ? nginx(v) : undefined)),
    mqtt: part(raw.mqtt, (v) => (isObj(v) ? mqtt(v) : undefined)),
  };
}

function part<T>(v: unknown, build: (v: unknown) => T | undefined): Part<T> {
  if (isObj(v) && typeof v.unavailable === 'string') return { unavailable: v.unavailable };
  return build(v) ?? { unavailable: 'unreadable in the answer' };
}

function instance(o: Obj): InstanceView {
  const i: InstanceView = { name: str(o.name) ?? '?', state: str(o.state) ?? '?' };
  const prio = num(o.priority);
  if (prio !== undefined) i.priority = prio;
  const base = num(o.basePriority);
  if (base !== undefined) i.basePriority = base;
  const vrid = num(o.vrid);
  if (vrid !== undefined) i.vrid = vrid;
  const since = num(o.sinceMs);
  if (since !== undefined) i.sinceMs = since;
  const cause = str(o.cause);
  if (cause !== undefined) i.cause = cause;
  if (Array.isArray(o.demotions)) i.demotions = o.demotions.filter((d): d is string => typeof d === 'string');
  return i;
}

function channel(v: unknown): ChannelView {
  if (!isObj(v)) return { state: 'unknown' };
  const state = v.state === 'ok' || v.state === 'lost' || v.state === 'disabled' ? v.state : 'unknown';
  const c: ChannelView = { state };
  const heard = num(v.lastHeardMs);
  if (heard !== undefined) c.lastHeardMs = heard;
  const detail = str(v.detail);
  if (detail !== undefined) c.detail = detail;
  return c;
}

function heartbeat(v: unknown): HeartbeatView | undefined {
  if (!isObj(v)) return undefined;
  const h: HeartbeatView = { ethernet: channel(v.ethernet), serial: channel(v.serial) };
  const peer = str(v.peer);
  if (peer !== undefined) h.peer = peer;
  const decision = str(v.decision);
  if (decision !== undefined) h.decision = decision;
  if (Array.isArray(v.alarms)) h.alarms = v.alarms.filter((a): a is string => typeof a === 'string');
  return h;
}

function nginx(o: Obj): NginxView {
  const n: NginxView = { state: str(o.state) ?? '?' };
  const pid = num(o.pid);
  if (pid !== undefined) n.pid = pid;
  const hash = str(o.configHash);
  if (hash !== undefined) n.configHash = hash;
  if (isObj(o.lastReload) && typeof o.lastReload.ok === 'boolean') n.lastReload = { ok: o.lastReload.ok, agoMs: num(o.lastReload.agoMs) ?? Number.NaN };
  if (Array.isArray(o.upstreams)) {
    n.upstreams = o.upstreams.filter(isObj).map((u) => ({ group: str(u.group) ?? '?', server: str(u.server) ?? '?', up: u.up === true }));
  }
  return n;
}

function mqtt(o: Obj): MqttView {
  const m: MqttView = { connected: o.connected === true };
  const broker = str(o.broker);
  if (broker !== undefined) m.broker = broker;
  const outbox = num(o.outbox);
  if (outbox !== undefined) m.outbox = outbox;
  const last = num(o.lastPublishMs);
  if (last !== undefined) m.lastPublishMs = last;
  const err = str(o.lastError);
  if (err !== undefined) m.lastError = err;
  return m;
}
