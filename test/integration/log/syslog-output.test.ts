// logging.syslog and logging.journal_priority end to end: the real bundle and addon send RFC 3164
// datagrams to a real unix datagram socket (a python3 receiver stands in for rsyslog's /dev/log,
// reading the sender's PID from SCM_CREDENTIALS), and stdout lines carry the sd-daemon priority.
// A refused reload is the provoked error. Sockets in a temp dir; no network.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useSpawnedDaemons } from '../helpers/daemon-hooks';

const RECEIVER = join(import.meta.dirname, '../image/notify-receiver.py');

const h = useSpawnedDaemons();

const msgMatches = (re: RegExp) => (l: { json?: Record<string, unknown> }) => typeof l.json?.msg === 'string' && re.test(l.json.msg as string);

describe('syslog output and journal priorities of twinvip run', () => {
  it('sends each line with facility and severity to the syslog socket, and prefixes stdout with the priority', async () => {
    const sock = h.dir.file('log.sock');
    const rx = h.spawn('python3', [RECEIVER, sock]);
    await rx.waitForLine((l) => l.json?.listening === sock, { what: 'the receiver to listen' });
    const cfg = h.dir.file('box.json');
    const config = {
      node: { name: 'box-l', state_dir: h.dir.file('state') },
      control: { socket: h.dir.file('ctl.sock') },
      logging: { journal_priority: 'always', syslog: { enabled: true, facility: 'local3', socket: sock, tag: 'gw-l' } },
      instances: {},
    };
    writeFileSync(cfg, JSON.stringify(config));
    const daemon = h.twinvip(['run', '-c', cfg]);

    // local3 = 19: info is <158>; the tag carries the daemon's PID, and the kernel says it sent it.
    const started = await rx.waitForLine(msgMatches(/^<158>\w{3} [ \d]\d \d\d:\d\d:\d\d gw-l\[\d+\]: info  daemon: /), { what: 'an info datagram', timeoutMs: 20_000 });
    expect(started.json!.pid).toBe(daemon.pid);
    expect(started.json!.msg).toContain(`gw-l[${daemon.pid}]: `);
    await daemon.waitForLine((l) => l.text.startsWith('<6>'), { what: 'a <6> stdout line' });

    // The provoked error: a reload with a broken file is refused, logged at error level.
    writeFileSync(cfg, JSON.stringify({ ...config, instances: { VI_1: { vrid: 300 } } }));
    const mark = daemon.mark();
    const rxMark = rx.mark();
    daemon.signal('SIGHUP');
    const err = await rx.waitForLine(msgMatches(/^<155>.* gw-l\[\d+\]: error daemon: .*refused/), { from: rxMark, what: 'an error datagram (local3 = 19 * 8 + 3)' });
    expect(err.json!.pid).toBe(daemon.pid);
    const line = await daemon.waitForLine((l) => /refused/.test(l.text), { from: mark, what: 'the refusal on stdout' });
    expect(line.text.startsWith('<3>')).toBe(true);
    expect((await daemon.stop()).code).toBe(0);
  });

  it('a missing syslog socket costs one warning on stdout, never the daemon', async () => {
    const cfg = h.dir.file('nosock.json');
    const missing = h.dir.file('no-such.sock');
    writeFileSync(cfg, JSON.stringify({ node: { name: 'box-m', state_dir: h.dir.file('state-m') }, control: { socket: h.dir.file('ctl-m.sock') }, logging: { syslog: { enabled: true, socket: missing } }, instances: {} }));
    const daemon = h.twinvip(['run', '-c', cfg], { env: { ...process.env, JOURNAL_STREAM: '' } });
    const warn = await daemon.waitForLine((l) => l.text.includes('syslog output: cannot send'), { what: 'the syslog warning', timeoutMs: 20_000 });
    expect(warn.text).toContain(`cannot send to ${missing} (ENOENT)`);
    // No prefix: stdout is a pipe, not the journal.
    expect(warn.text).toMatch(/^\d{4}-/);
    await daemon.waitForLine((l) => /ready|started/.test(l.text), { what: 'start-up to go on' });
    expect(daemon.lines.filter((l) => l.text.includes('syslog output: cannot send'))).toHaveLength(1);
    expect((await daemon.stop()).code).toBe(0);
  });
});
