// The demo's own network-namespace lab: every namespace, link, process and temp dir the demo
// makes, and one clean-up that removes them all (on success, failure, Ctrl-C). Everything that
// speaks VRRP, ARP or MQTT runs inside these namespaces (`ip netns exec`), never in the
// machine's own namespace. Names carry a per-run prefix ("tvd" + 4 hex) so two runs, or a run
// and the test suite, never collide.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function exec(cmd: string, args: readonly string[], timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && code === -1 ? err.message : '') });
    });
  });
}

export async function mustExec(cmd: string, args: readonly string[]): Promise<string> {
  const r = await exec(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

const TAIL_LINES = 40;

/** A long-running process the demo started; only its own PID is ever signalled. */
export class DemoProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly tail: string[] = [];
  private readonly lineListeners = new Set<(line: string) => void>();
  private done = false;

  constructor(
    readonly label: string,
    private readonly child: ChildProcess,
    logFile: WriteStream | undefined,
  ) {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        logFile?.write(chunk);
        partial += chunk;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          this.tail.push(line);
          if (this.tail.length > TAIL_LINES) this.tail.shift();
          for (const l of this.lineListeners) l(line);
        }
      });
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.done = true;
        logFile?.end();
        resolve({ code, signal });
      });
      child.once('error', (err) => {
        this.done = true;
        this.tail.push(`cannot start: ${err.message}`);
        logFile?.end();
        resolve({ code: -1, signal: null });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.done;
  }

  /** Every complete output line from now on (stdout and stderr). */
  onLine(fn: (line: string) => void): () => void {
    this.lineListeners.add(fn);
    return () => this.lineListeners.delete(fn);
  }

  lastLines(n = 10): string[] {
    return this.tail.slice(-n);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** TERM (or `sig`), then KILL after graceMs. */
  async stop(graceMs = 5000, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.child.kill(sig);
    const t = setTimeout(() => this.running && this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

export class DemoLab {
  readonly namespaces: string[] = [];
  private readonly procs: DemoProcess[] = [];
  private dir: string | undefined;
  private cleaned = false;

  private constructor(readonly prefix: string) {}

  static create(): DemoLab {
    return new DemoLab(`tvd${randomBytes(2).toString('hex')}`);
  }

  /** The run's temp dir (made on first use, world-readable so Nginx workers can serve from it). */
  async tmpdir(): Promise<string> {
    if (!this.dir) {
      this.dir = await mkdtemp(join(tmpdir(), `${this.prefix}-`));
      await chmod(this.dir, 0o755);
    }
    return this.dir;
  }

  nsName(role: string): string {
    return `${this.prefix}-${role}`;
  }

  async namespace(role: string): Promise<string> {
    const name = this.nsName(role);
    await mustExec('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await mustExec('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    // No IPv6 DAD: a tentative link-local address cannot be a source, and nothing here needs it.
    for (const key of ['net.ipv6.conf.all.accept_dad', 'net.ipv6.conf.default.accept_dad']) {
      await mustExec('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', `${key}=0`]);
    }
    return name;
  }

  async bridge(ns: string, br: string): Promise<void> {
    await mustExec('ip', ['-n', ns, 'link', 'add', br, 'type', 'bridge']);
    // Forward at once (no STP listening delay) and let VRRP multicast through without snooping.
    await mustExec('ip', ['-n', ns, 'link', 'set', br, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
    await mustExec('ip', ['-n', ns, 'link', 'set', br, 'up']);
  }

  /** A veth from `ns` (named `ifname` there) into bridge `br` of `sw`, as port `port`. */
  async vethToBridge(ns: string, ifname: string, sw: string, br: string, port: string): Promise<void> {
    const tmp = `${this.prefix}t${randomBytes(2).toString('hex')}`;
    await mustExec('ip', ['-n', ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', tmp]);
    await mustExec('ip', ['-n', ns, 'link', 'set', tmp, 'netns', sw]);
    await mustExec('ip', ['-n', sw, 'link', 'set', tmp, 'name', port]);
    await mustExec('ip', ['-n', sw, 'link', 'set', port, 'master', br]);
    await mustExec('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
    await mustExec('ip', ['-n', sw, 'link', 'set', port, 'up']);
  }

  async addr(ns: string, ifname: string, cidr: string): Promise<void> {
    await mustExec('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', ifname]);
  }

  /** Runs a command inside `ns` to completion. */
  runIn(ns: string, cmd: string, args: readonly string[]): Promise<RunResult> {
    return exec('ip', ['netns', 'exec', ns, cmd, ...args]);
  }

  /**
   * A long-running process, inside `ns` when given (`ip netns exec` execs the command, so the
   * PID we hold is the command's own). Output goes to `logPath` and a short in-memory tail.
   */
  spawn(label: string, ns: string | undefined, cmd: string, args: readonly string[], logPath?: string): DemoProcess {
    if (this.cleaned) throw new Error('lab already cleaned up');
    const argv = ns ? ['netns', 'exec', ns, cmd, ...args] : [...args];
    const child = spawn(ns ? 'ip' : cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new DemoProcess(label, child, logPath ? createWriteStream(logPath, { flags: 'a' }) : undefined);
    this.procs.push(p);
    return p;
  }

  /**
   * Stops what the demo started (TERM, then KILL), deletes the namespaces (their links go with
   * them) and the temp dir. Never throws; safe to call twice. Returns what it did, for the log.
   */
  async cleanup(opts: { keepDir?: boolean } = {}): Promise<{ killed: number; namespaces: number; stragglers: number }> {
    if (this.cleaned) return { killed: 0, namespaces: 0, stragglers: 0 };
    this.cleaned = true;
    const live = this.procs.filter((p) => p.running);
    await Promise.all(live.map((p) => p.stop().catch(() => undefined)));
    // A child of one of ours (Nginx started by a twinvip that was killed hard) can outlive its
    // parent; it can only be in our own namespaces, which only this run created.
    let stragglers = 0;
    for (const ns of this.namespaces) {
      const r = await exec('ip', ['netns', 'pids', ns]);
      for (const pid of r.stdout.split(/\s+/).filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL');
          stragglers++;
        } catch {
          // already gone
        }
      }
    }
    let deleted = 0;
    for (const ns of [...this.namespaces].reverse()) {
      if ((await exec('ip', ['netns', 'del', ns])).code === 0) deleted++;
    }
    if (this.dir && !opts.keepDir) await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    return { killed: live.length, namespaces: deleted, stragglers };
  }

  /** Namespaces with this run's prefix that still exist (the clean-up check). */
  async leftovers(): Promise<string[]> {
    const r = await exec('ip', ['netns', 'list']);
    return r.stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(`${this.prefix}-`));
  }
}
