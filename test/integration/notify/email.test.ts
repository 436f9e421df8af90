import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config';
import { CounterRegistry, EventBus, type DaemonContext } from '../../../src/daemon';
import { Logger, memorySink } from '../../../src/log';
import { EmailAlerter, EmailExtension, type EmailConfig } from '../../../src/notify';
import { waitFor } from '../../helpers/wait';

// A real SMTP server (nodemailer's smtp-server, in process, on 127.0.0.1, a free port): the
// client's whole dialogue (EHLO, STARTTLS with smtp-server's built-in certificate, AUTH PLAIN,
// MAIL FROM, RCPT TO, DATA) runs for real. In process rather than a Debian MTA: no root-owned
// daemon, spool or port 25 to manage, and the test sees the envelope directly.
interface Received {
  from: string;
  to: string[];
  raw: string;
  secure: boolean;
  user?: string;
}

const servers: SMTPServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function startServer(opts: Partial<SMTPServerOptions> = {}): Promise<{ port: number; mails: Received[] }> {
  const mails: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    logger: false,
    ...opts,
    onData(stream, session, cb) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (raw += d));
      stream.on('end', () => {
        const mail: Received = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          secure: session.secure,
        };
        if (typeof session.user === 'string') mail.user = session.user;
        mails.push(mail);
        cb();
      });
    },
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return { port, mails };
}

