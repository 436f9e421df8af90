// Adapters from each part's own status to what the console and the MQTT state show, so those
// features never reach into the parts themselves.

import { performance } from 'node:perf_hooks';
import type { ChannelView, ConsoleView, HeartbeatView, InstanceView, MqttView, NginxView, Unavailable } from '../console';
import type { HeartbeatExtension } from './heartbeat/extension';
import type { NginxExtension } from '../nginx';
import type { MqttExtension } from '../mqtt';
import type { VrrpExtension } from './vrrp/extension';

export interface Parts {
  vrrp: VrrpExtension;
  heartbeat: HeartbeatExtension;
  nginx: NginxExtension;
  mqtt?: MqttExtension | undefined;
  /** Instances in the running config (none configured reads differently from VRRP not running). */
  configuredInstances: () => number;
}

/**
 * Every instance with what `status` promises (state, priority, VRID, since when and why), read
 * from the runner's snapshots; the daemon's own status() carries only name, state and priority.
 */
export function instancesView(vrrp: VrrpExtension, configured: number): InstanceView[] | Unavailable {
  const runner = vrrp.vrrp;
  if (!runner) return configured === 0 ? [] : { unavailable: 'not running' };
  // The runner's clock is performance.now() (monotonic); transition times are on it.
  const t = performance.now();
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
    };
    if (last) {
      i.cause = last.detail ? `${last.cause}, ${last.detail}` : last.cause;
      i.sinceMs = Math.max(0, t - last.at);
    }
    if (s.master) i.master = `${s.master.address} (priority ${s.master.priority})`;
    return i;
  });
}

export function heartbeatView(hb: HeartbeatExtension): HeartbeatView | undefined {
  const s = hb.status();
  if (!s.enabled) return undefined;
  const ages = s.ethernet.map((e) => e.last_advert_ms_ago).filter((a): a is number => a !== null);
  const ethernet: ChannelView = {
    state: s.ethernet.length === 0 ? 'unknown' : s.ethernet.every((e) => e.ok) ? 'ok' : 'lost',
    ...(ages.length ? { lastHeardMs: Math.min(...ages) } : {}),
    detail: s.ethernet.map((e) => `${e.instance} ${e.ok ? 'ok' : 'lost'}${e.split_brain ? ' SPLIT-BRAIN' : ''}`).join(', '),
  };
  const serial: ChannelView = {
    state: s.serial.ok ? 'ok' : 'lost',
    ...(s.serial.last_heard_ms_ago !== null ? { lastHeardMs: s.serial.last_heard_ms_ago } : {}),
    detail: `${s.serial.device}, ${s.serial.port_open ? 'open' : 'closed'}`,
  };
  return {
    ethernet,
    serial,
    ...(s.peer ? { peer: s.peer.node_id } : {}),
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
  };
}

export function mqttView(mqtt: MqttExtension | undefined): MqttView | undefined {
  if (!mqtt) return undefined;
  return { connected: mqtt.connected, outbox: mqtt.pendingEvents().length };
}

export function consoleView(p: Parts): ConsoleView {
  // A part switched off in the config is not an error: the console shows the reason as it is
  // (a throwing getter would read "error: ...", which sends a technician looking for a fault).
  return {
    instances: () => instancesView(p.vrrp, p.configuredInstances()),
    heartbeat: () => heartbeatView(p.heartbeat) ?? { unavailable: 'serial heartbeat not configured' },
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
}
