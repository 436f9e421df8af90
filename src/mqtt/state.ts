import { configHash, instanceVips, type TwinvipConfig } from '../config';
import type { DaemonEvents, DaemonStatus } from '../daemon';

/** Adds a top-level field to the retained state (heartbeat channels, Nginx...). Must be quick and synchronous. */
export type StateProvider = () => unknown;

type Transition = DaemonEvents['transition'];
type Alarm = DaemonEvents['alarm'];

/**
 * Builds the retained `state` document from the daemon's status, what the bus told us (last
 * transition per instance, active alarms) and the registered providers. Fields other parts own
 * (`heartbeat`, `nginx`) are null until their provider is registered, so consumers see the shape.
 */
export class StateBuilder {
  readonly providers = new Map<string, StateProvider>();
  private readonly lastTransition = new Map<string, Transition>();
  private readonly alarms = new Map<string, Alarm>();

  noteTransition(t: Transition): void {
    this.lastTransition.set(t.instance, t);
  }

  noteAlarm(a: Alarm): void {
    const key = a.instance ? `${a.id}@${a.instance}` : a.id;
    if (a.active) this.alarms.set(key, a);
    else this.alarms.delete(key);
  }

  build(status: DaemonStatus, config: TwinvipConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const instances: Record<string, Record<string, unknown>> = {};
    for (const [name, inst] of Object.entries(config.instances)) {
      instances[name] = {
        state: 'INIT',
        priority: inst.priority,
        vips: instanceVips(inst).map((v) => `${v.address}/${v.prefix}`),
      };
    }
    for (const s of status.instances) {
      const { name, ...rest } = s;
      instances[name] = { ...instances[name], ...rest };
    }
    for (const [name, t] of this.lastTransition) {
      // An instance a reload removed (or renamed) leaves the state with its configuration.
      if (!Object.hasOwn(config.instances, name) && !status.instances.some((s) => s.name === name)) {
        this.lastTransition.delete(name);
        continue;
      }
      const entry = (instances[name] ??= { state: t.to });
      if (!status.instances.some((s) => s.name === name)) entry.state = t.to;
      entry.last_transition = { from: t.from, to: t.to, cause: t.cause, at: new Date(t.at).toISOString() };
    }
    const state: Record<string, unknown> = {
      node: status.node,
      version: status.version,
      pid: status.pid,
      started_at: status.started_at,
      uptime_s: status.uptime_s,
      config_hash: status.config.hash,
      shared_config_hash: sharedConfigHash(config),
      config: status.config,
      // `degraded` with the reasons while a feature is broken (fail loudly); `ok` otherwise.
      health: status.health,
      instances,
      alarms: [...this.alarms.values()].map((a) => ({
        id: a.id, severity: a.severity, message: a.message, ...(a.instance ? { instance: a.instance } : {}), since: new Date(a.at).toISOString(),
      })),
      heartbeat: null,
      nginx: null,
      ...extra,
    };
    for (const [name, provider] of this.providers) {
      try {
        state[name] = provider();
      } catch (err) {
        state[name] = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    return state;
  }
}

/** The state without the fields that change every second, to tell whether a republish is due. */
export function stateFingerprint(state: Record<string, unknown>): string {
  const { uptime_s: _u, ...rest } = state;
  return JSON.stringify(rest);
}

/**
 * A hash of what both twins of a pair must agree on (each instance's VRID, version, advert
 * interval and addresses, the sync groups, the Nginx model), leaving out what differs by design
 * (node name, priorities, interfaces, unicast peers, serial node id, local-only settings): a
 * fleet tool compares it between the twins to see configuration drift.
 */
export function sharedConfigHash(config: TwinvipConfig): string {
  const instances: Record<string, unknown> = {};
  for (const [name, i] of Object.entries(config.instances)) {
    instances[name] = { vrid: i.vrid, version: i.version, advert_int: i.advert_int, vips: i.vips, excluded_vips: i.excluded_vips };
  }
  return configHash({ instances, sync_groups: config.sync_groups, nginx: config.nginx });
}
