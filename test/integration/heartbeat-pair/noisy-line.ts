// A noisy serial cable: two socat ptys (one per box) joined by a relay in this process
// (pty-relay.ts: pty pa, ra.sock, rb.sock, pty pb), which, while noise is on, damages the traffic.
// The relay cuts the byte stream at the frame delimiter (0x00; see src/heartbeat/framing.ts), so
// it knows exactly how many frames it passed intact and how many it damaged:
//   - every `corruptEvery`-th frame is damaged: one bit flipped, or 1-4 random bytes inserted,
//     at a random place (alternately);
//   - every `junkEvery`-th frame is preceded by a burst of 1-20 random non-zero bytes and a
//     delimiter (a candidate of its own).
// Each damaged frame and each junk burst must cost the receiver at least one rejected candidate,
// and the receiver can accept at most the frames passed intact.
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import type { NetnsLab } from '../helpers/netns';
import { PtyRelay } from './pty-relay';

export interface DirectionCounts {
  clean: number;
  corrupted: number;
  junk: number;
  bytes: number;
}

class Direction {
  readonly counts: DirectionCounts = { clean: 0, corrupted: 0, junk: 0, bytes: 0 };
  private seg: number[] = [];
  private frames = 0;
  private flip = true;

  constructor(private readonly line: NoisyLine) {}

  /** Bytes from one side; returns what reaches the other side. */
  pass(chunk: Buffer): Buffer {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte !== 0) {
        this.seg.push(byte);
        continue;
      }
      if (this.seg.length > 0) this.frame(this.seg, out);
      this.seg = [];
      out.push(0);
    }
    this.counts.bytes += out.length;
    return Buffer.from(out);
  }

  private frame(seg: number[], out: number[]): void {
    const n = ++this.frames;
    const { noisy, corruptEvery, junkEvery } = this.line;
    if (noisy && n % junkEvery === 0) {
      for (let i = randomInt(1, 21); i > 0; i--) out.push(randomInt(1, 256));
      out.push(0);
      this.counts.junk++;
    }
    if (!noisy || n % corruptEvery !== 0) {
      out.push(...seg);
      this.counts.clean++;
      return;
    }
    const s = [...seg];
    const at = randomInt(0, s.length);
    if (this.flip) s[at] = s[at]! ^ (1 << randomInt(0, 8));
    else s.splice(at, 0, ...Array.from({ length: randomInt(1, 5) }, () => randomInt(1, 256)));
    this.flip = !this.flip;
    out.push(...s);
    this.counts.corrupted++;
  }
}

export class NoisyLine extends PtyRelay {
  /** Damage traffic only while true (set after both daemons are up and talking). */
  noisy = false;
  readonly aToB = new Direction(this);
  readonly bToA = new Direction(this);

  private constructor(
    dir: string,
    readonly corruptEvery: number,
    readonly junkEvery: number,
  ) {
    super(dir, { ptyA: 'pa', ptyB: 'pb', sockA: 'ra.sock', sockB: 'rb.sock' });
  }

  /** Starts the relay and both socat ptys; the processes are the lab's (killed at its clean-up). */
  static async start(lab: NetnsLab, dir: string, opts: { corruptEvery: number; junkEvery: number }): Promise<NoisyLine> {
    const line = new NoisyLine(dir, opts.corruptEvery, opts.junkEvery);
    await line.open(lab, 'noisy line ptys');
    return line;
  }

  protected connect(fromA: Socket, fromB: Socket): void {
    fromA.on('data', (d: Buffer) => fromB.write(this.aToB.pass(d)));
    fromB.on('data', (d: Buffer) => fromA.write(this.bToA.pass(d)));
  }
}
