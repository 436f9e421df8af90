// Every reason a received byte sequence is not accepted as a frame, as one closed union; each
// is a counter shown by `status`, the console and MQTT.

import type { FramingReject } from './framing';
import type { FrameKind, MessageReject } from './frame';

export type RejectReason =
  | FramingReject
  | MessageReject
  /** valid MAC, but recorded: seq not above the last accepted, an echo of another life of ours
   *  while we hear the peer, or a life of the peer older than the one we hear (replay.ts) */
  | 'replayed'
  /** our own node id or boot id: the line loops our transmission back, or the peer has our node id */
  | 'own-frame'
  /** made too long ago: the seq it echoes is older than the window, or a heartbeat held back in a
   *  buffer longer than the dead time: no proof of life now */
  | 'stale'
  /** valid MAC, but it echoes no life of ours we can check: the peer has not heard us yet
   *  (either box just started, or our frames do not reach it) */
  | 'unsynced'
  /** a pairing frame (pairing.ts, its own first byte): this box is paired and refuses them */
  | 'pairing';

export const REJECT_REASONS: readonly RejectReason[] = [
  'noise', 'too-long', 'truncated', 'bad-crc',
  'bad-version', 'bad-hmac', 'unknown-kind', 'malformed',
  'replayed', 'own-frame', 'stale', 'unsynced', 'pairing',
];

export interface HeartbeatCounters {
  rejected: Record<RejectReason, number>;
  accepted: Record<FrameKind, number>;
  sent: Record<FrameKind, number>;
  /** The peer's bootId changed (the peer rebooted). */
  peerReboots: number;
  bytesIn: number;
  bytesOut: number;
}

export function newCounters(): HeartbeatCounters {
  const kinds = { heartbeat: 0, release: 0, request: 0, response: 0 };
  return {
    rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>,
    accepted: { ...kinds },
    sent: { ...kinds },
    peerReboots: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}
