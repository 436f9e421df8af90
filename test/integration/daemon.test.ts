// The daemon skeleton end to end, against the real bundle: nothing leaves the machine (a unix
// socket in a temp dir), so no namespaces are needed. Every wait is on a log line or an exit.
import { connect } from 'node:net';
import { existsSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type OutputLine, type SpawnedProcess } from '../helpers/bundle';
import { useSpawnedDaemons } from './helpers/daemon-hooks';
import { withTimeout } from '../helpers/wait';

const h = useSpawnedDaemons();
let cfgPath: string;
let sock: string;

function writeConfig(name: string, extra: Record<string, unknown> = {}): void {
  writeFileSync(cfgPath, JSON.stringify({ node: { name, state_dir: h.dir.file('state') }, control: { socket: sock }, logging: { level: 'info', format: 'json' }, instances: {}, ...extra }, null, 2));
}

function start(): SpawnedProcess {
  return h.twinvip(['run', '-c', cfgPath]);
}

const msg = (re: RegExp) => (l: OutputLine) => typeof l.json?.msg === 'string' && re.test(l.json.msg);

async function statusJson(): Promise<Record<string, unknown> & { config: { hash: string; path: string } }> {
  const r = await runCli(['status', '--json', '-s', sock]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(() => {
  cfgPath = h.dir.file('twinvip.json');
  sock = h.dir.file('run/control.sock');
});

describe('twinvip run + status over the control socket', () => {
  let daemon: SpawnedProcess;
  let firstHash: string;

  beforeAll(async () => {
    writeConfig('box-a');
    daemon = start();
    await daemon.waitForLine(msg(/^started: node box-a/), { what: 'the started line' });
  });

  it('status --json answers with the node name, pid and config path', async () => {
    const s = await statusJson();
    expect(s.node).toBe('box-a');
    expect(s.pid).toBe(daemon.pid);
    expect(s.config.path).toBe(cfgPath);
    expect(s.instances).toEqual([]);
    firstHash = s.config.hash;
    expect(firstHash).toMatch(/\S/);
  });

  it('status without --json prints a table; -c FILE finds the socket from the config', async () => {
    const r = await runCli(['status', '-c', cfgPath]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^node\s+box-a$/m);
    expect(r.stdout).toMatch(new RegExp(`^config\\s+${cfgPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(hash ${firstHash}`, 'm'));
  });

  it('a malformed control request gets an error and the daemon keeps running', async () => {
    const s = connect(sock);
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d) => (buf += d));
    const answered = new Promise<string>((resolve) => s.on('data', () => buf.includes('\n') && resolve(buf)));
    s.write('{"id": 1, "cmd": \n');
    const line = await withTimeout(answered, 10_000, 'the error response');
    expect(JSON.parse(line.split('\n')[0]!)).toMatchObject({ id: null, status: 'error', error: expect.stringMatching(/malformed JSON/) });
    s.destroy();
    expect(daemon.running).toBe(true);
    expect((await statusJson()).node).toBe('box-a');
  });

  it('SIGHUP with a broken file keeps the old hash and logs the refusal with the path', async () => {
    writeFileSync(cfgPath, '{ "node": { "name": "box-a" ');
    const from = daemon.mark();
    daemon.signal('SIGHUP');
    const refusal = await daemon.waitForLine(msg(/^config refused/), { from, what: 'the refusal line' });
    expect(refusal.json).toMatchObject({ level: 'error', subsystem: 'daemon', path: cfgPath, kept: firstHash });
    expect(refusal.json!.msg).toContain(cfgPath);
    expect(refusal.json!.msg).toContain(`keeping running config ${firstHash}`);
    // Every error follows on its own line, naming the file.
    await daemon.waitForLine((l) => typeof l.json?.msg === 'string' && l.json.msg.startsWith(`${cfgPath}:`) && l.json.msg.includes('invalid JSON'), { from, what: 'the error detail line' });
    const s = await statusJson();
    expect(s.config.hash).toBe(firstHash);
    expect(s.node).toBe('box-a');
    expect(s.config).toMatchObject({ refused_reloads: 1, reloads: 0 });
  });

  it('SIGHUP with a good changed file changes the hash and logs old -> new', async () => {
    writeConfig('box-a2');
    const from = daemon.mark();
    daemon.signal('SIGHUP');
    const line = await daemon.waitForLine(msg(/^config reloaded/), { from, what: 'the reload line' });
    const s = await statusJson();
    expect(s.config.hash).not.toBe(firstHash);
    expect(line.json).toMatchObject({ old: firstHash, new: s.config.hash });
    expect(s.node).toBe('box-a2');
  });

  it('a second daemon on the same socket refuses to start (exit 4) and the first keeps serving', async () => {
    const r = await runCli(['run', '-c', cfgPath]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`another twinvip daemon is already answering on ${sock}`);
    expect(daemon.running).toBe(true);
    expect((await statusJson()).pid).toBe(daemon.pid);
  });

  it('twinvip console sends lines to the daemon shell and prints the answers', async () => {
    const r = await runCli(['console', '-s', sock], { input: 'status\nlog 2\nno-such-thing\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('box-a');
    expect(r.stdout).toMatch(/config reloaded/);
    expect(r.stdout).toContain("unknown command 'no-such-thing'");
  });

  it('SIGTERM logs the cause, removes the socket and exits 0', async () => {
    const from = daemon.mark();
    daemon.signal('SIGTERM');
    const exit = await withTimeout(daemon.exited, 15_000, 'the daemon to exit');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(existsSync(sock)).toBe(false);
    await daemon.waitForLine(msg(/^stopped \(SIGTERM\)/), { from, what: 'the stopped line' });
  });

  it('status with no daemon names the socket and exits 3', async () => {
    const r = await runCli(['status', '-s', sock]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(sock);
  });
});

describe('start-up edge cases', () => {
  it('a bad config at start prints every error with the file and exits 1', async () => {
    const bad = h.dir.file('bad.json');
    // Type and enum errors, which any schema flags (the real loader lists them with allErrors).
    writeFileSync(bad, JSON.stringify({ node: { name: 42 }, logging: { level: 'loud' } }));
    const r = await runCli(['run', '-c', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${bad}:\\d+:\\d+: /node/name: must be a string`));
    expect(r.stderr).toMatch(new RegExp(`${bad}:\\d+:\\d+: /logging/level: must be one of`));
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('after a SIGKILL the stale socket is removed and a new daemon starts', async () => {
    writeConfig('box-k');
    const first = start();
    await first.waitForLine(msg(/^started:/), { what: 'the first start' });
    first.signal('SIGKILL');
    await withTimeout(first.exited, 10_000, 'the SIGKILLed daemon to exit');
    expect(existsSync(sock)).toBe(true); // nothing cleaned up after a SIGKILL
    const second = start();
    await second.waitForLine(msg(/^removed stale control socket/), { what: 'the stale socket removal' });
    await second.waitForLine(msg(/^started: node box-k/), { what: 'the second start' });
    expect((await statusJson()).pid).toBe(second.pid);
    const exit = await second.stop();
    expect(exit.code).toBe(0);
  });

  it('SIGINT stops cleanly too', async () => {
    writeConfig('box-i');
    const p = start();
    await p.waitForLine(msg(/^started:/), { what: 'start' });
    p.signal('SIGINT');
    expect(await withTimeout(p.exited, 15_000, 'exit')).toEqual({ code: 0, signal: null });
    expect(existsSync(sock)).toBe(false);
  });
});
