import { describe, expect, it } from 'vitest';
import { ActionGuard, PEER_STATUS_REQUEST, type ActionResult, type PeerLink, type PeerReply } from '../../../src/console';
import { deferred, makeShell } from './harness';

const PROMPT = 'twinvip box-a [MASTER]> ';

/** Every line break on the serial side is CRLF: no bare LF, no bare CR before a printable. */
function expectCrlfOnly(text: string): void {
  expect(text.replace(/\r\n/g, '')).not.toMatch(/\n/);
}

describe('session start and prompt', () => {
  it('greets with a banner and a prompt naming the node and its state', () => {
    const h = makeShell();
    h.shell.start();
    expect(h.out()).toBe(`twinvip 9.9.9 diagnostic console on box-a. Type 'help'.\r\n${PROMPT}`);
  });

  it('summarises mixed states, maintenance, and absent VRRP in the prompt', () => {
    const mixed = makeShell({ view: { instances: () => [{ name: 'VI_1', state: 'MASTER' }, { name: 'VI_2', state: 'BACKUP' }], maintenance: () => true } });
    expect(mixed.shell.prompt()).toBe('twinvip box-a [VI_1:MASTER VI_2:BACKUP maint]> ');
    const many = makeShell({ view: { instances: () => ['A', 'B', 'C', 'D', 'E'].map((n, i) => ({ name: `INSTANCE_${n}`, state: i < 3 ? 'MASTER' : 'BACKUP' })) } });
    expect(many.shell.prompt()).toBe('twinvip box-a [3 MASTER 2 BACKUP]> ');
    expect(makeShell({ view: {} }).shell.prompt()).toBe('twinvip box-a [vrrp down]> ');
  });
});

