// A person at a terminal program: picocom on a serial device, inside a detached tmux session on a
// tmux server of our own (-L NAME), so nothing here can touch another tmux session. Keys go in
// with `send-keys`, the screen comes back with `capture-pane`; every wait polls the screen for an
// expected text with a deadline. Only our own tmux server and picocom's PID are ever signalled.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { waitFor } from '../../helpers/wait';

const run = promisify(execFile);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class PicocomTerminal {
  readonly session = `tvpp-${randomBytes(3).toString('hex')}`;
  private picocomPid: number | undefined;
  private started = false;

  /** `cols` x `rows`: 80 columns, so output wider than a technician's terminal wraps visibly. */
  constructor(
    private readonly device: string,
    private readonly cols = 80,
    private readonly rows = 50,
  ) {}

  private async tmux(...args: string[]): Promise<string> {
    const r = await run('tmux', ['-L', this.session, ...args], { env: { ...process.env, TERM: process.env.TERM ?? 'xterm' } });
    return r.stdout;
  }

  async start(): Promise<void> {
    await this.tmux('new-session', '-d', '-s', this.session, '-x', String(this.cols), '-y', String(this.rows), `picocom -b 115200 ${this.device}`);
    this.started = true;
    const pid = Number((await this.tmux('display-message', '-p', '-t', this.session, '#{pane_pid}')).trim());
    if (Number.isInteger(pid) && pid > 0) this.picocomPid = pid;
    await this.seen('Terminal ready', 'picocom to be ready');
  }

  /** Visible screen plus scroll-back, wrapped lines as tmux shows them (not joined). */
  screen(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-S', '-3000', '-t', this.session);
  }

  /** The same, with lines that tmux wrapped at the right edge joined back (-J). */
  joined(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-3000', '-t', this.session);
  }

  keys(...k: string[]): Promise<string> {
    return this.tmux('send-keys', '-t', this.session, ...k);
  }

  /** Types `text` literally and presses Enter. */
  async line(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', this.session, '-l', text);
    await this.keys('Enter');
  }

  /** Polls the screen until `pattern` shows (joined lines), and returns that screen. */
  async seen(pattern: RegExp | string | ((screen: string) => boolean), what: string, timeoutMs = 30_000): Promise<string> {
    const test = typeof pattern === 'string' ? (t: string) => t.includes(pattern) : pattern instanceof RegExp ? (t: string) => pattern.test(t) : pattern;
    let last = '';
    try {
      return await waitFor(
        async () => {
          last = await this.joined();
          return test(last) ? last : undefined;
        },
        { timeoutMs, intervalMs: 100, what },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- screen ---\n${last}`);
    }
  }

  /**
   * Types `command`, waits until the last line on the screen is a fresh prompt after the echoed
   * command, and returns what the command printed in between (both lines excluded). `prompt`
   * matches a whole prompt line.
   */
  async command(command: string, prompt: RegExp, what: string, timeoutMs = 30_000): Promise<string> {
    const isEcho = (l: string) => l.endsWith(command) && prompt.test(l.slice(0, l.length - command.length).trimEnd());
    // The same command may still be on the screen from before: wait for one more echo of it.
    const before = (await this.joined()).split('\n').filter(isEcho).length;
    await this.line(command);
    const split = (text: string): string[] | undefined => {
      const lines = text.trimEnd().split('\n');
      if (lines.filter(isEcho).length <= before) return undefined;
      const echoAt = lines.findLastIndex(isEcho);
      if (echoAt === lines.length - 1) return undefined;
      return prompt.test(lines.at(-1)!.trimEnd()) ? lines.slice(echoAt + 1, -1) : undefined;
    };
    const s = await this.seen((t) => split(t) !== undefined, what, timeoutMs);
    return split(s)!.join('\n');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.tmux('kill-session', '-t', this.session).catch(() => '');
    // picocom gets SIGHUP from the closing pane; make sure it (and only it) is gone.
    const pid = this.picocomPid;
    if (pid !== undefined) {
      await waitFor(() => !alive(pid), { timeoutMs: 5000, what: 'picocom to exit' }).catch(() => {
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      });
    }
    // The tmux server of our -L socket exits with its last session; nothing else to stop.
  }
}
