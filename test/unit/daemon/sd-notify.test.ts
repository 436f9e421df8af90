// sd_notify messages and the watchdog schedule, with a recording sender and fake timers. The real
// datagram path (addon -> unix socket) is proven in test/integration/image/sd-notify.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNotifier, parseNotifyEnv, statusLine } from '../../../src/daemon/sd-notify';
import { startWatchdog } from '../../../src/daemon/watchdog';

function recorder() {
  const sent: { socket: string; message: string }[] = [];
  return { sent, send: (socket: string, message: string) => void sent.push({ socket, message }) };
}

describe('parseNotifyEnv', () => {
  it('takes absolute and abstract sockets, refuses relative or bare "@"', () => {
    expect(parseNotifyEnv({ NOTIFY_SOCKET: '/run/systemd/notify' }, 1).socket).toBe('/run/systemd/notify');
    expect(parseNotifyEnv({ NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify/123' }, 1).socket).toBe('@/org/freedesktop/systemd1/notify/123');
    expect(parseNotifyEnv({ NOTIFY_SOCKET: 'relative/sock' }, 1).socket).toBeUndefined();
    expect(parseNotifyEnv({ NOTIFY_SOCKET: '@' }, 1).socket).toBeUndefined();
    expect(parseNotifyEnv({}, 1).socket).toBeUndefined();
  });

  it('honours WATCHDOG_PID like sd_watchdog_enabled(3)', () => {
    expect(parseNotifyEnv({ WATCHDOG_USEC: '10000000' }, 42).watchdogUsec).toBe(10_000_000);
    expect(parseNotifyEnv({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '42' }, 42).watchdogUsec).toBe(10_000_000);
    expect(parseNotifyEnv({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '7' }, 42).watchdogUsec).toBeUndefined();
    expect(parseNotifyEnv({ WATCHDOG_USEC: 'ten' }, 42).watchdogUsec).toBeUndefined();
    expect(parseNotifyEnv({ WATCHDOG_USEC: '0' }, 42).watchdogUsec).toBeUndefined();
  });
});

describe('createNotifier', () => {
  it('sends nothing (and warns nothing) when NOTIFY_SOCKET is unset', () => {
    const r = recorder();
    const warn = vi.fn();
    const n = createNotifier({ WATCHDOG_USEC: '2000000' }, warn, { send: r.send, pid: 1 });
    n.ready('up');
    n.status('x');
    n.stopping('bye');
    const stop = n.startWatchdog();
    stop();
    expect(n.enabled).toBe(false);
    expect(r.sent).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('READY, STATUS and STOPPING messages; STATUS kept on one line', () => {
    const r = recorder();
    const n = createNotifier({ NOTIFY_SOCKET: '@sd' }, () => {}, { send: r.send, pid: 1 });
    n.ready('box-a: VI_1 BACKUP (100); config ab');
    n.status('two\nlines');
    n.stopping('stopping (SIGTERM)');
    expect(r.sent).toEqual([
      { socket: '@sd', message: 'READY=1\nSTATUS=box-a: VI_1 BACKUP (100); config ab' },
      { socket: '@sd', message: 'STATUS=two lines' },
      { socket: '@sd', message: 'STOPPING=1\nSTATUS=stopping (SIGTERM)' },
    ]);
  });

  it('removes the variables from the environment so children do not inherit them', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1', KEEP: 'y' };
    createNotifier(env, () => {}, { send: () => {}, pid: 1 });
    expect(env).toEqual({ KEEP: 'y' });
  });

  it('a failing send never throws and warns once per cause', () => {
    const warn = vi.fn();
    const n = createNotifier({ NOTIFY_SOCKET: '/nope' }, warn, {
      pid: 1,
      send: () => {
        throw Object.assign(new Error('sendto ENOENT (No such file or directory)'), { code: 'ENOENT' });
      },
    });
    n.status('a');
    n.status('b');
    n.ready('c');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/sd_notify to \/nope failed: sendto ENOENT/);
  });
});

describe('watchdog', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('pings at half of WATCHDOG_USEC, first one right after start', () => {
    const r = recorder();
    const n = createNotifier({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '4000000' }, () => {}, { send: r.send, pid: 1 });
    expect(n.watchdogIntervalMs).toBe(2000);
    const stop = n.startWatchdog();
    vi.advanceTimersByTime(1); // the first setImmediate
    expect(r.sent.map((s) => s.message)).toEqual(['WATCHDOG=1']);
    vi.advanceTimersByTime(1998);
    expect(r.sent).toHaveLength(1);
    vi.advanceTimersByTime(2);
    expect(r.sent).toHaveLength(2);
    vi.advanceTimersByTime(2000 * 5);
    expect(r.sent).toHaveLength(7);
    stop();
    vi.advanceTimersByTime(20_000);
    expect(r.sent).toHaveLength(7);
  });

  it('no watchdog variables: startWatchdog sends nothing', () => {
    const r = recorder();
    const n = createNotifier({ NOTIFY_SOCKET: '/s' }, () => {}, { send: r.send, pid: 1 });
    n.startWatchdog();
    vi.advanceTimersByTime(60_000);
    expect(r.sent).toEqual([]);
  });

  it('withholds pings while the health check names a reason, and says so once each way', () => {
    let reason: string | undefined;
    const pings: number[] = [];
    const changes: (string | undefined)[] = [];
    const wd = startWatchdog({ intervalMs: 1000, ping: () => pings.push(Date.now()), health: () => reason, onHealthChange: (r) => changes.push(r) });
    vi.advanceTimersByTime(3001);
    expect(pings).toHaveLength(4);
    reason = 'advert timer 900 ms late';
    vi.advanceTimersByTime(3000);
    expect(pings).toHaveLength(4);
    reason = undefined;
    vi.advanceTimersByTime(1000);
    expect(pings).toHaveLength(5);
    expect(changes).toEqual(['advert timer 900 ms late', undefined]);
    wd.stop();
  });
});

describe('statusLine', () => {
  it('names every instance with state and priority, and the config hash', () => {
    expect(statusLine({ node: 'gw-a', config: { hash: 'abc123' } as never, instances: [{ name: 'VI_1', state: 'MASTER', priority: 150 }, { name: 'VI_2', state: 'BACKUP', priority: 100 }] })).toBe(
      'gw-a: VI_1 MASTER (150), VI_2 BACKUP (100); config abc123',
    );
    expect(statusLine({ node: 'gw-a', config: { hash: 'abc' } as never, instances: [] })).toBe('gw-a: no VRRP instances; config abc');
  });
});