describe('commands', () => {
  it('status is one screen within 80 columns, absent parts say "not running"', () => {
    const h = makeShell();
    h.type('status\r');
    const out = h.out();
    expectCrlfOnly(out);
    expect(out).toContain('node box-a   twinvip 9.9.9   up 1h 2m 5s   config c0ffee12');
    expect(out).toMatch(/INSTANCE\s+STATE\s+PRIO\s+VRID\s+SINCE\s+CAUSE/);
    expect(out).toMatch(/VI_1\s+MASTER\s+150\s+51\s+2m 5s\s+preempt, higher priority/);
    expect(out).toMatch(/VI_2\s+MASTER\s+90\/100\s+52\s+3\.0 s\s+master down, 1204 ms/);
    expect(out).toContain('heartbeat: not running');
    expect(out).toContain('nginx  not running');
    expect(out).toContain('mqtt   not running');
    const lines = out.split('\r\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(out.endsWith(PROMPT)).toBe(true);
  });

  it('status shows both heartbeat channels with their last-heard ages, nginx and mqtt when wired', () => {
    const h = makeShell({
      view: {
        instances: () => [{ name: 'VI_1', state: 'BACKUP', priority: 100 }],
        heartbeat: () => ({ ethernet: { state: 'lost', lastHeardMs: 12_300, detail: 'adverts from 10.0.0.2' }, serial: { state: 'ok', lastHeardMs: 80, detail: '/dev/ttyS1 115200' }, peer: 'box-b', decision: 'stay BACKUP: the twin is MASTER over serial, Ethernet path broken', alarms: ['ethernet-heartbeat-lost'] }),
        nginx: () => ({ state: 'running', pid: 4242, configHash: 'ab12', upstreams: [{ group: 'app', server: '10.0.1.5:80', up: true }, { group: 'app', server: '10.0.1.6:80', up: false }] }),
        mqtt: () => ({ connected: false, broker: 'mqtt://10.0.0.9:1883', outbox: 17, lastError: 'ECONNREFUSED' }),
      },
    });
    h.type('status\r');
    const out = h.out();
    expect(out).toMatch(/ethernet\s+lost\s+12\.3 s ago\s+adverts from 10\.0\.0\.2/);
    expect(out).toMatch(/serial\s+ok\s+80 ms ago\s+\/dev\/ttyS1 115200/);
    // The arbiter's longest decision with the peer and an alarm: flowed onto two lines, never wider than 80.
    expect(out).toContain('peer box-b\r\ndecision: stay BACKUP: the twin is MASTER over serial, Ethernet path broken\r\nalarms: ethernet-heartbeat-lost\r\n');
    for (const l of out.split('\r\n')) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(out).toContain('nginx  running (pid 4242), config ab12, upstreams 1/2 up');
    expect(out).toContain('mqtt   DISCONNECTED from mqtt://10.0.0.9:1883, outbox 17, ECONNREFUSED');
  });

  it('a provider that throws shows as an error, and the shell keeps answering', () => {
    const h = makeShell({ view: { instances: () => [], nginx: () => { throw new Error('boom'); } } });
    h.type('nginx\rhelp\r');
    expect(h.out()).toContain('nginx: error: boom');
    expect(h.out()).toContain('maintenance on|off');
  });

  it('help lists every command', () => {
    const h = makeShell();
    h.type('help\r');
    for (const c of ['help', 'status', 'vrrp [instance]', 'heartbeat', 'peer', 'nginx', 'mqtt', 'counters', 'log [n]', 'config check', 'maintenance on|off', 'failover [instance]', 'reload']) {
      expect(h.out()).toContain(c);
    }
  });

  it('vrrp NAME shows one instance; an unknown one lists the known', () => {
    const h = makeShell();
    h.type('vrrp VI_2\r');
    expect(h.out()).toMatch(/priority\s+90 \(base 100\)/);
    expect(h.out()).toMatch(/cause\s+master down, 1204 ms/);
    h.clear();
    h.type('vrrp VI_9\r');
    expect(h.out()).toContain("no instance 'VI_9' (instances: VI_1, VI_2)");
  });

  it('command words are case-insensitive and surrounding blanks ignored', () => {
    const h = makeShell();
    h.type('  HELP  \r');
    expect(h.out()).toContain('this list');
  });

  it('log [n] and its usage error', () => {
    const h = makeShell();
    h.type('log 2\r');
    expect(h.out()).toContain('line two\r\nline three\r\n');
    expect(h.out()).not.toContain('line one');
    h.clear();
    h.type('log lots\r');
    expect(h.out()).toContain('usage: log [n]');
  });

  it('counters shows every counter including zeros', () => {
    const h = makeShell();
    h.type('counters\r');
    expect(h.out()).toMatch(/vrrp\.rx_bad_ttl\s+2/);
    expect(h.out()).toMatch(/console\.noise_bytes\s+0/);
  });

  it('config check answers asynchronously, then the prompt returns', async () => {
    const h = makeShell();
    h.type('config check\r');
    await h.shell.whenIdle();
    expect(h.out()).toMatch(/config ok\r\ntwinvip box-a \[MASTER\]> $/);
    h.clear();
    h.type('config\r');
    await h.shell.whenIdle();
    expect(h.out()).toContain('usage: config check');
  });

  it('an unknown command is named with a hint', () => {
    const h = makeShell();
    h.type('stauts\r');
    expect(h.out()).toContain("unknown command 'stauts'; type 'help'\r\n");
    expect(h.counters.unknown_commands).toBe(1);
  });
});

describe('editing as a person types', () => {
  it('backspace corrections run the corrected command', () => {
    const h = makeShell();
    h.type('stx\x7fatus\r');
    expect(h.out()).toContain('stx\b \batus\r\n');
    expect(h.out()).toContain('node box-a');
  });

  it('Ctrl-C abandons the typed line: nothing runs, a fresh prompt', () => {
    const h = makeShell({ actions: { failover: async () => ({ ok: true, message: 'x' }) } });
    h.type('failover\x03');
    expect(h.out()).toBe(`failover^C\r\n${PROMPT}`);
    expect(h.counters.commands).toBe(0);
  });

  it('an over-long line is refused once, discarded to Enter, and the shell answers afterwards', () => {
    const h = makeShell({ maxLine: 64 });
    h.type(`${'a'.repeat(5000)}\r`);
    const out = h.out();
    expect(out.match(/line too long/g)).toHaveLength(1);
    expect(out).toContain('line too long (over 64 characters): ignored up to the next Enter\r\n');
    expect(out.endsWith(PROMPT)).toBe(true);
    h.type('help\r');
    expect(h.out()).toContain('this list');
    expect(h.counters.long_lines).toBe(1);
  });

  it('binary noise is ignored with one short note, and the line typed around it survives', () => {
    const h = makeShell();
    h.type('he');
    h.shell.feed(Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x80, 0x9b]));
    h.type('lp\r');
    const out = h.out();
    expect(out).toContain('he\r\nignored 6 non-printable byte(s) (line noise or wrong baud rate?)\r\n');
    // The prompt and the half-typed line are redrawn after the note.
    expect(out).toContain(`${PROMPT}help\r\n`);
    expect(out).toContain('this list');
    expect(h.counters.noise_bytes).toBe(6);
  });

  it('noise complaints are rate-limited; the count keeps adding up for the next note', () => {
    const h = makeShell();
    for (let i = 0; i < 50; i++) h.shell.feed(Buffer.from([0xff, 0xfe]));
    expect(h.out().match(/ignored \d+ non-printable/g)).toEqual(['ignored 2 non-printable']);
    h.clock.now += 6000;
    h.shell.feed(Buffer.from([0xff]));
    expect(h.out()).toContain('ignored 99 non-printable byte(s)');
  });

  it('a burst of garbage lines gets a bounded number of complaints, then a summary', () => {
    const h = makeShell();
    h.type(Array.from({ length: 200 }, (_, i) => `junk${i}\r`).join(''));
    expect(h.out().match(/unknown command/g)).toHaveLength(3);
    expect(h.counters.complaints_suppressed).toBe(197);
    h.clock.now += 6000;
    h.clear();
    h.type('nope\r');
    expect(h.out()).toContain("unknown command 'nope'; type 'help' (197 similar message(s) suppressed)");
    h.type('help\r');
    expect(h.out()).toContain('this list');
  });

  it('a burst of unknown commands does not silence the note about a long line', () => {
    const h = makeShell({ maxLine: 64 });
    h.type(Array.from({ length: 20 }, (_, i) => `junk${i}\r`).join(''));
    h.type(`${'z'.repeat(100)}\r`);
    expect(h.out()).toContain('line too long (over 64 characters)');
  });

  it('one megabyte of random bytes: the shell survives and still answers', () => {
    const h = makeShell();
    let seed = 7;
    const buf = Buffer.alloc(1 << 20);
    for (let i = 0; i < buf.length; i++) buf[i] = ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    h.shell.feed(buf);
    h.clear();
    h.type('\x03help\r');
    expect(h.out()).toContain('this list');
    expect(h.counters.noise_bytes).toBeGreaterThan(100_000);
  });

  it('control-socket mode: no echo, no prompt in the output, LF line ends', () => {
    const h = makeShell({ echo: false });
    h.shell.start();
    h.shell.feedLine('vrrp VI_1');
    expect(h.out()).not.toContain('\r');
    expect(h.out()).not.toContain('twinvip box-a [');
    expect(h.out()).toMatch(/instance\s+VI_1\n/);
  });
});

