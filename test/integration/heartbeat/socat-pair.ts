// A socat pty pair as the serial cable between two boxes. Only the PID we started is ever killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patience } from '../../helpers/patience';

/** Polls `cond` every 20 ms; gives up after timeoutMs times patience(). */
export async function waitFor(cond: () => boolean, writtenTimeoutMs: number, what: string): Promise<void> {
  const timeoutMs = patience(writtenTimeoutMs);
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class SocatPair {
  readonly dir = mkdtempSync(join(tmpdir(), 'tv-serial-'));
  readonly a = join(this.dir, 'a');
  readonly b = join(this.dir, 'b');
  private proc: ChildProcess | null = null;

  async start(): Promise<void> {
    const p = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    p.stderr!.resume();
    this.proc = p;
    await waitFor(() => existsSync(this.a) && existsSync(this.b), 10_000, 'socat pty links');
  }

  /** Kills our socat (the "cable" and both ports vanish) and waits for it to exit. */
  async kill(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    await exited;
    // socat removes its links on SIGTERM; make sure, so a reopen cannot hit a dangling link.
    await waitFor(() => !existsSync(this.a) && !existsSync(this.b), 5_000, 'socat links removed');
  }

  async cleanup(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
