// The console as a daemon feature: the shell on the serial console port (when configured) and on
// the control socket, reading the other parts through the ports the daemon wires.
import { formatIssues, loadConfigOnBox, type TwinvipConfig } from '../config';
import { readSecretFileSync } from '../lib/secret-file';
import type { DaemonContext, Extension, FeatureStatus } from '../daemon';
import type { SubsystemLogger } from '../log';
import { VERSION } from '../version';
import { ActionGuard } from './action-guard';
import type { ShellServices } from './commands';
import { registerConsoleCommand } from './control-transport';
import type { ActionsPort, ConsoleView, PeerLink } from './ports';
import { newSerialConsoleCounters, SerialConsole, type SerialConsoleCounters } from './serial-transport';
// The shell (commands, rendering, line editor) is imported with the first session, serial or
// over the control socket: a box nobody logs into never loads it.
import type { Access, Shell } from './shell';
import { newConsoleCounters, type ConsoleCounters } from './counters';
import { takeSnapshot, type ConsoleSnapshot } from './snapshot';

export interface ConsoleWiring {
  view?: ConsoleView;
  /** The serial heartbeat's request channel (a getter, when the link starts after the console). */
  peer?: PeerLink | (() => PeerLink | undefined);
  /** The split-brain diagnosis as text (src/diagnose/): the `diagnose` command. */
  diagnose?: () => Promise<string>;
  /** Maintenance and failover; `reload` defaults to the daemon's own reload. */
  actions?: ActionsPort;
  /** Epoch ms clock; injectable for tests. */
  now?: () => number;
}

