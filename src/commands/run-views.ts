// Adapters from each part's own status to what the console and the MQTT state show, so those
// features never reach into the parts themselves.

import { performance } from 'node:perf_hooks';
import type { ChannelView, ConsoleView, HeartbeatView, InstanceView, MqttView, NginxView, Unavailable } from '../console';
import type { HaRunnerPort, HeartbeatPort } from '../ha/worker/host';
import type { NginxExtension } from '../nginx';
import type { MqttExtension } from '../mqtt';

export interface Parts {
  /** The HA path (in its own thread): `vrrp` is its runner port while it runs. */
  vrrp: { readonly vrrp: HaRunnerPort | undefined };
  heartbeat: HeartbeatPort;
  nginx: NginxExtension;
  mqtt?: MqttExtension | undefined;
  /** Instances in the running config (none configured reads differently from VRRP not running). */
  configuredInstances: () => number;
}

/**
 * Every instance with what `status` promises (state, priority, VRID, since when and why), read
 * from the runner's snapshots; the daemon's own status() carries only name, state and priority.
 */
export function instancesView(vrrp: Parts['vrrp'], configured: number): InstanceView[] | Unavailable {
  const runner = vrrp.vrrp;
  if (!runner) return configured === 0 ? [] : { unavailable: 'not running' };
  // The runner's clock is its thread's performance.now() (monotonic); transition times are on it.
  const t = runner.now();
  return runner.views().map(({ plan, snapshot: s }): InstanceView => {
    const last = s.lastTransition;
    const i: InstanceView = {
      name: s.name,
      state: s.state,
      priority: s.effectivePriority,
      basePriority: s.configuredPriority,
      vrid: s.vrid,
      interface: plan.interface,
      vips: plan.vips.map((v) => `${v.address}/${v.prefix}`),
      demotions: s.demotions,
    };
    if (last) {
      i.cause = last.detail ? `${last.cause}, ${last.detail}` : last.cause;
      i.sinceMs = Math.max(0, t - last.at);
    }
    if (s.master) i.master = `${s.master.address} (priority ${s.master.priority})`;
    return i;
  });
}

export function heartbeatView(hb: HeartbeatPort): HeartbeatView | undefined {
  const s = hb.status();
  if (!s.enabled) return undefined;
  // A MASTER never hears adverts from its BACKUP twin (only the master sends them), so its own
  // Ethernet channel is always silent: on its own it would read "lost, never" on a healthy pair.
  // The twin's serial heartbeat says whether it hears our adverts; that is the Ethernet path's
  // state seen from this side (RFC 3768 §6.4: a backup only listens).
  const twin = s.serial.ok && s.peer ? s.peer.instances : [];
  const rows = s.ethernet.map((e) => {
    // Only while the twin is not MASTER itself: then it is the one advertising, and whether it
    // hears us (a BACKUP, silent by design) says nothing about the path.
    const row = twin.find((r) => r.vrid === e.vrid && r.family === e.family);
    const viaTwin = row && row.state !== 'MASTER' ? row.hears_our_adverts : undefined;
    const ok = e.ok || viaTwin === true;
    const why = e.ok ? '' : viaTwin === true ? ' (twin hears our adverts)' : viaTwin === false ? ' (twin hears no adverts from us)' : '';
    return { ok, text: `${e.instance} ${ok ? 'ok' : 'lost'}${why}${e.split_brain ? ' SPLIT-BRAIN' : ''}` };
  });
  const ages = s.ethernet.map((e) => e.last_advert_ms_ago).filter((a): a is number => a !== null);
  // Heard by the twin only: the fact is as old as the serial frame that reported it.
  const twinAge = s.peer?.heard_ms_ago ?? null;
  const lastHeard = ages.length ? Math.min(...ages) : rows.some((r) => r.ok) && twinAge !== null ? twinAge : undefined;
  const ethernet: ChannelView = {
    state: rows.length === 0 ? 'unknown' : rows.every((r) => r.ok) ? 'ok' : 'lost',
    ...(lastHeard !== undefined ? { lastHeardMs: lastHeard } : {}),
    detail: rows.map((r) => r.text).join(', '),
  };
  const serial: ChannelView = {
    state: s.serial.ok ? 'ok' : 'lost',
    ...(s.serial.last_heard_ms_ago !== null ? { lastHeardMs: s.serial.last_heard_ms_ago } : {}),
    detail: `${s.serial.device}, ${s.serial.port_open ? 'open' : 'closed'}`,
  };
  return {
    ethernet,
    serial,
    // The heartbeat carries the twin's node id, not its name: say what the number is.
    ...(s.peer ? { peer: `node ${s.peer.node_id}` } : {}),
    ...(s.ethernet.length > 0 ? { decision: s.ethernet.map((e) => (s.ethernet.length > 1 ? `${e.instance}: ${e.decision}` : e.decision)).join('; ') } : {}),
    alarms: s.alarms.map((a) => a.id),
    extra: s.peer ? [['peer config', s.peer.config_matches ? 'same as ours' : `differs (${s.peer.config_hash})`]] : [],
  };
}

