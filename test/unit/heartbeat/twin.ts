// One box's serial heartbeat core for unit tests: guard, sender and receiver sharing a boot id,
// as SerialLink wires them, with a fake clock passed in.
import { FrameReceiver, type Received } from '../../../src/heartbeat/frame-receiver';
import { FrameSender } from '../../../src/heartbeat/frame-sender';
import { makeBootId, type FrameMac, type PeerMessage } from '../../../src/heartbeat/frame';
import { ReplayGuard } from '../../../src/heartbeat/replay';
import { hb, MAC } from './fixtures';

export const WINDOW_MS = 1000;
export const STALE_MS = 500;

let randomCounter = 0;

export class Twin {
  readonly guard: ReplayGuard;
  readonly sender: FrameSender;
  readonly receiver: FrameReceiver;

  constructor(readonly nodeId: string, opts: { bootNumber?: number; mac?: FrameMac; bootId?: string } = {}) {
    const r = ++randomCounter;
    const bootId = opts.bootId ?? makeBootId(opts.bootNumber ?? 1, Buffer.from([r >> 24, r >> 16, r >> 8, r]));
    this.guard = new ReplayGuard({ nodeId, bootId, windowMs: WINDOW_MS });
    this.sender = new FrameSender({ mac: opts.mac ?? MAC, nodeId, guard: this.guard });
    this.receiver = new FrameReceiver({ mac: MAC, guard: this.guard, staleAfterMs: STALE_MS });
  }

  get bootId(): string {
    return this.guard.bootId;
  }

  /** A heartbeat whose uptime follows our clock (a prompt sender). */
  heartbeat(now: number, over: Parameters<typeof hb>[0] = {}): Buffer {
    return this.sender.encode({ kind: 'heartbeat', ...hb({ uptimeMs: 50_000 + now, ...over }) }, now);
  }

  send(msg: PeerMessage, now: number): Buffer {
    return this.sender.encode(msg, now);
  }

  hear(wire: Uint8Array, now: number): Received[] {
    return this.receiver.push(wire, now);
  }
}

/** Heartbeats both ways until each side accepted one (at most `periods` exchanges); returns the time. */
export function sync(a: Twin, b: Twin, now: number, periods = 4): number {
  let aHeard = false;
  let bHeard = false;
  for (let i = 0; i < periods && !(aHeard && bHeard); i++, now += 100) {
    if (b.hear(a.heartbeat(now), now).some((r) => r.ok)) bHeard = true;
    if (a.hear(b.heartbeat(now), now).some((r) => r.ok)) aHeard = true;
  }
  if (!(aHeard && bHeard)) throw new Error(`no sync in ${periods} periods (a heard ${aHeard}, b heard ${bHeard})`);
  return now;
}