export class ConsoleExtension implements Extension {
  readonly name = 'console';
  readonly counters: ConsoleCounters = newConsoleCounters();
  readonly serialCounters: SerialConsoleCounters = newSerialConsoleCounters();
  private ctx: DaemonContext | undefined;
  private log: SubsystemLogger | undefined;
  private serial: SerialConsole | undefined;
  private serialKey = '';
  private undo: (() => void)[] = [];
  private guard: ActionGuard | undefined;
  private shellClass: typeof Shell | undefined;
  private shellLoading: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly wiring: ConsoleWiring = {}) {
    this.now = wiring.now ?? Date.now;
  }

  /** The serial console now serving, if any (tests reach its shell through it). */
  get serialConsole(): SerialConsole | undefined {
    return this.serial;
  }

  async start(ctx: DaemonContext): Promise<void> {
    this.ctx = ctx;
    this.log = ctx.logger.for('console');
    this.guard = new ActionGuard(this.now, () => this.wiring.actions?.inProgress?.());
    this.undo.push(ctx.counters.add('console', () => ({ ...this.counters, ...this.serialCounters })));
    this.undo.push(registerConsoleCommand(ctx.control, (write) => this.makeShell(write, 'local', { kind: 'full' }), this.now, () => this.loadShell()));
    if (serialKey(ctx.config) !== '') await this.loadShell();
    this.applySerialConfig(ctx.config);
  }

  /** Imports the shell's module once; every session after the first finds it loaded. */
  private loadShell(): Promise<void> {
    this.shellLoading ??= import('./shell').then((m) => {
      this.shellClass = m.Shell;
    });
    return this.shellLoading;
  }

  /**
   * The serial console is optional by design: a missing console adapter must not stop the HA
   * service, so its port is retried with back-off and the state says `waiting` with the reason.
   */
  featureStatus(): FeatureStatus | undefined {
    const dev = this.ctx?.config.console.device;
    if (!this.serial || dev === undefined) return undefined;
    return this.serial.isOpen ? { state: 'running', detail: `serial console on ${dev}` } : { state: 'waiting', detail: `serial console ${dev}: ${this.serial.failure || 'opening'}` };
  }

  async stop(): Promise<void> {
    await this.serial?.stop();
    this.serial = undefined;
    this.serialKey = '';
    for (const u of this.undo.reverse()) u();
    this.undo = [];
  }

  async onConfigReloaded(ctx: DaemonContext): Promise<void> {
    const key = serialKey(ctx.config);
    if (key === this.serialKey) return;
    if (key !== '') await this.loadShell();
    await this.serial?.stop();
    this.serial = undefined;
    this.serialKey = '';
    this.applySerialConfig(ctx.config);
  }

  /** This node's status screen as JSON: what the twin's `peer` shows. Wire it into the heartbeat's onRequest. */
  snapshot(): ConsoleSnapshot {
    const ctx = this.mustCtx();
    const st = ctx.status();
    return takeSnapshot({ node: st.node, version: st.version, uptimeS: st.uptime_s, configHash: st.config.hash, instances: st.instances, configuredInstances: Object.keys(ctx.config.instances).length, degraded: st.health?.reasons ?? [] }, this.wiring.view ?? {});
  }

  /** The serial link's request handler for the console's part: returns undefined for other requests. */
  answerPeerRequest(what: string): string | undefined {
    return what === 'console-status' ? JSON.stringify(this.snapshot()) : undefined;
  }

  private applySerialConfig(config: TwinvipConfig): void {
    const c = config.console;
    if (!c.enabled || c.device === undefined) return;
    const access = consoleAccess(c, (m) => this.log?.error(m));
    this.serial = new SerialConsole({
      path: c.device,
      baudRate: c.baud,
      idleTimeoutMs: c.idle_timeout * 1000,
      counters: this.serialCounters,
      log: (level, msg) => this.log?.[level](msg),
      makeShell: (write) => this.makeShell(write, 'serial', access),
    });
    this.serialKey = serialKey(config);
    this.serial.start();
  }

  private makeShell(write: (text: string) => void, transport: 'serial' | 'local', access: Access): Shell {
    const serial = transport === 'serial';
    // Loaded before any transport can ask: start()/a reload for the serial console, the control
    // command's `prepare` for a local session.
    const Shell = this.shellClass;
    if (!Shell) throw new Error('console shell used before its module was loaded');
    return new Shell({
      services: this.services(),
      write,
      transport,
      echo: serial,
      newline: serial ? '\r\n' : '\n',
      showPrompt: serial,
      access,
      counters: this.counters,
      version: VERSION,
      log: (level, msg) => this.log?.[level](msg),
    });
  }

  private services(): ShellServices {
    const ctx = this.mustCtx();
    const guard = this.guard!;
    const wired = this.wiring.actions ?? {};
    const actions: ActionsPort = {
      ...wired,
      reload: wired.reload ?? (async (cause) => {
        const r = await ctx.reload(cause);
        if (!r.ok) return { ok: false, error: `config refused, running config ${r.keptHash} kept:\n${r.errors.join('\n')}` };
        return { ok: true, message: r.changed ? `config ${r.oldHash} -> ${r.newHash}` : `config unchanged (${r.newHash})` };
      }),
    };
    return {
      snapshot: () => this.snapshot(),
      counters: () => ctx.counters.snapshot(),
      recentLog: (n) => ctx.logger.recent(n),
      checkConfig: () => checkConfigFile(ctx.configPath, ctx.configHash),
      peer: () => (typeof this.wiring.peer === 'function' ? this.wiring.peer() : this.wiring.peer),
      ...(this.wiring.diagnose ? { diagnose: this.wiring.diagnose } : {}),
      actions,
      guard,
      now: this.now,
    };
  }

  private mustCtx(): DaemonContext {
    if (!this.ctx) throw new Error('console used before start()');
    return this.ctx;
  }
}

function serialKey(config: TwinvipConfig): string {
  const c = config.console;
  return c.enabled && c.device !== undefined ? JSON.stringify([c.device, c.baud, c.password ?? null, c.password_file ?? null, c.idle_timeout]) : '';
}

/** Password access from console.password or its file; a file that cannot be read leaves the console read-only (fail closed). */
export function consoleAccess(c: TwinvipConfig['console'], error: (msg: string) => void): Access {
  if (c.password_file !== undefined) {
    const r = readSecretFileSync(c.password_file);
    if (r.ok) return { kind: 'password', password: r.value };
    error(`console.password_file: ${r.error}; guarded actions refused (read-only console)`);
    return { kind: 'read-only' };
  }
  return c.password === undefined ? { kind: 'read-only' } : { kind: 'password', password: c.password };
}

/** `config check`: the file on disk through the same loader as a reload, nothing applied. */
export async function checkConfigFile(path: string, runningHash: string): Promise<string> {
  const r = await loadConfigOnBox(path);
  if (!r.ok) return `${path}: ${r.errors.length} error(s); a reload would be refused and ${runningHash} kept:\n${formatIssues(r.errors, path)}`;
  const same = r.hash === runningHash ? 'the same as the running config' : `differs from the running ${runningHash}: 'reload' applies it`;
  const lines = [`${path}: valid (hash ${r.hash}), ${same}`];
  if (r.warnings.length > 0) lines.push(`${r.warnings.length} warning(s):`, formatIssues(r.warnings, path));
  return lines.join('\n');
}
