import { afterEach, describe, expect, it, vi } from 'vitest';
import { composeMail, EmailAlerter, notifyJobs, type AlertEvent, type EmailConfig, type MailMessage } from '../../../src/notify';

describe('notifyJobs: keepalived arguments', () => {
  const block = { master: '/x/master.sh a', notify: ['/x/any.sh', 'fixed arg'] };
  it('state script with its own arguments only, then notify with TYPE NAME STATE PRIORITY', () => {
    expect(notifyJobs('INSTANCE', 'VI_1', 'MASTER', 150, block)).toEqual([
      { argv: ['/x/master.sh', 'a'], label: 'VI_1 notify_master' },
      { argv: ['/x/any.sh', 'fixed arg', 'INSTANCE', 'VI_1', 'MASTER', '150'], label: 'VI_1 notify' },
    ]);
  });
  it('a group passes priority 0; a state without its own script runs notify only', () => {
    expect(notifyJobs('GROUP', 'VG', 'BACKUP', 0, block)).toEqual([{ argv: ['/x/any.sh', 'fixed arg', 'GROUP', 'VG', 'BACKUP', '0'], label: 'VG notify' }]);
  });
});

const EMAIL: EmailConfig = {
  smtp_server: '127.0.0.1', smtp_port: 25, from: 'ha@example.net', to: ['ops@example.net'], connect_timeout: 5,
  starttls: 'opportunistic', tls_verify: true, coalesce: 5, max_per_hour: 2,
};
const tr = (name: string, to: string, at = 0): AlertEvent => ({ kind: 'transition', type: 'INSTANCE', name, from: 'BACKUP', to, cause: 'master down, 1204 ms', at });
const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

describe('e-mail composition', () => {
  it('one transition reads like keepalived', () => {
    const m = composeMail(EMAIL, 'lb-a', [tr('VI_1', 'MASTER', Date.UTC(2025, 0, 2, 3, 4, 5))]);
    expect(m.subject).toBe('[lb-a] VRRP Instance VI_1 - Entering MASTER state');
    expect(m.text).toContain('2025-01-02 03:04:05 UTC  VRRP instance VI_1: BACKUP -> MASTER (master down, 1204 ms)');
    expect(m.to).toEqual(['ops@example.net']);
  });
  it('a burst names its events; an alarm says raised or cleared', () => {
    const m = composeMail(EMAIL, 'n', [tr('VI_1', 'MASTER'), { kind: 'alarm', id: 'serial-heartbeat-lost', active: true, severity: 'warning', message: 'no frames for 600 ms', at: 0 }], 3);
    expect(m.subject).toBe('[n] 2 events: VI_1 MASTER, alarm serial-heartbeat-lost');
    expect(m.text).toMatch(/alarm serial-heartbeat-lost RAISED \[warning\]: no frames for 600 ms/);
    expect(m.text).toMatch(/3 further event\(s\)/);
  });
});

describe('EmailAlerter: never blocks, coalesces, caps per hour, counts failures', () => {
  afterEach(() => vi.useRealTimers());
  it('coalesces a burst into one mail after the coalesce delay', async () => {
    vi.useFakeTimers();
    const sent: MailMessage[] = [];
    const a = new EmailAlerter({ config: EMAIL, nodeName: 'n', log: quietLog, send: async (m) => void sent.push(m), now: () => Date.now() });
    a.push(tr('VI_1', 'MASTER'));
    a.push(tr('VI_2', 'MASTER'));
    a.push(tr('VI_3', 'BACKUP'));
    expect(sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject).toBe('[n] 3 events: VI_1 MASTER, VI_2 MASTER, VI_3 BACKUP');
    expect(a.counters).toMatchObject({ events: 3, sent: 1, failed: 0 });
  });
  it('holds mails beyond max_per_hour and sends them once the hour frees a slot', async () => {
    vi.useFakeTimers();
    const sent: MailMessage[] = [];
    const a = new EmailAlerter({ config: EMAIL, nodeName: 'n', log: quietLog, send: async (m) => void sent.push(m), now: () => Date.now() });
    for (let i = 0; i < 3; i++) {
      a.push(tr(`VI_${i}`, 'MASTER'));
      await vi.advanceTimersByTimeAsync(6000);
    }
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(sent).toHaveLength(3);
    expect(sent[2]?.subject).toContain('VI_2');
  });
  it('a failing SMTP send is logged and counted, and the next one still goes', async () => {
    vi.useFakeTimers();
    const errors: string[] = [];
    let fail = true;
    const a = new EmailAlerter({
      config: EMAIL, nodeName: 'n', log: { ...quietLog, error: (m: string) => void errors.push(m) },
      send: async () => { if (fail) throw new Error('connect ECONNREFUSED 127.0.0.1:25'); },
    });
    a.push(tr('VI_1', 'MASTER'));
    await vi.advanceTimersByTimeAsync(5000);
    expect(a.counters.failed).toBe(1);
    expect(errors[0]).toMatch(/e-mail to 127\.0\.0\.1:25 failed \(1 event\(s\) lost\): connect ECONNREFUSED/);
    fail = false;
    a.push(tr('VI_1', 'BACKUP'));
    await vi.advanceTimersByTimeAsync(5000);
    expect(a.counters.sent).toBe(1);
  });
});
