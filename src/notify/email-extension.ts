import type { DaemonContext, Extension } from '../daemon/extension';
import type { DaemonEvents } from '../daemon/events';
import type { NotifyState } from '../vrrp/events';
import { groupNotifyState } from '../vrrp/sync-group';
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
  private readonly members = new Map<string, NotifyState>();
  private readonly groups = new Map<string, string>();

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
        this.members.set(n.instance, n.state);
        for (const [group, sg] of Object.entries(ctx.config.sync_groups)) {
          if (!sg.smtp_alert || !sg.instances.includes(n.instance)) continue;
          const state = groupNotifyState(sg.instances.map((m) => this.members.get(m)));
          const before = this.groups.get(group);
          if (state === undefined || state === before) continue;
          this.groups.set(group, state);
          alerter.push({ kind: 'transition', type: 'GROUP', name: group, from: before ?? 'INIT', to: state, cause: `${n.instance}: ${n.cause}`, at: n.at });
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