export function nginxView(nginx: NginxExtension): NginxView | undefined {
  const s = nginx.snapshot();
  if (!s) return undefined;
  const last = s.last_apply;
  return {
    state: s.pid === null ? 'not running' : s.healthy === false ? 'running, not serving' : 'running',
    ...(s.pid !== null ? { pid: s.pid } : {}),
    ...(s.generation ? { configHash: s.generation } : {}),
    ...(last ? { lastReload: { ok: last.ok, agoMs: Date.now() - ('at' in last && typeof last.at === 'number' ? last.at : Date.now()), ...(!last.ok ? { error: last.reason } : {}) } } : {}),
    upstreams: s.upstreams.map((u) => ({ group: u.group, server: u.server, up: u.up, ...(u.last ? { detail: u.last } : {}) })),
    ...(s.certificates.length > 0 ? { extra: s.certificates.map((c): [string, string] => [`certificate ${c.certificate_file}`, certificateLine(c)]) } : {}),
  };
}

function certificateLine(c: ReturnType<NginxExtension['certificates']>[number]): string {
  const days = c.days_left === null ? 'unknown expiry' : c.days_left < 0 ? `EXPIRED ${-c.days_left} days ago` : `${c.days_left} days left`;
  return `${c.state}, ${days}${c.names.length ? ` (${c.names.slice(0, 3).join(', ')})` : ''}${c.error ? `; ${c.error}` : ''}`;
}

export function mqttView(mqtt: MqttExtension | undefined): MqttView | undefined {
  if (!mqtt) return undefined;
  return { connected: mqtt.connected, outbox: mqtt.pendingEvents().length };
}

/** An unpaired box says so wherever the heartbeat would show (console status and heartbeat). */
export function unpairedText(hb: HeartbeatPort): string | undefined {
  const s = hb.status();
  if (s.enabled || !s.unpaired) return undefined;
  const u = s.unpaired;
  const what = u.phase === 'idle' ? 'run `twinvip pair` on one box (or `pair start` here), then type its code on the other'
    : u.phase === 'compare' && u.role === 'initiator' ? `code ${u.code!.slice(0, 3)} ${u.code!.slice(3)}: type it on ${u.peer ?? 'the twin'}`
    : u.phase === 'compare' ? `${u.peer ?? 'the twin'} shows a code: type it here (pair CODE) or twinvip pair --confirm CODE`
    : u.phase === 'failed' ? `last attempt failed: ${u.error ?? '?'}`
    : u.phase;
  return `UNPAIRED: plain VRRP, no serial heartbeat key yet (${u.key_file}); ${what}`;
}

export function consoleView(p: Parts): ConsoleView {
  // A part switched off in the config is not an error: the console shows the reason as it is
  // (a throwing getter would read "error: ...", which sends a technician looking for a fault).
  return {
    instances: () => instancesView(p.vrrp, p.configuredInstances()),
    heartbeat: () => heartbeatView(p.heartbeat) ?? { unavailable: unpairedText(p.heartbeat) ?? 'serial heartbeat not configured' },
    nginx: () => nginxView(p.nginx) ?? { unavailable: 'Nginx control disabled in the config' },
    mqtt: () => mqttView(p.mqtt) ?? { unavailable: 'MQTT disabled in the config' },
    maintenance: () => (p.vrrp.vrrp?.views() ?? []).some((v) => v.snapshot.maintenance),
  };
}

/** MQTT `state` fields for the parts beside VRRP. */
export function registerMqttState(p: Parts): void {
  if (!p.mqtt) return;
  p.mqtt.addStateProvider('heartbeat', () => p.heartbeat.status());
  p.mqtt.addStateProvider('nginx', () => p.nginx.snapshot() ?? { enabled: false });
  // Days to expiry of every certificate, in each telemetry message, so the fleet sees them all.
  p.mqtt.addTelemetryProvider('certificates', async () =>
    p.nginx.certificates().map((c) => ({ file: c.certificate_file, state: c.state, days_left: c.days_left, not_after: c.not_after, names: c.names })),
  );
}
