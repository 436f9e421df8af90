// The HA path's state as the main thread sees it, through shared memory instead of messages.
//
// Why: every message between the two threads takes mutexes the other thread also takes (Node's
// MessagePort: the sibling group's and the receiving port's; glibc: the malloc arena of the
// thread that allocated the message's buffer, locked again by the thread that frees it). Under
// CPU saturation the main thread runs at normal priority and can be preempted while it holds
// one; the real-time HA thread then waits for it (priority inversion, measured under mqtt-max:
// the HA thread blocked in MessagePort::OnMessage's mutex while the main thread, preempted,
// held it in its own postMessage; bench/README.md). The mirror used to be one of those messages
// every 500 ms, and one round trip per `status` (10/s under a request flood).
//
// Now the HA thread writes its state as JSON into a SharedArrayBuffer the main thread created,
// under a sequence lock (Atomics only: no lock, no allocation outside the writer's own heap), and
// the main thread copies it out when it needs it. A fresher copy is asked for by bumping a
// counter the HA thread looks at on its own timer: the main thread never wakes, blocks or
// messages the HA thread for it, and the HA thread never waits for the main thread.
//
// Layout (Int32 slots): [0] sequence (odd while a write is under way), [1] bytes of JSON,
// [2] requests for a fresh copy (main increments), [3] unused; Float64 at byte 16: when the
// copy was written (epoch ms, performance.timeOrigin + now()); JSON from byte 32.

const HEADER = 32;
const SEQ = 0;
const LEN = 1;
const WANT = 2;
const AT = 2; // Float64 index (byte 16)

/** Default size: the state of a few dozen instances is a few tens of KB. */
export const MIRROR_BYTES = 1 << 20;

export function mirrorBuffer(bytes = MIRROR_BYTES): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER + bytes);
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/** The HA thread's side: publishes its state. */
export class MirrorWriter {
  private readonly head: Int32Array;
  private readonly at: Float64Array;
  private readonly data: Buffer;
  private wantSeen = 0;

  constructor(sab: SharedArrayBuffer) {
    this.head = new Int32Array(sab, 0, 4);
    this.at = new Float64Array(sab, 0, 4);
    this.data = Buffer.from(sab, HEADER);
    this.wantSeen = Atomics.load(this.head, WANT);
  }

  /** Whether the main thread asked for a fresh copy since the last write. */
  wanted(): boolean {
    return Atomics.load(this.head, WANT) !== this.wantSeen;
  }

  /** Writes `state`; false when its JSON does not fit (the caller sends it as a message then). */
  write(state: unknown): boolean {
    const json = JSON.stringify(state);
    // Worst case 3 bytes per UTF-16 unit: measure only when it may not fit.
    if (json.length * 3 > this.data.length && Buffer.byteLength(json) > this.data.length) return false;
    this.wantSeen = Atomics.load(this.head, WANT);
    Atomics.add(this.head, SEQ, 1);
    const n = this.data.write(json, 0, 'utf8');
    Atomics.store(this.head, LEN, n);
    this.at[AT] = epochNow();
    Atomics.add(this.head, SEQ, 1);
    return true;
  }
}

/** The main thread's side: reads the newest copy, asks for a fresh one. */
export class MirrorReader<T> {
  private readonly head: Int32Array;
  private readonly at: Float64Array;
  private readonly data: Buffer;
  private seen = 0;
  private writtenAt = 0;

  constructor(sab: SharedArrayBuffer) {
    this.head = new Int32Array(sab, 0, 4);
    this.at = new Float64Array(sab, 0, 4);
    this.data = Buffer.from(sab, HEADER);
  }

  /** The copy written since the last call, if any (undefined: nothing new, or a write under way). */
  take(): T | undefined {
    for (let attempt = 0; attempt < 4; attempt++) {
      const s1 = Atomics.load(this.head, SEQ);
      if (s1 === this.seen || s1 === 0) return undefined;
      if (s1 & 1) continue; // the writer is in the middle of a write: retry, then give up for now
      const len = Atomics.load(this.head, LEN);
      const at = this.at[AT]!;
      const text = this.data.toString('utf8', 0, len);
      if (Atomics.load(this.head, SEQ) !== s1) continue;
      this.seen = s1;
      this.writtenAt = at;
      return JSON.parse(text) as T;
    }
    return undefined;
  }

  /** The next take() returns the newest copy even if it was taken before. */
  reread(): void {
    this.seen = -1;
  }

  /** Epoch ms at which the newest copy taken was written (0: none yet). */
  get writtenAtMs(): number {
    return this.writtenAt;
  }

  /** Asks the writer for a fresh copy at its next look (no wake-up, no message). */
  want(): void {
    Atomics.add(this.head, WANT, 1);
  }

  /** Epoch ms, the clock of `writtenAtMs`. */
  static now(): number {
    return epochNow();
  }
}
