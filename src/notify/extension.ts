import { commandArgv, type CommandSpec, type TwinvipConfig } from '../config';
import type { DaemonContext, Extension } from '../daemon/extension';
import type { DaemonEvents } from '../daemon/events';
import type { NotifyState } from '../vrrp/events';
import { GroupNotifyTracker } from './group-tracker';
import { NotifyRunner, type NotifyLog } from './runner';
import { scriptPolicyFromConfig } from '../exec';

type Notify = DaemonEvents['notify'];
type NotifyBlock = TwinvipConfig['instances'][string]['notify'];

const STATE_FIELD: Record<NotifyState, keyof NotifyBlock> = { MASTER: 'master', BACKUP: 'backup', FAULT: 'fault', STOP: 'stop' };

/**
 * The jobs keepalived would run for one state change of an instance or group: the state's own
 * script with only its configured arguments, then `notify` with TYPE NAME STATE PRIORITY
 * appended (priority 0 for a group, as keepalived's notify_script_exec() documents).
 */
export function notifyJobs(type: 'INSTANCE' | 'GROUP', name: string, state: NotifyState, priority: number, block: NotifyBlock) {
  const jobs: { argv: string[]; label: string }[] = [];
  const own = block[STATE_FIELD[state]] as CommandSpec | undefined;
  if (own !== undefined) jobs.push({ argv: commandArgv(own), label: `${name} notify_${STATE_FIELD[state]}` });
  if (block.notify !== undefined) jobs.push({ argv: [...commandArgv(block.notify), type, name, state, String(priority)], label: `${name} notify` });
  return jobs;
}

export interface NotifyExtensionOptions {
  /** Injected for tests; default a runner built from ctx.config.notify at start(). */
  runner?: NotifyRunner;
}

/**
 * Runs the notify scripts of instances and sync groups on every `notify` bus event (the VRRP
 * core's notify action: its state, STOP included, is not recomputed here). The bus listener only
 * queues: the runner does the work off the VRRP path.
 */
export class NotifyExtension implements Extension {
  readonly name = 'notify';
  private runner: NotifyRunner | undefined;
  private readonly offs: (() => void)[] = [];
  private readonly groups = new GroupNotifyTracker();
  private ctx: DaemonContext | undefined;

  constructor(private readonly opts: NotifyExtensionOptions = {}) {}

  start(ctx: DaemonContext): void {
    this.ctx = ctx;
    const log = ctx.logger.for('daemon');
    const notifyLog: NotifyLog = { info: (m, f) => log.info(m, f), warn: (m, f) => log.warn(m, f), error: (m, f) => log.error(m, f) };
    const cfg = ctx.config.notify;
    this.runner =
      this.opts.runner ??
      new NotifyRunner({
        timeoutMs: cfg.timeout * 1000,
        scriptSecurity: cfg.enable_script_security,
        // The running configuration's policy at each run: a reload applies to notify scripts at once.
        policy: () => scriptPolicyFromConfig(ctx.config.notify),
        log: notifyLog,
      });
    const runner = this.runner;
    this.offs.push(ctx.counters.add('notify', () => runner.counters));
    this.offs.push(ctx.bus.on('notify', (n) => this.onNotify(n)));
  }

  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    // Queued STOP scripts get their chance to run before the runner is stopped.
    if (this.runner && !this.opts.runner) {
      const timeout = new Promise<void>((r) => setTimeout(r, 5000).unref());
      await Promise.race([this.runner.idle(), timeout]);
      await this.runner.stop();
    }
  }

  private onNotify(n: Notify): void {
    const ctx = this.ctx;
    const runner = this.runner;
    if (!ctx || !runner) return;
    const config = ctx.config;
    const inst = config.instances[n.instance];
    if (inst) {
      for (const job of notifyJobs('INSTANCE', n.instance, n.state, n.priority, inst.notify)) runner.enqueue({ key: `instance:${n.instance}`, ...job });
    }
    for (const { group, to } of this.groups.note(n.instance, n.state, config.sync_groups)) {
      for (const job of notifyJobs('GROUP', group, to, 0, config.sync_groups[group]!.notify)) runner.enqueue({ key: `group:${group}`, ...job });
    }
  }
}
