// The cable of NoisyLine and RecordingLine: two socat ptys (one per box), each bridged by socat
// to a unix socket of this process, which sees every byte each box writes and decides what the
// other box gets (subclass's connect()):
//
//   box a ── pty a ── socat ── sock a ─┐ relay (this process) ┌─ sock b ── socat ── pty b ── box b
//
// Only unix sockets in the test's temp dir: no network traffic at all. The socat processes are the
// lab's (killed at its clean-up); close() ends the relay's side.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { NetnsLab } from '../helpers/netns';

export interface RelayNames {
  /** The ptys' link paths (file names in dir): what box a and box b open. */
  ptyA: string;
  ptyB: string;
  /** The relay's unix sockets (file names in dir). */
  sockA: string;
  sockB: string;
}

export abstract class PtyRelay {
  readonly a: string;
  readonly b: string;
  private readonly servers: Server[] = [];
  private readonly sockets: Socket[] = [];

  protected constructor(
    private readonly dir: string,
    private readonly names: RelayNames,
  ) {
    this.a = join(dir, names.ptyA);
    this.b = join(dir, names.ptyB);
  }

  /** Box a's socket (`fromA`: what a writes; write to it: what a reads) and box b's. */
  protected abstract connect(fromA: Socket, fromB: Socket): void;

  /** Listens, starts both socat ptys, connects them (connect()), and waits for both pty links. */
  protected async open(lab: NetnsLab, what: string): Promise<void> {
    const { sockA, sockB } = this.names;
    const [sa, sb] = await Promise.all([this.listen(sockA), this.listen(sockB)]);
    const accepted = Promise.all([once(sa), once(sb)]);
    for (const [pty, sock] of [[this.a, sockA], [this.b, sockB]] as const) {
      const child = spawn('socat', [`pty,raw,echo=0,link=${pty}`, `UNIX-CONNECT:${join(this.dir, sock)}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      lab.track(child, 'socat');
    }
    const [ca, cb] = await accepted;
    this.sockets.push(ca, cb);
    this.connect(ca, cb);
    await lab.waitFor(() => existsSync(this.a) && existsSync(this.b), { timeoutMs: 10_000, what });
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
