// The receive pipeline, I/O-free: bytes in, authenticated fresh frames or counted rejections out.
// Order: delimiter/COBS -> CRC-32 -> version -> HMAC -> parse -> own node/boot -> echo and replay
// (replay.ts) -> freshness (heartbeats only; see freshness.ts).

import { newCounters, type HeartbeatCounters, type RejectReason } from './counters';
import { decodePeerFrame, type FrameMac, type PeerFrame } from './frame';
import { FrameDecoder } from './framing';
import { FreshnessFilter } from './freshness';
import { isPairingBody } from './pairing';
import type { ReplayGuard } from './replay';

export type Received =
  /** delayMs (heartbeats): how much later than the promptest heartbeat this one arrived (freshness.ts). */
  | { ok: true; frame: PeerFrame; newBoot: boolean; delayMs: number }
  | { ok: false; reason: RejectReason };

export interface FrameReceiverOptions {
  mac: FrameMac;
  /** Shared with the FrameSender: our boot id, node id, the seqs we sent and when. */
  guard: ReplayGuard;
  counters?: HeartbeatCounters;
  /** A heartbeat delayed more than this (relative to the promptest one) is 'stale'; the serial dead time. */
  staleAfterMs?: number;
}

export class FrameReceiver {
  readonly counters: HeartbeatCounters;
  private readonly decoder = new FrameDecoder();
  private seenPeer = false;
  private readonly freshness: FreshnessFilter;

  constructor(private readonly opts: FrameReceiverOptions) {
    this.counters = opts.counters ?? newCounters();
    this.freshness = new FreshnessFilter(opts.staleAfterMs ?? 500);
  }

  /** `now`: our monotonic ms (the clock the sender side stamps its seqs with). */
  push(chunk: Uint8Array, now: number): Received[] {
    this.counters.bytesIn += chunk.length;
    const out: Received[] = [];
    for (const d of this.decoder.push(chunk)) {
      if (!d.ok) {
        out.push(this.reject(d.reason));
        continue;
      }
      // An unpaired twin's pairing frame: refused before any MAC work (pairing.ts).
      if (isPairingBody(d.body)) {
        out.push(this.reject('pairing'));
        continue;
      }
      const m = decodePeerFrame(d.body, this.opts.mac);
      if (!m.ok) {
        out.push(this.reject(m.reason));
        continue;
      }
      const f = m.frame;
      const verdict = this.opts.guard.check(f, now);
      if (verdict !== 'fresh' && verdict !== 'new-boot') {
        out.push(this.reject(verdict));
        continue;
      }
      if (f.kind === 'heartbeat' && !this.freshness.check(f.bootId, f.uptimeMs, now)) {
        out.push(this.reject('stale'));
        continue;
      }
      const newBoot = verdict === 'new-boot' && this.seenPeer;
      if (newBoot) this.counters.peerReboots++;
      this.seenPeer = true;
      this.counters.accepted[f.kind]++;
      out.push({ ok: true, frame: f, newBoot, delayMs: f.kind === 'heartbeat' ? this.freshness.lastDelayMs : 0 });
    }
    return out;
  }

  private reject(reason: RejectReason): Received {
    this.counters.rejected[reason]++;
    return { ok: false, reason };
  }
}
