// The transmit side, I/O-free: stamps nodeId, bootId, seq and the echo of what we hear from the
// peer (replay.ts), authenticates and frames a message.

import { newCounters, type HeartbeatCounters } from './counters';
import { encodePeerFrame, type FrameMac, type PeerMessage } from './frame';
import { encodeFrame } from './framing';
import type { ReplayGuard } from './replay';

export interface FrameSenderOptions {
  mac: FrameMac;
  nodeId: string;
  /** Shared with the FrameReceiver: it keeps our boot id, seq, its send times and whom we hear. */
  guard: ReplayGuard;
  counters?: HeartbeatCounters;
}

export class FrameSender {
  readonly counters: HeartbeatCounters;

  constructor(private readonly opts: FrameSenderOptions) {
    this.counters = opts.counters ?? newCounters();
  }

  get bootId(): string {
    return this.opts.guard.bootId;
  }

  /** The wire bytes for one message (delimiters, COBS, CRC, MAC included); `now` is our monotonic ms. */
  encode(msg: PeerMessage, now: number): Buffer {
    const header = this.opts.guard.next(now);
    const wire = encodeFrame(encodePeerFrame({ ...msg, nodeId: this.opts.nodeId, ...header }, this.opts.mac));
    this.counters.sent[msg.kind]++;
    this.counters.bytesOut += wire.length;
    return wire;
  }
}
