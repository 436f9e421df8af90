// The console reads other parts only through these small ports, which the daemon wires. Every
// provider is optional: an absent one shows as "not running", so the console works (and can be
// tested) before, and without, the part it describes.

/** A part the console cannot show, and why: "disabled in the config", "not running", "error: ...". */
export interface Unavailable {
  unavailable: string;
}

/** One VRRP instance as the console shows it. */
export interface InstanceView {
  name: string;
  state: string;
  /** Effective priority (base +/- tracking weights). */
  priority?: number;
  basePriority?: number;
  vrid?: number;
  interface?: string;
  /** Why it is in this state, e.g. "master down, 1204 ms" or "link eth0 down". */
  cause?: string;
  /** Milliseconds since the last transition. */
  sinceMs?: number;
  vips?: string[];
  /** The current master's address as seen in adverts, when known. */
  master?: string;
  /** What holds it out of the election: maintenance, heartbeat-release, fault, sync-group-fault. */
  demotions?: string[];
  /** Anything else worth one line each in `vrrp NAME` (label, value). */
  extra?: [string, string][];
}

export type ChannelState = 'ok' | 'lost' | 'disabled' | 'unknown';

export interface ChannelView {
  state: ChannelState;
  /** Milliseconds since this channel last heard the peer; undefined = never. */
  lastHeardMs?: number;
  /** e.g. "/dev/ttyS1 115200, open" or "VI_1 adverts from 10.0.0.2". */
  detail?: string;
}

export interface HeartbeatView {
  ethernet: ChannelView;
  serial: ChannelView;
  /** The peer's node name, when a channel told it. */
  peer?: string;
  /** What the arbiter decided last, e.g. "plain VRRP" or "stay BACKUP: peer MASTER over serial". */
  decision?: string;
  /** Active alarm ids, e.g. ["serial-heartbeat-lost"]. */
  alarms?: string[];
  extra?: [string, string][];
}

export interface NginxView {
  /** e.g. "running", "stopped", "restarting (back-off 4 s)". */
  state: string;
  pid?: number;
  /** Hash of the config Nginx runs now. */
  configHash?: string;
  lastReload?: { ok: boolean; agoMs: number; error?: string };
  upstreams?: { group: string; server: string; up: boolean; detail?: string }[];
  extra?: [string, string][];
}

export interface MqttView {
  connected: boolean;
  broker?: string;
  /** Events waiting in the on-disk outbox. */
  outbox?: number;
  lastError?: string;
  /** Milliseconds since the last successful publish. */
  lastPublishMs?: number;
  extra?: [string, string][];
}

/**
 * What the console shows about the other parts. The lead wires each getter to its part; a missing
 * getter (or one that throws) shows that part as "not running".
 */
export interface ConsoleView {
  // Each may answer `{ unavailable: why }` for a part that is off on purpose ("disabled in the
  // config"); a getter that throws shows as "error: ...", which is for a part that broke.
  instances?(): InstanceView[] | Unavailable;
  heartbeat?(): HeartbeatView | Unavailable;
  nginx?(): NginxView | Unavailable;
  mqtt?(): MqttView | Unavailable;
  /** Whether this node is in maintenance (demoted on purpose); shown in the prompt. */
  maintenance?(): boolean;
}

/** An answer from the twin over the serial link; failures are values ('timeout', 'port-closed'...). */
export type PeerReply = { ok: true; body: string } | { ok: false; error: string };

/**
 * The serial heartbeat's request/response channel, so `peer` works with the Ethernet path cut.
 * SerialLink.request(what, timeoutMs) of src/ha/heartbeat fits as is.
 */
export interface PeerLink {
  request(what: string, timeoutMs: number): Promise<PeerReply>;
  describe?(): { device?: string; open: boolean; peerAlive?: boolean };
}

/** What the twin's console answers to this request: its status snapshot as JSON. */
export const PEER_STATUS_REQUEST = 'console-status';

export type ActionResult = { ok: true; message: string } | { ok: false; error: string };

/**
 * The guarded actions. The console confirms with the person and refuses overlapping actions
 * itself; `inProgress` lets the daemon report an action started elsewhere (e.g. an MQTT command),
 * so the console refuses to start another one meanwhile.
 */
export interface ActionsPort {
  maintenance?(on: boolean, cause: string): Promise<ActionResult>;
  /** Hand MASTER over to the twin (all instances, or one). */
  failover?(instance: string | undefined, cause: string): Promise<ActionResult>;
  reload?(cause: string): Promise<ActionResult>;
  /** First-boot pairing over the serial cable (`twinvip pair`): status, start, confirm CODE, cancel. */
  pair?(action: 'status' | 'start' | 'confirm' | 'cancel', code: string | undefined, cause: string): Promise<ActionResult>;
  inProgress?(): string | undefined;
}