describe('peer (over the serial link)', () => {
  it('without a link it says so', async () => {
    const h = makeShell();
    h.type('peer\r');
    await h.shell.whenIdle();
    expect(h.out()).toContain('peer link not available');
  });

  it("renders the twin's own status screen", async () => {
    const twin = makeShell({ view: { instances: () => [{ name: 'VI_1', state: 'BACKUP', priority: 100, cause: 'higher priority master 10.0.0.1' }], heartbeat: () => ({ ethernet: { state: 'lost', lastHeardMs: 9000 }, serial: { state: 'ok', lastHeardMs: 50 } }) } });
    const asked: string[] = [];
    const link: PeerLink = {
      request: async (what) => {
        asked.push(what);
        const snap = { ...twin.services.snapshot(), node: 'box-b' };
        return { ok: true, body: JSON.stringify(snap) };
      },
    };
    const h = makeShell({ peer: link });
    h.type('peer\r');
    await h.shell.whenIdle();
    expect(asked).toEqual([PEER_STATUS_REQUEST]);
    expect(h.out()).toContain("the twin's own view (over the serial link");
    expect(h.out()).toContain('node box-b');
    expect(h.out()).toMatch(/VI_1\s+BACKUP\s+100/);
    expect(h.out()).toMatch(/ethernet\s+lost\s+9\.0 s ago/);
    expect(h.out().endsWith(PROMPT)).toBe(true);
  });

  it('a timeout is said plainly; a garbled answer is shown as text, never as terminal control', async () => {
    const h = makeShell({ peer: { request: async () => ({ ok: false, error: 'timeout' }) } });
    h.type('peer\r');
    await h.shell.whenIdle();
    expect(h.out()).toContain('no answer from the twin over the serial link within 3.0 s (timeout)');
    const g = makeShell({ peer: { request: async () => ({ ok: true, body: 'hello\x1b[2Jworld' }) } });
    g.type('peer\r');
    await g.shell.whenIdle();
    expect(g.out()).toContain('hello?[2Jworld');
    expect(g.out()).not.toContain('\x1b');
  });

  it('typing while waiting is kept and runs afterwards; Ctrl-C stops the wait', async () => {
    const reply = deferred<PeerReply>();
    const h = makeShell({ peer: { request: () => reply.promise } });
    h.type('peer\r');
    h.type('help\r');
    expect(h.out()).not.toContain('this list');
    reply.resolve({ ok: false, error: 'timeout' });
    await h.shell.whenIdle();
    expect(h.out().indexOf('timeout')).toBeLessThan(h.out().indexOf('this list'));

    const never = makeShell({ peer: { request: () => new Promise<PeerReply>(() => {}) } });
    never.type('peer\r');
    never.type('\x03');
    await never.shell.whenIdle();
    expect(never.out()).toContain('stopped waiting');
    never.type('help\r');
    expect(never.out()).toContain('this list');
  });

  it('typeahead while busy is bounded', async () => {
    const reply = deferred<PeerReply>();
    const h = makeShell({ peer: { request: () => reply.promise } });
    h.type('peer\r');
    h.type('x'.repeat(10_000));
    expect(h.counters.typeahead_dropped).toBe(10_000 - 4096);
    reply.resolve({ ok: false, error: 'timeout' });
    await h.shell.whenIdle();
    expect(h.out()).toContain('5904 byte(s) typed while busy were dropped');
  });
});

