// A serial cable with a recorder in the middle (issue #19): two socat ptys (one per box), each
// bridged by socat to a unix socket of this relay, which forwards whole frames (cut at the 0x00
// delimiter, src/heartbeat/framing.ts), records every one, can withhold a direction (the far box
// never sees those frames) and plays recorded frames into either box later. Injected frames go
// out between whole frames, so they never damage live traffic. Only unix sockets in the test's
// temp dir: no network traffic at all.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { NetnsLab } from '../helpers/netns';

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

export class RecordingLine {
  readonly aToB = new Recorder();
  readonly bToA = new Recorder();
  readonly a: string;
  readonly b: string;
  private readonly servers: Server[] = [];
  private readonly sockets: Socket[] = [];

  private constructor(private readonly dir: string) {
    this.a = join(dir, 'ra-pty');
    this.b = join(dir, 'rb-pty');
  }

  /** Starts the relay and both socat ptys; the processes are the lab's (killed at its clean-up). */
  static async start(lab: NetnsLab, dir: string): Promise<RecordingLine> {
    const line = new RecordingLine(dir);
    const [sa, sb] = await Promise.all([line.listen('rec-a.sock'), line.listen('rec-b.sock')]);
    const accepted = Promise.all([once(sa), once(sb)]);
    for (const [pty, sock] of [[line.a, 'rec-a.sock'], [line.b, 'rec-b.sock']] as const) {
      const child = spawn('socat', [`pty,raw,echo=0,link=${pty}`, `UNIX-CONNECT:${join(dir, sock)}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      lab.track(child, 'socat');
    }
    const [ca, cb] = await accepted;
    line.sockets.push(ca, cb);
    line.aToB.out = cb;
    line.bToA.out = ca;
    ca.on('data', (d: Buffer) => line.aToB.push(d));
    cb.on('data', (d: Buffer) => line.bToA.push(d));
    await lab.waitFor(() => existsSync(line.a) && existsSync(line.b), { timeoutMs: 10_000, what: 'recording line ptys' });
    return line;
  }

  /**
   * A box's end of the line: the socat link path, not the /dev/pts/N behind it, so a daemon that
   * reopens it after socat is gone never lands on a pty another run got meanwhile (pair-lab.ts).
   */
  device(end: 'a' | 'b'): string {
    return end === 'a' ? this.a : this.b;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    for (const s of this.servers) s.close();
  }

  private listen(name: string): Promise<Server> {
    const server = createServer();
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(join(this.dir, name), () => resolve(server));
    });
  }
}

function once(server: Server): Promise<Socket> {
  return new Promise((resolve) => server.once('connection', resolve));
}
