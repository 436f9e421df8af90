import type { DaemonContext, Extension } from '../daemon/extension';
import type { DaemonEvents } from '../daemon/events';
import { GroupNotifyTracker } from './group-tracker';
import { EmailAlerter, type MailSender } from './email';

export interface EmailExtensionOptions {
  /** Injected for tests; default SMTP through nodemailer. */
  send?: MailSender;
}

/**
 * E-mail alerts: transitions of instances (bus `transition`) and sync groups (from the members'
 * `notify` states, as the notify scripts see them) with smtp_alert, and every alarm (raised and
 * cleared), when the email section is configured.
 */
export class EmailExtension implements Extension {
  readonly name = 'email';
  private alerter: EmailAlerter | undefined;
  private readonly offs: (() => void)[] = [];
  private readonly groups = new GroupNotifyTracker();

  constructor(private readonly opts: EmailExtensionOptions = {}) {}

  start(ctx: DaemonContext): void {
    const email = ctx.config.email;
    if (!email) return;
    const log = ctx.logger.for('daemon');
    this.alerter = new EmailAlerter({
      config: email,
      nodeName: ctx.config.node.name,
      log: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
      ...(this.opts.send ? { send: this.opts.send } : {}),
    });
    const alerter = this.alerter;
    this.offs.push(ctx.counters.add('email', () => alerter.counters));
    this.offs.push(
      ctx.bus.on('transition', (t) => {
        if (ctx.config.instances[t.instance]?.smtp_alert) {
          alerter.push({ kind: 'transition', type: 'INSTANCE', name: t.instance, from: t.from, to: t.to, cause: t.cause, at: t.at });
        }
      }),
    );
    this.offs.push(
      ctx.bus.on('notify', (n) => {
        const groups = ctx.config.sync_groups;
        for (const { group, from, to } of this.groups.note(n.instance, n.state, groups)) {
          if (!groups[group]!.smtp_alert) continue;
          alerter.push({ kind: 'transition', type: 'GROUP', name: group, from: from ?? 'INIT', to, cause: `${n.instance}: ${n.cause}`, at: n.at });
        }
      }),
    );
    const onAlarm = (a: DaemonEvents['alarm']) =>
      alerter.push({ kind: 'alarm', id: a.id, active: a.active, severity: a.severity, message: a.message, at: a.at, ...(a.instance ? { instance: a.instance } : {}) });
    this.offs.push(ctx.bus.on('alarm', onAlarm));
    // Alarms raised before this feature started (Nginx control's certificate alarms at its start).
    for (const a of ctx.activeAlarms?.() ?? []) onAlarm(a);
  }

  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    if (this.alerter) {
      // A last mail for what happened just before shutdown, bounded in time.
      await Promise.race([this.alerter.flush(), new Promise((r) => setTimeout(r, 5000).unref())]);
      await this.alerter.stop();
    }
  }
}