describe('guarded actions', () => {
  function actions() {
    const calls: string[] = [];
    return {
      calls,
      port: {
        failover: async (instance: string | undefined, cause: string): Promise<ActionResult> => {
          calls.push(`failover ${instance ?? '*'} (${cause})`);
          return { ok: true, message: 'VI_1 released' };
        },
        maintenance: async (on: boolean, cause: string): Promise<ActionResult> => {
          calls.push(`maintenance ${on} (${cause})`);
          return { ok: true, message: on ? 'demoted' : 'back' };
        },
        reload: async (): Promise<ActionResult> => ({ ok: false, error: 'config refused' }),
      },
    };
  }

  it('asks y/N; anything but y cancels; y runs it once and reports', async () => {
    const a = actions();
    const h = makeShell({ actions: a.port });
    h.type('failover\r');
    expect(h.out().endsWith('failover: hand MASTER of every instance to the twin? (y/N) ')).toBe(true);
    h.type('\r');
    expect(h.out()).toContain('failover: cancelled\r\n');
    expect(a.calls).toEqual([]);
    h.type('failover VI_1\ryes\r');
    await h.shell.whenIdle();
    expect(a.calls).toEqual(['failover VI_1 (console (serial))']);
    expect(h.out()).toContain('failover VI_1: done. VI_1 released');
    expect(h.logs).toContain("info console: 'failover VI_1' confirmed on serial");
    expect(h.out().endsWith(PROMPT)).toBe(true);
  });

  it('Ctrl-C at the question cancels', () => {
    const a = actions();
    const h = makeShell({ actions: a.port });
    h.type('maintenance on\r\x03');
    expect(h.out()).toContain('maintenance on: cancelled');
    h.type('y\r');
    expect(a.calls).toEqual([]);
    expect(h.out()).toContain("unknown command 'y'");
  });

  it('a failure is reported as such', async () => {
    const h = makeShell({ actions: actions().port });
    h.type('reload\ry\r');
    await h.shell.whenIdle();
    expect(h.out()).toContain('reload: FAILED: config refused');
  });

  it('usage errors and unknown instances never reach the question', () => {
    const h = makeShell({ actions: actions().port });
    h.type('maintenance\rmaintenance maybe\rfailover VI_7\r');
    expect(h.out().match(/usage: maintenance on\|off/g)).toHaveLength(2);
    expect(h.out()).toContain("no instance 'VI_7'");
    expect(h.out()).not.toContain('(y/N)');
  });

  it('an action whose part is not running says so', () => {
    const h = makeShell({ actions: {} });
    h.type('failover\r');
    expect(h.out()).toContain('failover is not available');
  });

  it('only one action at a time across sessions: a second is refused while the first runs', async () => {
    const clock = { now: 5_000_000 };
    const held = deferred<ActionResult>();
    const port = { failover: () => held.promise, reload: async (): Promise<ActionResult> => ({ ok: true, message: 'reloaded' }) };
    const guard = new ActionGuard(() => clock.now);
    const serial = makeShell({ actions: port, guard, clock });
    const local = makeShell({ actions: port, guard, clock, echo: false });
    // The local session reaches its question before the serial one starts acting.
    local.shell.feedLine('reload');
    expect(local.shell.prompt()).toBe('reload: re-read the config file and apply it? (y/N) ');
    serial.type('failover\ry\r');
    clock.now += 2000;
    local.shell.feedLine('y');
    await local.shell.whenIdle();
    expect(local.out()).toContain("reload: refused: another action 'failover' is in progress (started 2 s ago)");
    local.clear();
    local.shell.feedLine('reload');
    expect(local.out()).toContain("reload: refused: another action 'failover' is in progress");
    expect(local.shell.prompt()).toMatch(/^twinvip box-a/);
    held.resolve({ ok: true, message: 'handed over' });
    await serial.shell.whenIdle();
    expect(serial.out()).toContain('failover: done. handed over');
    local.clear();
    local.shell.feedLine('reload');
    local.shell.feedLine('y');
    await local.shell.whenIdle();
    expect(local.out()).toContain('reload: done. reloaded');
    expect(local.counters.actions_refused).toBe(2);
  });

  it('an action in progress elsewhere (ActionsPort.inProgress) refuses too', () => {
    const h = makeShell({ actions: { ...actions().port, inProgress: () => 'maintenance on (mqtt)' } });
    h.type('failover\r');
    expect(h.out()).toContain("failover: refused: another action 'maintenance on (mqtt)' is in progress");
  });
});

