import { readSecretFile } from '../lib/secret-file';
import type { TwinvipConfig } from '../config';
import type { NotifyLog } from './runner';

export type EmailConfig = NonNullable<TwinvipConfig['email']>;

export type AlertEvent =
  | { kind: 'transition'; type: 'INSTANCE' | 'GROUP'; name: string; from: string; to: string; cause: string; at: number }
  | { kind: 'alarm'; id: string; active: boolean; severity: string; message: string; instance?: string; at: number };

export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

/** Sends one message; the default wraps a nodemailer SMTP transport. */
export type MailSender = (msg: MailMessage) => Promise<void>;

export interface EmailCounters {
  events: number;
  sent: number;
  failed: number;
  suppressed: number;
  [key: string]: number;
}

export interface EmailAlerterOptions {
  config: EmailConfig;
  nodeName: string;
  log: NotifyLog;
  /** Injected for tests; default: SMTP through nodemailer. */
  send?: MailSender;
  now?: () => number;
  /** Events kept while waiting for the rate limit; beyond it they are only counted. */
  maxPending?: number;
}

/** nodemailer transport options from the email section: STARTTLS policy, certificate check, AUTH, timeouts. */
export async function smtpSender(config: EmailConfig, nodeName: string): Promise<MailSender> {
  let pass = config.password;
  if (config.password_file !== undefined) {
    const r = await readSecretFile(config.password_file);
    if (!r.ok) throw new Error(`email.password_file: ${r.error}`);
    pass = r.value;
  }
  const timeoutMs = config.connect_timeout * 1000;
  // nodemailer (~20 MB resident once parsed) loads with the first mail, not with the daemon.
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host: config.smtp_server,
    port: config.smtp_port,
    // Implicit TLS (port 465) is not keepalived's world; STARTTLS covers submission on 25/587.
    secure: false,
    requireTLS: config.starttls === 'required',
    ignoreTLS: config.starttls === 'off',
    tls: { rejectUnauthorized: config.tls_verify },
    name: config.smtp_helo ?? nodeName,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs * 2,
    ...(config.username !== undefined ? { auth: { user: config.username, pass: pass ?? '' } } : {}),
  });
  return async (msg) => {
    await transport.sendMail({ from: msg.from, to: msg.to, subject: msg.subject, text: msg.text });
  };
}

const HOUR_MS = 3_600_000;

/**
 * keepalived's notification_email, without its blocking: events are queued and sent by a timer,
 * a burst within `coalesce` seconds becomes one mail, at most `max_per_hour` mails leave per hour
 * (the rest wait, bounded, and are summarised), and an SMTP failure is logged and counted —
 * never retried in a loop, never in the VRRP path.
 */
export class EmailAlerter {
  readonly counters: EmailCounters = { events: 0, sent: 0, failed: 0, suppressed: 0 };
  private pending: AlertEvent[] = [];
  private overflow = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private readonly sentAt: number[] = [];
  private sender: MailSender | undefined;
  private stopped = false;

  constructor(private readonly opts: EmailAlerterOptions) {
    if (opts.send) this.sender = opts.send;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Queues an event; returns at once. */
  push(event: AlertEvent): void {
    if (this.stopped) return;
    this.counters.events++;
    if (this.pending.length >= (this.opts.maxPending ?? 100)) {
      this.overflow++;
      this.counters.suppressed++;
    } else {
      this.pending.push(event);
    }
    this.schedule(this.opts.config.coalesce * 1000);
  }

  /** Sends whatever is pending now (ignoring the coalesce delay, not the hourly limit). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.sendPending();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.sending;
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sendPending();
    }, delayMs);
    this.timer.unref();
  }

  private async sendPending(): Promise<void> {
    if (this.sending) {
      await this.sending;
      if (this.pending.length === 0) return;
    }
    if (this.pending.length === 0) return;
    const now = this.now();
    while (this.sentAt.length > 0 && (this.sentAt[0] as number) <= now - HOUR_MS) this.sentAt.shift();
    if (this.sentAt.length >= this.opts.config.max_per_hour) {
      // Wait for the oldest mail of the hour to age out; events keep gathering meanwhile.
      this.schedule((this.sentAt[0] as number) + HOUR_MS - now + 10);
      return;
    }
    const events = this.pending;
    const overflow = this.overflow;
    this.pending = [];
    this.overflow = 0;
    this.sentAt.push(now);
    const msg = composeMail(this.opts.config, this.opts.nodeName, events, overflow);
    this.sending = (async () => {
      try {
        this.sender ??= await smtpSender(this.opts.config, this.opts.nodeName);
        await this.sender(msg);
        this.counters.sent++;
        this.opts.log.info(`e-mail sent to ${msg.to.join(', ')}: ${msg.subject}`);
      } catch (err) {
        this.counters.failed++;
        this.opts.log.error(`e-mail to ${this.opts.config.smtp_server}:${this.opts.config.smtp_port} failed (${events.length} event(s) lost): ${(err as Error).message}`);
      } finally {
        this.sending = undefined;
      }
    })();
    await this.sending;
  }
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function describe(e: AlertEvent): string {
  if (e.kind === 'transition') {
    return `${stamp(e.at)}  ${e.type === 'GROUP' ? 'VRRP sync group' : 'VRRP instance'} ${e.name}: ${e.from} -> ${e.to} (${e.cause})`;
  }
  return `${stamp(e.at)}  alarm ${e.id} ${e.active ? 'RAISED' : 'cleared'} [${e.severity}]${e.instance ? ` ${e.instance}` : ''}: ${e.message}`;
}

/** Subject and body; a single transition reads like keepalived's "[router_id] VRRP Instance X - Entering MASTER state". */
export function composeMail(config: EmailConfig, node: string, events: readonly AlertEvent[], suppressed = 0): MailMessage {
  let subject: string;
  const first = events[0] as AlertEvent;
  if (events.length === 1 && first.kind === 'transition') {
    subject = `[${node}] VRRP ${first.type === 'GROUP' ? 'Group' : 'Instance'} ${first.name} - Entering ${first.to} state`;
  } else if (events.length === 1 && first.kind === 'alarm') {
    subject = `[${node}] alarm ${first.id} ${first.active ? 'raised' : 'cleared'}: ${first.message}`;
  } else {
    const names = [...new Set(events.map((e) => (e.kind === 'transition' ? `${e.name} ${e.to}` : `alarm ${e.id}`)))];
    subject = `[${node}] ${events.length} events: ${names.slice(0, 4).join(', ')}${names.length > 4 ? ', ...' : ''}`;
  }
  const lines = [`twinvip on ${node}:`, '', ...events.map(describe)];
  if (suppressed > 0) lines.push('', `${suppressed} further event(s) were not listed (too many at once).`);
  return { from: config.from, to: [...config.to], subject, text: `${lines.join('\n')}\n` };
}