/** The message as a reader sees it: headers unfolded (RFC 5322 2.2.3), quoted-printable body decoded. */
function readable(raw: string): { subject: string; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  let body = raw.slice(split + 4);
  if (/^Content-Transfer-Encoding: quoted-printable/im.test(head)) {
    body = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
  const subject = /^Subject: (.*)$/im.exec(head)?.[1]?.trim() ?? '';
  return { subject, body: body.replace(/\r\n/g, '\n') };
}

const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

function emailConfig(port: number, extra: Partial<EmailConfig> = {}): EmailConfig {
  return {
    smtp_server: '127.0.0.1', smtp_port: port, from: 'lb-a@example.net', to: ['ops@example.net', 'noc@example.net'],
    connect_timeout: 5, starttls: 'opportunistic', tls_verify: false, coalesce: 0.05, max_per_hour: 60, ...extra,
  };
}

describe('e-mail alerts against a real SMTP server', () => {
  it('plain SMTP: subject, body, sender and both recipients arrive', async () => {
    const srv = await startServer({ disabledCommands: ['STARTTLS', 'AUTH'] });
    const a = new EmailAlerter({ config: emailConfig(srv.port, { starttls: 'off' }), nodeName: 'lb-a', log: quietLog });
    a.push({ kind: 'transition', type: 'INSTANCE', name: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'master down, 1204 ms', at: Date.UTC(2025, 4, 6, 7, 8, 9) });
    await waitFor(() => srv.mails.length === 1, { what: 'the mail' });
    const m = srv.mails[0] as Received;
    expect(m.from).toBe('lb-a@example.net');
    expect(m.to).toEqual(['ops@example.net', 'noc@example.net']);
    expect(readable(m.raw).subject).toBe('[lb-a] VRRP Instance VI_1 - Entering MASTER state');
    expect(readable(m.raw).body).toContain('2025-05-06 07:08:09 UTC  VRRP instance VI_1: BACKUP -> MASTER (master down, 1204 ms)');
    expect(m.secure).toBe(false);
    await waitFor(() => a.counters.sent >= 1, { what: 'the send counted' });
    expect(a.counters).toMatchObject({ sent: 1, failed: 0 });
    await a.stop();
  });

  it('STARTTLS required and AUTH: the session is encrypted and authenticated', async () => {
    let authTried = '';
    const srv = await startServer({
      authOptional: false,
      onAuth(auth, _session, cb) {
        authTried = `${auth.username}/${auth.password}`;
        if (auth.username === 'ha' && auth.password === 'sekret') cb(null, { user: 'ha' });
        else cb(new Error('bad credentials'));
      },
    });
    const a = new EmailAlerter({ config: emailConfig(srv.port, { starttls: 'required', username: 'ha', password: 'sekret' }), nodeName: 'lb-a', log: quietLog });
    a.push({ kind: 'alarm', id: 'ethernet-heartbeat-lost', active: true, severity: 'critical', message: 'no advert for 1.2 s, serial alive', instance: 'VI_1', at: 0 });
    await waitFor(() => srv.mails.length === 1, { what: 'the mail' });
    expect(authTried).toBe('ha/sekret');
    expect(srv.mails[0]).toMatchObject({ secure: true, user: 'ha' });
    expect(readable(srv.mails[0]?.raw ?? '').subject).toBe('[lb-a] alarm ethernet-heartbeat-lost raised: no advert for 1.2 s, serial alive');
    await a.stop();
  });

  it('wrong password: the failure is logged and counted, nothing hangs', async () => {
    const srv = await startServer({ authOptional: false, onAuth: (_a, _s, cb) => cb(new Error('bad credentials')) });
    const errors: string[] = [];
    const a = new EmailAlerter({ config: emailConfig(srv.port, { username: 'ha', password: 'wrong' }), nodeName: 'n', log: { ...quietLog, error: (m: string) => void errors.push(m) } });
    a.push({ kind: 'transition', type: 'INSTANCE', name: 'VI_1', from: 'MASTER', to: 'FAULT', cause: 'lan0 down', at: 0 });
    await waitFor(() => a.counters.failed === 1, { what: 'the counted failure' });
    expect(errors[0]).toMatch(/e-mail to 127\.0\.0\.1:\d+ failed \(1 event\(s\) lost\)/);
    expect(srv.mails).toHaveLength(0);
    await a.stop();
  });

  it('no server listening: connection refused is counted, not thrown', async () => {
    const srv = await startServer();
    const port = srv.port;
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
    const a = new EmailAlerter({ config: emailConfig(port), nodeName: 'n', log: quietLog });
    a.push({ kind: 'transition', type: 'INSTANCE', name: 'VI_1', from: 'MASTER', to: 'BACKUP', cause: 'higher priority', at: 0 });
    await waitFor(() => a.counters.failed === 1, { what: 'the counted failure' });
    await a.stop();
  });

  it('EmailExtension: smtp_alert instances, the sync group and alarms, a burst coalesced into one mail', async () => {
    const srv = await startServer({ disabledCommands: ['STARTTLS'] });
    const parsed = parseConfigText(JSON.stringify({
      node: { name: 'lb-b' },
      email: { smtp_server: '127.0.0.1', smtp_port: srv.port, from: 'lb-b@example.net', to: ['ops@example.net'], coalesce: 0.3 },
      instances: {
        VI_1: { interface: 'lan0', vrid: 1, vips: ['192.0.2.1/24'], smtp_alert: true },
        VI_2: { interface: 'wan0', vrid: 2, vips: ['192.0.2.2/24'] },
      },
      sync_groups: { VG: { instances: ['VI_1', 'VI_2'], smtp_alert: true } },
    }));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const bus = new EventBus();
    const counters = new CounterRegistry();
    const ctx = { config: parsed.config, logger: new Logger({ sink: memorySink() }), bus, counters } as unknown as DaemonContext;
    const ext = new EmailExtension();
    ext.start(ctx);
    // As the VRRP runner puts them on the bus: each transition, then the core's notify action.
    bus.emit('transition', { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'master down, 1204 ms', at: 1 });
    bus.emit('notify', { instance: 'VI_1', state: 'MASTER', priority: 100, cause: 'master down, 1204 ms', at: 1 });
    bus.emit('transition', { instance: 'VI_2', from: 'BACKUP', to: 'MASTER', cause: 'sync group', at: 2 });
    bus.emit('notify', { instance: 'VI_2', state: 'MASTER', priority: 100, cause: 'sync group', at: 2 });
    bus.emit('alarm', { id: 'serial-heartbeat-lost', active: true, severity: 'warning', message: 'no frames', at: 3 });
    await waitFor(() => srv.mails.length === 1, { what: 'one coalesced mail' });
    const { subject, body: raw } = readable(srv.mails[0]?.raw ?? '');
    expect(subject).toBe('[lb-b] 3 events: VI_1 MASTER, VG MASTER, alarm serial-heartbeat-lost');
    expect(raw).toContain('VRRP instance VI_1: BACKUP -> MASTER (master down, 1204 ms)');
    expect(raw).toContain('VRRP sync group VG: INIT -> MASTER');
    expect(raw).not.toContain('VRRP instance VI_2'); // VI_2 has no smtp_alert
    // The server has the mail before the client has read the server's final answer.
    await waitFor(() => (counters.snapshot().email?.sent ?? 0) >= 1, { what: 'the send counted' });
    expect(counters.snapshot().email).toMatchObject({ events: 3, sent: 1 });
    await ext.stop();
  });
});