describe('serial console password', () => {
  function withPassword() {
    const calls: string[] = [];
    const h = makeShell({ access: { kind: 'password', password: 's3cret-pw' }, actions: { reload: async (c) => (calls.push(c), { ok: true, message: 'ok' }) } });
    return { h, calls };
  }

  it('read-only without a password: actions refused, diagnostics work', () => {
    const h = makeShell({ access: { kind: 'read-only' }, actions: { reload: async () => ({ ok: true, message: '' }) } });
    h.shell.start();
    expect(h.out()).toContain('Read-only');
    h.type('reload\rstatus\r');
    expect(h.out()).toContain('reload: refused: this console is read-only (set console.password_file in the config to allow actions)');
    expect(h.out()).toContain('node box-a');
  });

  it('asks for the password without echoing it, then confirms, then runs', async () => {
    const { h, calls } = withPassword();
    h.type('reload\r');
    expect(h.out().endsWith('password: ')).toBe(true);
    h.clear();
    h.type('s3cret-pw\r');
    expect(h.out()).not.toContain('s3cret');
    expect(h.out().endsWith('reload: re-read the config file and apply it? (y/N) ')).toBe(true);
    h.type('y\r');
    await h.shell.whenIdle();
    expect(calls).toEqual(['console (serial)']);
    // Once per session: the next action only asks to confirm.
    h.clear();
    h.type('reload\r');
    expect(h.out()).toContain('(y/N)');
    expect(h.out()).not.toContain('password:');
  });

  it('wrong passwords lock out with a growing delay; the session end forgets the password', async () => {
    const { h, calls } = withPassword();
    h.type('reload\rguess1\r');
    expect(h.out()).toContain('wrong password; reload not run (next try in 1 s)');
    h.clear();
    h.type('reload\r');
    expect(h.out()).toContain('reload: refused: too many wrong passwords; try again in 1 s');
    h.clock.now += 1000;
    h.type('reload\rguess2\r');
    expect(h.out()).toContain('(next try in 2 s)');
    h.clock.now += 2000;
    h.type('reload\rguess3\r');
    expect(h.out()).toContain('(next try in 4 s)');
    expect(h.counters.auth_failures).toBe(3);
    expect(h.logs.filter((l) => l.startsWith('warn console: wrong password'))).toHaveLength(3);
    h.clock.now += 4000;
    h.type('reload\rs3cret-pw\ry\r');
    await h.shell.whenIdle();
    expect(calls).toHaveLength(1);
    h.shell.endSession('idle for 600 s');
    expect(h.out()).toContain('session ended (idle for 600 s); password needed again');
    h.clear();
    h.type('reload\r');
    expect(h.out().endsWith('password: ')).toBe(true);
  });
});
