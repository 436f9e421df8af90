// A noisy serial cable: two socat ptys (one per box), each bridged by socat to a unix socket of
// this relay, which joins the two directions and, while noise is on, damages the traffic:
//
//   box a ── pty pa ── socat ── ra.sock ─┐ relay (this process) ┌─ rb.sock ── socat ── pty pb ── box b
//
// The relay cuts the byte stream at the frame delimiter (0x00; see src/heartbeat/framing.ts), so
// it knows exactly how many frames it passed intact and how many it damaged:
//   - every `corruptEvery`-th frame is damaged: one bit flipped, or 1-4 random bytes inserted,
//     at a random place (alternately);
//   - every `junkEvery`-th frame is preceded by a burst of 1-20 random non-zero bytes and a
//     delimiter (a candidate of its own).
// Each damaged frame and each junk burst must cost the receiver at least one rejected candidate,
// and the receiver can accept at most the frames passed intact.
// Only unix sockets in the test's temp dir: no network traffic at all.
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { NetnsLab } from '../helpers/netns';

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

export class NoisyLine {
  /** Damage traffic only while true (set after both daemons are up and talking). */
  noisy = false;
  readonly aToB = new Direction(this);
  readonly bToA = new Direction(this);
  readonly a: string;
  readonly b: string;
  private readonly servers: Server[] = [];
  private readonly sockets: Socket[] = [];

  private constructor(
    private readonly dir: string,
    readonly corruptEvery: number,
    readonly junkEvery: number,
  ) {
    this.a = join(dir, 'pa');
    this.b = join(dir, 'pb');
  }

  /** Starts the relay and both socat ptys; the processes are the lab's (killed at its clean-up). */
  static async start(lab: NetnsLab, dir: string, opts: { corruptEvery: number; junkEvery: number }): Promise<NoisyLine> {
    const line = new NoisyLine(dir, opts.corruptEvery, opts.junkEvery);
    const [sa, sb] = await Promise.all([line.listen('ra.sock'), line.listen('rb.sock')]);
    const accepted = Promise.all([once(sa), once(sb)]);
    for (const [pty, sock] of [[line.a, 'ra.sock'], [line.b, 'rb.sock']] as const) {
      const child = spawn('socat', [`pty,raw,echo=0,link=${pty}`, `UNIX-CONNECT:${join(dir, sock)}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      lab.track(child, 'socat');
    }
    const [ca, cb] = await accepted;
    line.sockets.push(ca, cb);
    ca.on('data', (d: Buffer) => cb.write(line.aToB.pass(d)));
    cb.on('data', (d: Buffer) => ca.write(line.bToA.pass(d)));
    await lab.waitFor(() => existsSync(line.a) && existsSync(line.b), { timeoutMs: 10_000, what: 'noisy line ptys' });
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
