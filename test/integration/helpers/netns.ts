/**
 * Network-namespace lab for integration tests: every namespace, link and process a test makes,
 * and a guaranteed clean-up.
 *
 * API
 *   const lab = await NetnsLab.create();        // unique prefix per run: "tv" + 4 hex
 *   const a = await lab.namespace('a');         // namespace "<prefix>a", lo up, IPv6 DAD off
 *   await lab.veth(a, 'va', b, 'vb');           // veth pair, one end in each, both up
 *   const br = await lab.bridge(s, 'br0');      // bridge inside namespace s, up
 *   await lab.vethToBridge(a, 'va', s, 'br0');  // a's end "va", the other end enslaved to br0
 *   await lab.addr(a, 'va', '10.0.0.1/24');     // IPv4 or IPv6 (IPv6 added with nodad)
 *   await a.run('ip', ['-j', 'addr']);          // run to completion; rejects on exit != 0
 *   await a.tryRun('ip', [...]);                // same, never rejects: {code, stdout, stderr}
 *   const p = a.spawn('keepalived', [...]);     // long-running; tracked, killed at clean-up
 *   await lab.waitFor(async () => cond, {timeoutMs, what});  // poll an observable condition
 *   const dir = await lab.tmpdir();             // removed at clean-up
 *   await lab.cleanup();                        // kill own PIDs (TERM, then KILL), delete
 *                                               // namespaces (their links go too), remove tmp dirs
 *   NetnsLab.prerequisites                      // root and `ip`: describeRequiring(NetnsLab.prerequisites, ...)
 *   NetnsLab.available()                        // all of them there (for guards in file-level hooks)
 * Interface names must stay <= 15 characters; names are per namespace, so short ones are fine.
 * Call cleanup() in afterAll/finally: it never throws and is safe to call twice.
 * Processes run through `ip netns exec NS`, so everything they send stays inside the lab.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_NETNS_ENV } from '../../helpers/integration-projects';
import { patience } from '../../helpers/patience';
import { missingPrerequisites, needsNetns, type Prerequisite } from '../../helpers/prerequisites';
import { describeWait, reportWait } from '../../helpers/wait';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: readonly string[], timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: patience(timeoutMs), maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && code === -1 ? err.message : '') });
    });
  });
}

async function mustExec(cmd: string, args: readonly string[]): Promise<string> {
  const r = await exec(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

export class Netns {
  constructor(
    readonly name: string,
    private readonly lab: NetnsLab,
  ) {}

  /** Runs to completion inside the namespace; rejects with stderr on a non-zero exit. */
  run(cmd: string, args: readonly string[] = []): Promise<string> {
    return mustExec('ip', ['netns', 'exec', this.name, cmd, ...args]);
  }

  tryRun(cmd: string, args: readonly string[] = [], timeoutMs?: number): Promise<RunResult> {
    return exec('ip', ['netns', 'exec', this.name, cmd, ...args], timeoutMs);
  }

  /** A long-running process in the namespace; killed by cleanup() (or kill()). Output is kept. */
  spawn(cmd: string, args: readonly string[] = []): LabProcess {
    return this.lab.track(spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), cmd);
  }

  /** `ip -j ...` in the namespace, parsed. */
  async ipJson<T = unknown>(args: readonly string[]): Promise<T> {
    return JSON.parse(await mustExec('ip', ['-n', this.name, '-j', ...args])) as T;
  }
}

