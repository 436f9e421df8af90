// Messages between the daemon (main thread) and the HA path (its own thread: src/ha/worker/).
// Out of the HA path: log records, bus events (transitions, alarms), a mirror of its state, and
// replies; into it: the configuration, reloads, the Nginx health, operator actions and control
// commands. Nothing the main thread does or fails to do is on the timing path of an advert or a
// serial frame: the HA side never waits for a message from main to send either.
//
// Transport: the 'start' message goes over the worker's MessagePort; every later message over a
// Unix socket pair (socket-port.ts), and the periodic state mirror through shared memory
// (mirror.ts). Neither takes a lock the other thread holds: the MessagePort's mutexes and the
// malloc arena of a message's sender did (priority inversion of the real-time HA thread).

import type { TwinvipConfig } from '../../config';
import type { DaemonEvents } from '../../daemon/events';
import type { Fault } from '../../daemon/daemon';
import type { FeatureStatus, InstanceStatus } from '../../daemon/status';
import type { LogRecord } from '../../log';
import type { InstanceEvent } from '../../vrrp/events';
import type { HeartbeatOff, HeartbeatStatus } from '../heartbeat/status';
import type { InstanceView } from '../vrrp/runner';

export interface HaInit {
  configPath: string;
  config: TwinvipConfig;
  configHash: string;
  /** The daemon's start (epoch ms) and pid, for the serial `status` answer. */
  startedAt: number;
  pid: number;
  controlSocket: string;
  /** Where the HA side publishes its state for the main thread (mirror.ts); absent: messages only. */
  mirror?: SharedArrayBuffer;
  /** The HA thread's end of the socket pair every later message goes over (socket-port.ts); absent: the MessagePort. */
  channelFd?: number;
}

/** What the main thread shows of the HA path between two messages (console, status, MQTT). */
export interface HaState {
  views: InstanceView[];
  instances: InstanceStatus[];
  counters: Record<string, Record<string, number>>;
  heartbeat: HeartbeatStatus | HeartbeatOff;
  /** The features it runs (vrrp, heartbeat) as `status` shows them. */
  features: Record<string, FeatureStatus | undefined>;
  /** Control commands the HA side registered, forwarded by the main thread. */
  commands: { name: string; summary: string }[];
  /** performance.timeOrigin of the HA thread: its monotonic clock is the runner's. */
  timeOrigin: number;
}

export type HaCall =
  | { op: 'command'; name: string; args: Record<string, unknown> }
  | { op: 'deliver'; instance: string; event: InstanceEvent }
  | { op: 'request-peer'; what: string; timeoutMs: number }
  | { op: 'state' }
  | { op: 'stop' };

export type ToHa =
  | { type: 'start'; init: HaInit }
  | { type: 'reload'; config: TwinvipConfig; configHash: string }
  | { type: 'nginx-health'; up: boolean }
  /** Serial requests of the twin the main thread answers (the console's peer view). */
  | { type: 'answerers'; names: string[] }
  | { type: 'answered'; id: number; body: string | undefined }
  | ({ type: 'call'; id: number } & HaCall);

/** The bus events the HA side emits, forwarded onto the daemon's bus as they are. */
export type HaEventName = 'transition' | 'alarm' | 'notify';
export type HaEvent = { [K in HaEventName]: { type: 'event'; name: K; payload: DaemonEvents[K] } }[HaEventName];

/** A feature of the HA side that could not start, as plain data (src/lib/feature-failure.ts). */
export interface HaStartFailure {
  feature: string;
  message: string;
  call?: string;
  errno?: string;
}

export type FromHa =
  | { type: 'started'; ok: true; state: HaState }
  | { type: 'started'; ok: false; failure: HaStartFailure }
  /** A feature broke while running, or is over it (the daemon's `degraded`). */
  | { type: 'fault'; fault: Omit<Fault, 'since'> }
  | { type: 'fault-cleared'; id: string; message: string }
  | { type: 'log'; record: LogRecord }
  | HaEvent
  | { type: 'state'; state: HaState }
  | { type: 'reply'; id: number; ok: true; value: unknown; state: HaState }
  /** `command`: the handler refused the request (a CommandError), not a failure of the HA side. */
  | { type: 'reply'; id: number; ok: false; error: string; command: boolean }
  /** The twin asked `what` over serial and the main thread answers it. */
  | { type: 'answer'; id: number; what: string };

/** Either end of the channel: a worker's parentPort, a Worker, or a MessageChannel port. */
export interface HaPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: never) => void): unknown;
}
