import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import type { SubsystemLogger } from '../log';
import { commandLine, isLiveMaster, parentPid, processState, readPidFile } from './proc';
import type { NginxSettings, PrefixPaths } from './settings';

export interface SupervisorOptions {
  settings: NginxSettings;
  paths: PrefixPaths;
  log: SubsystemLogger;
  /** The master died (before any restart). */
  onDeath?: (pid: number, cause: string) => void;
  /** A master is running (started, restarted or adopted). */
  onStarted?: (pid: number, how: 'started' | 'adopted') => void;
  now?: () => number;
}

export type StartOutcome = { ok: true; pid: number; adopted: boolean } | { ok: false; error: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Keeps one Nginx master running on the rendered config: adopts a running one (a twinvip restart
 * must not restart the proxy), otherwise starts it by absolute path in the foreground as our
 * child, notices its death (child exit, or /proc state for an adopted master: `kill -0` succeeds
 * on a zombie), restarts it with exponential back-off, and stops it gracefully (SIGQUIT) unless
 * told to keep it running.
 */
export class NginxSupervisor {
  private settings: NginxSettings;
  private readonly paths: PrefixPaths;
  private readonly log: SubsystemLogger;
  private readonly now: () => number;
  private child: ChildProcess | undefined;
  private masterPid: number | undefined;
  private masterSince = 0;
  private adopted = false;
  private watchTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private consecutiveFailures = 0;
  private active = false;
  private handlingDeath = false;
  readonly counters = { starts: 0, deaths: 0, restarts: 0, start_failures: 0, orphans_killed: 0 };
  lastDeath: { pid: number; cause: string; at: number } | undefined;

  constructor(private readonly opts: SupervisorOptions) {
    this.settings = opts.settings;
    this.paths = opts.paths;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
  }

  get pid(): number | undefined {
    return this.masterPid;
  }

  get isAdopted(): boolean {
    return this.adopted;
  }

  /** True while a master is believed alive (the watch loop corrects it within one interval). */
  get alive(): boolean {
    return this.masterPid !== undefined;
  }

  updateSettings(settings: NginxSettings): void {
    this.settings = settings;
  }

  async start(): Promise<StartOutcome> {
    this.active = true;
    const existing = await readPidFile(this.paths.pid);
    if (existing !== undefined && (await isLiveMaster(existing))) {
      this.masterPid = existing;
      this.masterSince = this.now();
      this.adopted = true;
      this.log.info(`adopted the running Nginx master ${existing}`);
      this.opts.onStarted?.(existing, 'adopted');
      this.watch();
      return { ok: true, pid: existing, adopted: true };
    }
    const r = await this.spawnMaster();
    this.watch();
    if (!r.ok) this.scheduleRestart(r.error);
    return r;
  }

  private async spawnMaster(): Promise<StartOutcome> {
    await this.killOrphans('before start');
    this.counters.starts++;
    let errFd: number | undefined;
    let child: ChildProcess;
    try {
      errFd = openSync(this.paths.stderrLog, 'a');
      // Foreground (`daemon off`) so it is our child and its exit is an event; detached so a
      // signal to twinvip's process group (Ctrl-C) does not reach it.
      child = spawn(this.settings.binary, ['-p', `${this.settings.prefix}/`, '-c', this.paths.conf, '-g', 'daemon off;'], {
        detached: true,
        stdio: ['ignore', 'ignore', errFd],
      });
    } catch (err) {
      this.counters.start_failures++;
      return { ok: false, error: `cannot start ${this.settings.binary}: ${(err as Error).message}` };
    } finally {
      if (errFd !== undefined) closeSync(errFd);
    }
    child.unref();
    const exited = new Promise<string>((resolve) => {
      child.once('error', (err) => resolve(`spawn failed: ${err.message}`));
      child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exited with code ${code}`));
    });
    const pid = child.pid;
    if (pid === undefined) {
      this.counters.start_failures++;
      return { ok: false, error: `cannot start ${this.settings.binary}: ${await exited}` };
    }
    // Up once the pid file names it: Nginx writes it after binding its sockets.
    const deadline = this.now() + 10_000;
    let outcome: string | undefined;
    void exited.then((c) => (outcome = c));
    while (outcome === undefined && this.now() < deadline) {
      if ((await readPidFile(this.paths.pid)) === pid) break;
      await sleep(50);
    }
    if (outcome !== undefined || this.now() >= deadline) {
      this.counters.start_failures++;
      if (outcome === undefined) process.kill(pid, 'SIGKILL');
      const why = outcome ?? 'no pid file within 10 s';
      return { ok: false, error: `Nginx did not start (${why}); see ${this.paths.errorLog} and ${this.paths.stderrLog}` };
    }
    this.child = child;
    this.masterPid = pid;
    this.masterSince = this.now();
    this.adopted = false;
    void exited.then((cause) => {
      if (this.child === child) void this.onDeath(pid, cause);
    });
    this.log.info(`Nginx master ${pid} started (${this.settings.binary} -p ${this.settings.prefix})`);
    this.opts.onStarted?.(pid, 'started');
    return { ok: true, pid, adopted: false };
  }

  private watch(): void {
    clearTimeout(this.watchTimer);
    if (!this.active) return;
    this.watchTimer = setTimeout(async () => {
      const pid = this.masterPid;
      if (pid !== undefined && !this.handlingDeath) {
        const state = await processState(pid);
        if (state !== 'running' && this.masterPid === pid) await this.onDeath(pid, state === 'zombie' ? 'zombie (dead, not reaped)' : 'gone');
      }
      this.watch();
    }, Math.max(200, this.settings.supervise.healthIntervalMs));
  }

  private async onDeath(pid: number, cause: string): Promise<void> {
    if (this.masterPid !== pid || this.handlingDeath) return;
    this.handlingDeath = true;
    try {
      this.masterPid = undefined;
      this.child = undefined;
      this.counters.deaths++;
      this.lastDeath = { pid, cause, at: this.now() };
      const lived = this.now() - this.masterSince;
      if (lived > 60_000) this.consecutiveFailures = 0;
      if (!this.active) return;
      this.log.error(`Nginx master ${pid} died (${cause}) after ${Math.round(lived / 1000)} s`);
      this.opts.onDeath?.(pid, cause);
      // Its workers outlive it (measured: a SIGKILLed master leaves them serving the old config and
      // holding the ports, so a new master could not bind).
      await this.killOrphans(`master ${pid} died`);
      this.scheduleRestart(cause);
    } finally {
      this.handlingDeath = false;
    }
  }

  private scheduleRestart(cause: string): void {
    if (!this.active) return;
    const s = this.settings.supervise;
    const delay = Math.min(s.restartMaxMs, s.restartMinMs * 2 ** this.consecutiveFailures);
    this.consecutiveFailures++;
    this.log.warn(`restarting Nginx in ${delay} ms (${cause}; attempt ${this.consecutiveFailures})`);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(async () => {
      if (!this.active || this.masterPid !== undefined) return;
      this.counters.restarts++;
      const r = await this.spawnMaster();
      if (!r.ok) {
        this.log.error(r.error);
        this.scheduleRestart(r.error);
      }
    }, delay);
  }

  /**
   * Nginx processes of this prefix whose master is gone: identified by an open file in our
   * logs directory (never by name alone, which would match another Nginx on the box).
   */
  async findOrphans(): Promise<number[]> {
    const out: number[] = [];
    let entries: string[];
    try {
      entries = await readdir('/proc');
    } catch {
      return out;
    }
    for (const e of entries) {
      if (!/^\d+$/.test(e)) continue;
      const pid = Number(e);
      if (pid === this.masterPid) continue;
      const cmd = await commandLine(pid);
      if (!cmd || !/^nginx: (worker|cache)/.test(cmd)) continue;
      const ppid = await parentPid(pid);
      if (ppid !== undefined && ppid === this.masterPid) continue;
      if (ppid !== undefined && (await isLiveMaster(ppid))) continue;
      if (await holdsFileUnder(pid, this.paths.logsDir)) out.push(pid);
    }
    return out;
  }

  private async killOrphans(why: string): Promise<void> {
    const orphans = await this.findOrphans();
    if (orphans.length === 0) return;
    this.log.warn(`killing ${orphans.length} orphaned Nginx worker(s) ${orphans.join(', ')} (${why})`);
    for (const pid of orphans) signal(pid, 'SIGTERM');
    const deadline = this.now() + 2000;
    while (this.now() < deadline) {
      const states = await Promise.all(orphans.map(processState));
      if (states.every((s) => s !== 'running')) break;
      await sleep(50);
    }
    for (const pid of orphans) if ((await processState(pid)) === 'running') signal(pid, 'SIGKILL');
    this.counters.orphans_killed += orphans.length;
  }

  private async waitGone(pid: number, ms: number): Promise<boolean> {
    const deadline = this.now() + ms;
    while (this.now() < deadline && (await processState(pid)) === 'running') await sleep(50);
    return (await processState(pid)) !== 'running';
  }

  /** Stops supervising; quits Nginx gracefully unless keep_running. */
  async stop(): Promise<void> {
    this.active = false;
    clearTimeout(this.watchTimer);
    clearTimeout(this.restartTimer);
    const pid = this.masterPid;
    if (pid === undefined) return;
    if (this.settings.keepRunning) {
      this.log.info(`leaving Nginx master ${pid} running (keep_running)`);
      return;
    }
    // The daemon stops Nginx last, after its VIPs are gone: a connection still open on a VIP
    // that moved to the twin cannot finish here (the client's packets go to the twin), yet a
    // graceful quit would wait worker_shutdown_timeout for it — longer than the daemon's own
    // stop deadline (seen under load: SIGTERM ended in "shutdown did not finish", exit 1).
    // So: graceful quit for a bounded grace, then Nginx's fast shutdown, then SIGKILL.
    const graceMs = Math.min(this.settings.workerShutdownTimeout * 1000, STOP_GRACE_MS);
    this.log.info(`stopping Nginx master ${pid} (graceful quit, up to ${graceMs} ms)`);
    signal(pid, 'SIGQUIT');
    if (!(await this.waitGone(pid, graceMs))) {
      this.log.warn(`Nginx master ${pid} still has connections after ${graceMs} ms; fast shutdown (SIGTERM)`);
      signal(pid, 'SIGTERM');
      if (!(await this.waitGone(pid, FAST_STOP_MS))) {
        this.log.warn(`Nginx master ${pid} did not stop in time; killing it`);
        signal(pid, 'SIGKILL');
      }
    }
    this.masterPid = undefined;
    this.child = undefined;
    await this.killOrphans('stop');
  }
}

/** Graceful-quit budget of a daemon stop; the whole stop must fit the daemon's stop deadline. */
const STOP_GRACE_MS = 3000;
/** How long Nginx's fast shutdown (SIGTERM) may take before SIGKILL. */
const FAST_STOP_MS = 1500;

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

async function holdsFileUnder(pid: number, dir: string): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target.startsWith(`${dir}/`)) return true;
  }
  return false;
}