export class LabProcess {
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    readonly label: string,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(this.exitCode);
      });
      child.once('error', () => resolve(-1));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** TERM, then KILL after graceMs. Only this process (by its PID). */
  async kill(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.running && this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

export class NetnsLab {
  readonly namespaces: Netns[] = [];
  private readonly procs: LabProcess[] = [];
  private readonly dirs: string[] = [];
  private cleaned = false;

  private constructor(readonly prefix: string) {}

  static async create(): Promise<NetnsLab> {
    return new NetnsLab(`tv${randomBytes(2).toString('hex')}`);
  }

  /** What every lab needs; a suite declares them with describeRequiring (never a bare skip). */
  static readonly prerequisites: readonly Prerequisite[] = needsNetns;

  static available(): boolean {
    return missingPrerequisites(NetnsLab.prerequisites).length === 0;
  }

  async namespace(role: string): Promise<Netns> {
    const name = `${this.prefix}${role}`;
    if (process.env[NO_NETNS_ENV] === '1') {
      // The file was put in the project that runs beside the namespace tests: the split missed it.
      throw new Error(
        `network namespace ${name} refused: this file runs in the integration-local project, beside the namespace tests, ` +
          'and namespace tests run one at a time (test/helpers/integration-projects.ts decides the project from the code; ' +
          'add the pattern that creates this namespace to NAMESPACE_CODE there)',
      );
    }
    await mustExec('ip', ['netns', 'add', name]);
    const ns = new Netns(name, this);
    this.namespaces.push(ns);
    await mustExec('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    // No IPv6 duplicate address detection in the lab: link-local addresses are usable as soon
    // as a link is up (a tentative address cannot be a source), which keeps tests fast.
    for (const key of ['net.ipv6.conf.all.accept_dad', 'net.ipv6.conf.default.accept_dad']) {
      await mustExec('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', `${key}=0`]);
    }
    return ns;
  }

  async veth(a: Netns, aIf: string, b: Netns, bIf: string): Promise<void> {
    const tmp = `${this.prefix}t${randomBytes(2).toString('hex')}`;
    await mustExec('ip', ['-n', a.name, 'link', 'add', aIf, 'type', 'veth', 'peer', 'name', tmp]);
    await mustExec('ip', ['-n', a.name, 'link', 'set', tmp, 'netns', b.name]);
    await mustExec('ip', ['-n', b.name, 'link', 'set', tmp, 'name', bIf]);
    await mustExec('ip', ['-n', a.name, 'link', 'set', aIf, 'up']);
    await mustExec('ip', ['-n', b.name, 'link', 'set', bIf, 'up']);
  }

  async bridge(ns: Netns, name: string): Promise<void> {
    await mustExec('ip', ['-n', ns.name, 'link', 'add', name, 'type', 'bridge']);
    // Forward at once (no STP listening delay) and let multicast through without snooping state.
    await mustExec('ip', ['-n', ns.name, 'link', 'set', name, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
    await mustExec('ip', ['-n', ns.name, 'link', 'set', name, 'up']);
  }

  /** A veth from `a` (named aIf there) into bridge `br` of namespace `s`. */
  async vethToBridge(a: Netns, aIf: string, s: Netns, br: string): Promise<void> {
    const port = `p${aIf}`.slice(0, 15);
    await this.veth(a, aIf, s, port);
    await mustExec('ip', ['-n', s.name, 'link', 'set', port, 'master', br]);
  }

  async addr(ns: Netns, ifname: string, cidr: string): Promise<void> {
    const args = ['-n', ns.name, 'addr', 'add', cidr, 'dev', ifname];
    if (cidr.includes(':')) args.push('nodad');
    await mustExec('ip', args);
  }

  track(child: ChildProcess, label: string): LabProcess {
    const p = new LabProcess(child, label);
    this.procs.push(p);
    return p;
  }

  async tmpdir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), `${this.prefix}-`));
    this.dirs.push(d);
    return d;
  }

  /**
   * Polls `cond` until it returns a truthy value (returned), or throws after timeoutMs (times
   * patience()). `what` names the wait in the error; a function is asked only then (a log so far).
   */
  async waitFor<T>(
    cond: () => Promise<T> | T,
    opts: { timeoutMs?: number; intervalMs?: number; what?: string | (() => string) } = {},
  ): Promise<NonNullable<T>> {
    const timeoutMs = patience(opts.timeoutMs ?? 15_000);
    const started = Date.now();
    const deadline = started + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const v = await cond();
        if (v) {
          reportWait(started, opts.what);
          return v as NonNullable<T>;
        }
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${describeWait(opts.what, 'condition')}${last ? `: ${String(last)}` : ''}`);
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
    }
  }

  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    await Promise.all(this.procs.map((p) => p.kill().catch(() => undefined)));
    for (const ns of this.namespaces.reverse()) await exec('ip', ['netns', 'del', ns.name]);
    for (const d of this.dirs) await rm(d, { recursive: true, force: true }).catch(() => undefined);
  }
}
