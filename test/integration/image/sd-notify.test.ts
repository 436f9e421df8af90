// sd_notify end to end: the real bundle and addon send to a real unix datagram socket, bound by a
// small python3 receiver standing in for systemd (it reads the sender's PID from SCM_CREDENTIALS,
// as systemd does for NotifyAccess=main). Nothing leaves the machine: sockets in a temp dir or
// the abstract namespace, no network.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type SpawnedProcess } from '../../helpers/bundle';
import { useSpawnedDaemons } from '../helpers/daemon-hooks';

const RECEIVER = join(import.meta.dirname, 'notify-receiver.py');

const h = useSpawnedDaemons();

function receiver(path: string): SpawnedProcess {
  return h.spawn('python3', [RECEIVER, path]);
}

function writeConfig(name: string): { cfg: string; sock: string } {
  const cfg = h.dir.file(`${name}.json`);
  const sock = h.dir.file(`${name}.sock`);
  writeFileSync(cfg, JSON.stringify({ node: { name, state_dir: h.dir.file('state') }, control: { socket: sock }, logging: { format: 'json' }, instances: {} }));
  return { cfg, sock };
}

const msgIs = (re: RegExp) => (l: { json?: Record<string, unknown> }) => typeof l.json?.msg === 'string' && re.test(l.json.msg as string);

describe('sd_notify from twinvip run', () => {
  it('READY=1 once the control socket answers, WATCHDOG=1 every half WATCHDOG_USEC, STOPPING=1 on SIGTERM, all from the main PID', async () => {
    const notify = h.dir.file('notify.sock');
    const rx = receiver(notify);
    await rx.waitForLine((l) => l.json?.listening === notify, { what: 'the receiver to listen' });
    const { cfg, sock } = writeConfig('box-n');
    const daemon = h.twinvip(['run', '-c', cfg], { env: { ...process.env, NOTIFY_SOCKET: notify, WATCHDOG_USEC: '1000000' } });

    const ready = await rx.waitForLine(msgIs(/^READY=1\n/), { what: 'READY=1', timeoutMs: 20_000 });
    expect(ready.json!.pid).toBe(daemon.pid);
    expect(ready.json!.msg).toMatch(/\nSTATUS=box-n: no VRRP instances; config \S+$/);
    // READY means usable: the control socket must answer now.
    const status = await runCli(['status', '--json', '-s', sock]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).pid).toBe(daemon.pid);
    // Nothing before READY except nothing: READY is the first message.
    expect(rx.lines.findIndex((l) => typeof l.json?.msg === 'string')).toBe(rx.lines.indexOf(ready));

    // WATCHDOG_USEC=1 s -> a ping about every 500 ms; wait for three after READY.
    const from = rx.mark();
    for (let i = 0; i < 3; i++) {
      const seen = rx.lines.slice(from).filter(msgIs(/^WATCHDOG=1$/)).length;
      await rx.waitForLine((l) => msgIs(/^WATCHDOG=1$/)(l) && rx.lines.slice(from).filter(msgIs(/^WATCHDOG=1$/)).length > seen, { from, what: `watchdog ping ${i + 1}`, timeoutMs: 10_000 });
    }
    expect(rx.lines.slice(from).filter(msgIs(/^WATCHDOG=1$/)).every((l) => l.json!.pid === daemon.pid)).toBe(true);

    const beforeStop = rx.mark();
    daemon.signal('SIGTERM');
    const stopping = await rx.waitForLine(msgIs(/^STOPPING=1\n/), { from: beforeStop, what: 'STOPPING=1' });
    expect(stopping.json!.msg).toMatch(/STATUS=stopping \(SIGTERM\)/);
    const exit = await daemon.exited;
    expect(exit.code).toBe(0);
  });

  it('an abstract NOTIFY_SOCKET (@name) works too', async () => {
    const name = `@twinvip-test-${randomBytes(4).toString('hex')}`;
    const rx = receiver(name);
    await rx.waitForLine((l) => l.json?.listening === name, { what: 'the receiver to listen' });
    const { cfg } = writeConfig('box-abs');
    const daemon = h.twinvip(['run', '-c', cfg], { env: { ...process.env, NOTIFY_SOCKET: name } });
    const ready = await rx.waitForLine(msgIs(/^READY=1\n/), { what: 'READY=1 on the abstract socket', timeoutMs: 20_000 });
    expect(ready.json!.pid).toBe(daemon.pid);
    // No WATCHDOG_USEC: no pings.
    await daemon.stop();
    // The receiver prints what it got on its own schedule: wait for the line, do not race the exit.
    await rx.waitForLine(msgIs(/^STOPPING=1\n/), { what: 'STOPPING=1 on the abstract socket' });
    expect(rx.lines.some(msgIs(/^WATCHDOG=1$/))).toBe(false);
  });

  it('a NOTIFY_SOCKET nobody listens on is logged once and the daemon runs on', async () => {
    const { cfg, sock } = writeConfig('box-none');
    const daemon = h.twinvip(['run', '-c', cfg], { env: { ...process.env, NOTIFY_SOCKET: h.dir.file('absent.sock'), WATCHDOG_USEC: '400000' } });
    await daemon.waitForLine(msgIs(/^started: node box-none/), { what: 'the started line' });
    const warned = await daemon.waitForLine(msgIs(/sd_notify to .*absent\.sock failed: sendto ENOENT/), { what: 'the send failure warning' });
    expect(warned.json!.level).toBe('warn');
    // Several watchdog periods later it is still one warning and the daemon still answers.
    const r1 = await runCli(['status', '--json', '-s', sock]);
    expect(r1.code, r1.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 1000)); // lets ~5 pings fail; what is asserted is the count of warnings
    expect(daemon.lines.filter(msgIs(/sd_notify to/)).length).toBe(1);
    expect((await daemon.stop()).code).toBe(0);
  });
});
