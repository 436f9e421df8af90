import { describe, expect, it } from 'vitest';
import { errnoFromText, startFailure } from '../../../src/lib/feature-failure';
import { openError } from '../../../src/lib/serial-port';
import { statusLine } from '../../../src/daemon';

describe('start failure lines', () => {
  it("keep the addon's message when it names the call and the errno", () => {
    const err = Object.assign(new Error('va: VRRP socket (IPv4): socket EPERM (Operation not permitted)'), { code: 'EPERM', syscall: 'socket' });
    expect(startFailure('vrrp', err)).toEqual({
      feature: 'vrrp',
      line: "feature 'vrrp' cannot start: va: VRRP socket (IPv4): socket EPERM (Operation not permitted)",
      call: 'socket',
      errno: 'EPERM',
    });
  });

  it('add the call and errno a message lacks, and keep a multi-line message on one line', () => {
    const err = Object.assign(new Error('spawn failed\nsee the log'), { code: 'ENOENT', syscall: 'spawn /usr/sbin/nginx' });
    expect(startFailure('nginx', err).line).toBe("feature 'nginx' cannot start: spawn failed; see the log (spawn /usr/sbin/nginx ENOENT)");
    expect(startFailure('x', 'plain text').line).toBe("feature 'x' cannot start: plain text");
  });

  it("name serialport's open failures by call and errno", () => {
    expect(openError('/tmp/d', new Error('Error: Is a directory, cannot open /tmp/d')).message).toBe('open /tmp/d EISDIR (Is a directory)');
    expect(openError('/dev/ttyS9', new Error('Error: No such file or directory, cannot open /dev/ttyS9'))).toMatchObject({ call: 'open /dev/ttyS9', errno: 'ENOENT' });
    expect(openError('/dev/null', new Error('Error: Inappropriate ioctl for device setting custom baud rate of 115200')).message).toBe(
      'configure /dev/null ENOTTY (Inappropriate ioctl for device setting custom baud rate of 115200)',
    );
    expect(errnoFromText('something else entirely')).toBeUndefined();
  });
});

describe('systemd STATUS=', () => {
  const base = { node: 'box-a', instances: [{ name: 'VI_1', state: 'FAULT', priority: 150 }], config: { path: '', hash: 'ab12', loaded_at: '', reloads: 0, refused_reloads: 0 } };
  it('ends with "degraded: <reason>" while a feature is broken', () => {
    expect(statusLine({ ...base, health: { state: 'ok', reasons: [] } })).toBe('box-a: VI_1 FAULT (150); config ab12');
    expect(statusLine({ ...base, health: { state: 'degraded', reasons: ['lan0: sendmsg EPERM; VI_1 in FAULT'] } })).toBe(
      'box-a: VI_1 FAULT (150); config ab12; degraded: lan0: sendmsg EPERM; VI_1 in FAULT',
    );
  });
});

describe('restart back-off under systemd', () => {
  it('doubles from 1 s up to 30 s', async () => {
    const { backoffMs } = await import('../../../src/daemon/start-backoff');
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
});
