import type { ConfigIssue } from '../config';
import type { LogRecord } from '../log';

import type { VrrpState } from '../vrrp/types';
import type { NotifyState } from '../vrrp/events';

/**
 * Every event the daemon core announces, by name. Features (MQTT, console, Nginx control)
 * subscribe here instead of the core calling them (Zigbee2MQTT's extension pattern). Add new
 * events here; the payload type follows the name everywhere.
 */
export interface DaemonEvents {
  /** The daemon is up: config loaded, control socket listening. */
  started: { node: string; pid: number; configHash: string; at: number };
  /** Shutdown begins; extensions are stopped after this. */
  stopping: { cause: string; at: number };
  /** A VRRP instance changed state; `cause` reads like "master down, 1204 ms". */
  transition: { instance: string; from: VrrpState; to: VrrpState; cause: string; at: number };
  /**
   * The instance's notify scripts are due (keepalived notify_*): the state the VRRP core decided
   * (STOP when it stops), its effective priority and the transition's cause. Follows `transition`.
   */
  notify: { instance: string; state: NotifyState; priority: number; cause: string; at: number };
  /** An alarm was raised (`active: true`) or cleared, e.g. `serial-heartbeat-lost`. */
  alarm: {
    id: string;
    active: boolean;
    severity: 'warning' | 'critical';
    message: string;
    instance?: string;
    /** What the alarm measured: a dual-master overlap, how long a channel was lost. */
    durationMs?: number;
    /** The split-brain diagnosis's cause id when one is known (src/diagnose/), e.g. `firewall-drops-vrrp`. */
    cause?: string;
    at: number;
  };
  /** Every emitted log line (for the console's live view and MQTT diagnostics). */
  log: LogRecord;
  /** A new configuration replaced the running one. */
  'config-reloaded': { path: string; oldHash: string; newHash: string; at: number };
  /** A new configuration was refused; the running one (`keptHash`) stays. */
  'config-refused': { path: string; errors: ConfigIssue[]; keptHash: string; at: number };
  /**
   * Security audit of fleet requests: a state-changing request accepted (who, what), a request
   * refused (why), or a summary of refusals not reported one by one (a flood).
   */
  audit: {
    kind: 'request-accepted' | 'request-refused' | 'refusals-summary';
    command?: string;
    reason?: string;
    /** Name of the trusted key in the local config. */
    key?: string;
    role?: string;
    fingerprint?: string;
    nonce?: string;
    message: string;
    counts?: Record<string, number>;
    at: number;
  };
}

export type EventName = keyof DaemonEvents;
export type Listener<K extends EventName> = (payload: DaemonEvents[K]) => void;

/**
 * A synchronous, typed event bus. Listeners run in subscription order; one that throws is
 * reported through `onListenerError` and never stops the others or the emitter — a broken
 * feature must not take the VRRP path down with it. Listeners must not block: anything slow
 * (network, disk) is queued by the feature itself.
 */
export class EventBus {
  private readonly listeners = new Map<EventName, Set<Listener<never>>>();

  constructor(private readonly onListenerError: (event: EventName, err: unknown) => void = () => {}) {}

  on<K extends EventName>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  once<K extends EventName>(event: K, listener: Listener<K>): () => void {
    const off = this.on(event, (p) => {
      off();
      listener(p);
    });
    return off;
  }

  off<K extends EventName>(event: K, listener: Listener<K>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  emit<K extends EventName>(event: K, payload: DaemonEvents[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as Listener<K>)(payload);
      } catch (err) {
        // Reporting must not recurse when the failing listener is a 'log' listener.
        if (event !== 'log') this.onListenerError(event, err);
      }
    }
  }

  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}
