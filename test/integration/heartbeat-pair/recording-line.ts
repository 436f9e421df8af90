// A serial cable with a recorder in the middle (issue #19): two socat ptys (one per box) joined
// by a relay in this process (pty-relay.ts), which forwards whole frames (cut at the 0x00
// delimiter, src/heartbeat/framing.ts), records every one, can withhold a direction (the far box
// never sees those frames) and plays recorded frames into either box later. Injected frames go
// out between whole frames, so they never damage live traffic.
import type { Socket } from 'node:net';
import type { NetnsLab } from '../helpers/netns';
import { PtyRelay } from './pty-relay';

export class Recorder {
  /** Every whole frame seen in this direction, live or withheld, oldest first. */
  readonly tape: Buffer[] = [];
  /** Frames forwarded as live traffic. */
  passed = 0;
  withhold = false;
  /** Replaces a live frame on its way (a tampering relay, pairing.test.ts); null drops it. */
  rewrite: ((frame: Buffer) => Buffer | null) | undefined;
  out: Socket | null = null;
  private seg: number[] = [];

  push(chunk: Buffer): void {
    for (const byte of chunk) {
      if (byte !== 0) {
        this.seg.push(byte);
        continue;
      }
      if (this.seg.length === 0) continue;
      const frame = Buffer.from([0, ...this.seg, 0]);
      this.seg = [];
      this.tape.push(frame);
      if (this.withhold) continue;
      const live = this.rewrite ? this.rewrite(frame) : frame;
      if (!live) continue;
      this.passed++;
      this.out?.write(live);
    }
  }

  /** Writes recorded frames towards this direction's receiver. */
  inject(frames: Buffer[]): void {
    if (frames.length > 0) this.out?.write(Buffer.concat(frames));
  }
}

export class RecordingLine extends PtyRelay {
  readonly aToB = new Recorder();
  readonly bToA = new Recorder();

  private constructor(dir: string) {
    super(dir, { ptyA: 'ra-pty', ptyB: 'rb-pty', sockA: 'rec-a.sock', sockB: 'rec-b.sock' });
  }

  /** Starts the relay and both socat ptys; the processes are the lab's (killed at its clean-up). */
  static async start(lab: NetnsLab, dir: string): Promise<RecordingLine> {
    const line = new RecordingLine(dir);
    await line.open(lab, 'recording line ptys');
    return line;
  }

  protected connect(fromA: Socket, fromB: Socket): void {
    this.aToB.out = fromB;
    this.bToA.out = fromA;
    fromA.on('data', (d: Buffer) => this.aToB.push(d));
    fromB.on('data', (d: Buffer) => this.bToA.push(d));
  }
}
