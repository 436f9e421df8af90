import type { ConsoleView, HeartbeatView, InstanceView, MqttView, NginxView, Unavailable } from './ports';

export type { Unavailable };

export type Part<T> = T | Unavailable;

export function isUnavailable<T>(p: Part<T>): p is Unavailable {
  return typeof p === 'object' && p !== null && 'unavailable' in p;
}

/**
 * Everything `status` shows, as plain JSON: this node renders it, and the twin fetches it over the
 * serial link (`peer`) and renders it with the same code, so both views read alike.
 */
export interface ConsoleSnapshot {
  node: string;
  version: string;
  uptimeS: number;
  configHash: string;
  maintenance: boolean;
  /** Why the daemon is degraded (a feature broke while running); empty when healthy. */
  degraded?: string[];
  instances: Part<InstanceView[]>;
  heartbeat: Part<HeartbeatView>;
  nginx: Part<NginxView>;
  mqtt: Part<MqttView>;
}

export interface DaemonFacts {
  node: string;
  version: string;
  uptimeS: number;
  configHash: string;
  /** The daemon's own instance list (status()), used when no richer VRRP view is wired. */
  instances: { name: string; state: string; priority?: number }[];
  /** Instances in the running config: none configured reads differently from VRRP not running. */
  configuredInstances: number;
  /** status().health.reasons while degraded. */
  degraded?: string[];
}

export function takeSnapshot(facts: DaemonFacts, view: ConsoleView): ConsoleSnapshot {
  const instances: Part<InstanceView[]> = view.instances
    ? read(() => view.instances!())
    : facts.instances.length > 0
      ? facts.instances.map((i) => ({ name: i.name, state: i.state, ...(i.priority === undefined ? {} : { priority: i.priority }) }))
      : facts.configuredInstances === 0
        ? []
        : { unavailable: 'not running' };
  const maintenance = view.maintenance ? read(() => view.maintenance!()) : false;
  return {
    node: facts.node,
    version: facts.version,
    uptimeS: facts.uptimeS,
    configHash: facts.configHash,
    maintenance: maintenance === true,
    degraded: facts.degraded ?? [],
    instances,
    heartbeat: view.heartbeat ? read(() => view.heartbeat!()) : { unavailable: 'not running' },
    nginx: view.nginx ? read(() => view.nginx!()) : { unavailable: 'not running' },
    mqtt: view.mqtt ? read(() => view.mqtt!()) : { unavailable: 'not running' },
  };
}

function read<T>(get: () => T): Part<T> {
  try {
    return get();
  } catch (err) {
    // A broken provider must not take the console down with it.
    return { unavailable: `error: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The prompt's state summary: "MASTER", "VI_1:MASTER VI_2:BACKUP", "2 MASTER 1 BACKUP". */
export function stateSummary(s: ConsoleSnapshot): string {
  const parts: string[] = [];
  if (isUnavailable(s.instances)) parts.push('vrrp down');
  else if (s.instances.length === 0) parts.push('no instances');
  else {
    const states = s.instances.map((i) => i.state);
    const distinct = [...new Set(states)];
    if (distinct.length === 1) parts.push(distinct[0]!);
    else {
      const each = s.instances.map((i) => `${i.name}:${i.state}`).join(' ');
      parts.push(each.length <= 32 ? each : distinct.map((d) => `${states.filter((x) => x === d).length} ${d}`).join(' '));
    }
  }
  if (s.maintenance) parts.push('maint');
  if (s.degraded?.length) parts.push('DEGRADED');
  return parts.join(' ');
}
