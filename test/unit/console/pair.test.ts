// The console's `pair` (issue #25): status without asking, start and the code as guarded actions
// (y/N), the code's format checked before anything is asked; and how an unpaired box's
// heartbeat reads in the console.
import { describe, expect, it } from 'vitest';
import type { ActionResult } from '../../../src/console';
import { unpairedText } from '../../../src/commands/run-views';
import { makeShell } from './harness';

function pairPort() {
  const calls: string[] = [];
  return {
    calls,
    port: {
      pair: async (action: string, code: string | undefined, cause: string): Promise<ActionResult> => {
        calls.push(`${action}${code ? ` ${code}` : ''} (${cause})`);
        if (action === 'confirm' && code !== '362069') return { ok: false, error: 'code mismatch: typed 123 456, this box computed another one' };
        return { ok: true, message: action === 'status' ? 'not paired: plain VRRP until paired' : `${action} done` };
      },
    },
  };
}

describe('console pair', () => {
  it('pair: the status, no question', async () => {
    const a = pairPort();
    const h = makeShell({ actions: a.port });
    h.type('pair\r');
    await h.shell.whenIdle();
    expect(h.out()).toContain('not paired: plain VRRP until paired');
    expect(a.calls).toEqual(['status (console)']);
  });

  it('pair CODE asks first, then confirms the code; a mismatch is reported as a failure', async () => {
    const a = pairPort();
    const h = makeShell({ actions: a.port });
    h.type('pair 362 069\r');
    expect(h.out()).toContain('pair: confirm code 362 069 (as the twin shows it) and write the heartbeat key? (y/N) ');
    h.type('y\r');
    await h.shell.whenIdle();
    expect(a.calls).toEqual(['confirm 362069 (console (serial))']);
    h.type('pair 123-456\ry\r');
    await h.shell.whenIdle();
    expect(h.out()).toContain('code mismatch');
  });

  it('pair start is guarded; a malformed code gives the usage and asks nothing', async () => {
    const a = pairPort();
    const h = makeShell({ actions: a.port });
    h.type('pair 12345\r');
    await h.shell.whenIdle();
    expect(h.out()).toContain('usage: pair [start|CODE|cancel]');
    h.type('pair start\r\r');
    await h.shell.whenIdle();
    expect(h.out()).toContain('pair start: cancelled');
    expect(a.calls).toEqual([]);
  });
});

describe('unpaired heartbeat text', () => {
  const port = (status: unknown) => ({ status: () => status as never, requestPeer: async () => ({ ok: false as const, error: 'stopped' as const }), answerWith: () => undefined, pair: async () => ({}) });
  const base = { device: '/dev/ttyS1', port_open: true, key_file: '/etc/twinvip/heartbeat.key', other_frames: 0, counters: { received: 0, rate_limited: 0, malformed: 0, ignored: 0, sent: 0 } };

  it('says UNPAIRED, plain VRRP and what to do next', () => {
    expect(unpairedText(port({ enabled: false, unpaired: { ...base, phase: 'idle' } }))).toBe(
      'UNPAIRED: plain VRRP, no serial heartbeat key yet (/etc/twinvip/heartbeat.key); run `twinvip pair` on one box (or `pair start` here), then type its code on the other',
    );
    expect(unpairedText(port({ enabled: false, unpaired: { ...base, phase: 'compare', role: 'initiator', code: '362069', peer: 'box-b' } }))).toContain('code 362 069: type it on box-b');
    expect(unpairedText(port({ enabled: false, unpaired: { ...base, phase: 'failed', error: 'code mismatch' } }))).toContain('last attempt failed: code mismatch');
    expect(unpairedText(port({ enabled: false }))).toBeUndefined();
  });
});
