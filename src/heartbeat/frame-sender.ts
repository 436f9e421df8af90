// The transmit side, I/O-free: stamps nodeId/bootId/seq, authenticates and frames a message.

import { newCounters, type HeartbeatCounters } from './counters';
import { encodePeerFrame, type FrameMac, type PeerMessage } from './frame';
import { encodeFrame } from './framing';

export interface FrameSenderOptions {
  mac: FrameMac;
  nodeId: string;
  /** A fresh random boot identity (16 hex digits): at start, and when seq would wrap. */
  newBootId: () => string;
  /** The first boot identity; default newBootId(). */
  bootId?: string;
  counters?: HeartbeatCounters;
}

export class FrameSender {
  readonly counters: HeartbeatCounters;
  private bootIdValue: string;
  private seq = 0;

  constructor(private readonly opts: FrameSenderOptions) {
    this.bootIdValue = opts.bootId ?? opts.newBootId();
    this.counters = opts.counters ?? newCounters();
  }

  get bootId(): string {
    return this.bootIdValue;
  }

  /** The wire bytes for one message (delimiters, COBS, CRC, MAC included). */
  encode(msg: PeerMessage): Buffer {
    this.seq++;
    // The seq field is 32 bits (13.6 years at 10 Hz); rather than wrap into values the peer
    // would reject as replays, start a fresh boot identity, which the peer accepts.
    if (this.seq > 0xffffffff) {
      this.bootIdValue = this.opts.newBootId();
      this.seq = 1;
    }
    const wire = encodeFrame(
      encodePeerFrame({ ...msg, nodeId: this.opts.nodeId, bootId: this.bootIdValue, seq: this.seq }, this.opts.mac),
    );
    this.counters.sent[msg.kind]++;
    this.counters.bytesOut += wire.length;
    return wire;
  }
}
