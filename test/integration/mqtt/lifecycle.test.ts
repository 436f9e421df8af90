// Last will on SIGKILL (a real child process), a password file made with mosquitto_passwd, and
// the MQTT 5 -> 3.1.1 fallback against a broker that refuses protocol level 5.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NODE, runCli, SpawnedProcess } from '../../helpers/bundle';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { waitFor } from '../../helpers/wait';
import { freePort, Mosquitto, Recorder } from './broker';
import { configText, startDaemon } from './harness';

let dir: TempDir;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => {
  dir = makeTempDir('tvml-');
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
afterAll(() => dir?.remove());

describe('last will', () => {
  it('SIGKILL of the daemon makes the broker publish the retained "offline"; a clean stop publishes it too', async () => {
    const broker = new Mosquitto({ dir: dir.path, port: await freePort() });
    await broker.start();
    cleanups.push(() => broker.stop());
    const entry = `${dir.path}/child.mjs`;
    await build({
      entryPoints: [new URL('./child-entry.ts', import.meta.url).pathname], outfile: entry, bundle: true, platform: 'node', format: 'esm', target: 'node24',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" }, logLevel: 'warning',
    });
    const cfg = `${dir.path}/will.json`;
    writeFileSync(cfg, configText(dir.path, 'box-w', { url: broker.url, keepalive: 5 }));
    const run = () => {
      const p = new SpawnedProcess(spawn(NODE, [entry, cfg], { stdio: ['ignore', 'pipe', 'pipe'] }));
      cleanups.push(() => p.stop().then(() => undefined));
      return p;
    };
    const sub = await Recorder.open(broker.url, 'twinvip/box-w/status');
    cleanups.push(() => sub.close());

    const child = run();
    await sub.wait((m) => m.text === 'online', 'online from the child');
    const mark = sub.messages.length;
    child.signal('SIGKILL');
    const will = await sub.wait((m) => sub.messages.indexOf(m) >= mark && m.text === 'offline', 'last will after SIGKILL');
    expect(will.topic).toBe('twinvip/box-w/status');
    // A fresh subscriber sees the retained offline.
    const fresh = await Recorder.open(broker.url, 'twinvip/box-w/status');
    cleanups.push(() => fresh.close());
    expect((await fresh.wait(() => true, 'retained status')).text).toBe('offline');

    const again = run();
    await sub.wait((m) => sub.messages.indexOf(m) > mark && m.text === 'online', 'online again');
    const mark2 = sub.messages.length;
    again.signal('SIGTERM');
    await again.exited;
    await sub.wait((m) => sub.messages.indexOf(m) >= mark2 && m.text === 'offline', 'offline on a clean stop');
  });
});

describe('authentication', () => {
  it('connects with username + password_file; a wrong password keeps retrying without stopping the daemon', async () => {
    const broker = new Mosquitto({ dir: dir.path, port: await freePort(), users: { gw: 's3cret pass' } });
    await broker.start();
    cleanups.push(() => broker.stop());
    writeFileSync(`${dir.path}/pw-good`, 's3cret pass\n');
    writeFileSync(`${dir.path}/pw-bad`, 'nope\n');
    const good = await startDaemon(dir.path, 'box-auth', { url: broker.url, username: 'gw', password_file: `${dir.path}/pw-good` });
    cleanups.push(() => good.stop());
    await waitFor(() => good.ext.connected, { what: 'authenticated connection', timeoutMs: 20_000 });
    const bad = await startDaemon(dir.path, 'box-noauth', { url: broker.url, username: 'gw', password_file: `${dir.path}/pw-bad` });
    cleanups.push(() => bad.stop());
    await waitFor(() => (bad.daemon.counters.snapshot().mqtt?.connect_failures ?? 0) >= 2, { what: 'refused twice (retrying)', timeoutMs: 20_000 });
    expect(bad.ext.connected).toBe(false);
    expect(bad.sink.lines.join('\n')).toMatch(/Not authorized|Bad username or password/);
  });
});

describe('credentials in the broker URL, commands over plaintext', () => {
  it('a password in mqtt.url never reaches the log or check; plaintext commands are an error at check unless allowed, then warned at every start', async () => {
    const broker = new Mosquitto({ dir: dir.path, port: await freePort(), users: { gw: 'url-s3cret' } });
    await broker.start();
    cleanups.push(() => broker.stop());
    const at = broker.url.replace('mqtt://', '');
    const mqtt = (password: string, allow: boolean) => ({ url: `mqtt://gw:${password}@${at}`, allow_plaintext_commands: allow, commands: { enabled: true, unsigned: ['status'] } });

    // check: refused without allow_plaintext_commands, a warning with it; the password never shown.
    const file = `${dir.path}/plain.json`;
    writeFileSync(file, configText(dir.path, 'box-plain', mqtt('url-s3cret', false)));
    const refused = await runCli(['check', '--offline', '-c', file]);
    expect(refused.code).toBe(1);
    expect(refused.stdout + refused.stderr).toMatch(/\/mqtt\/url.*mqtt:\/\/gw:\*\*\*@.* is plaintext while mqtt\.commands\.enabled is true/);
    const refusedJson = await runCli(['check', '--offline', '--json', '-c', file]);
    expect(refusedJson.code).toBe(1);
    writeFileSync(file, configText(dir.path, 'box-plain', mqtt('url-s3cret', true)));
    const allowed = await runCli(['check', '--offline', '-c', file]);
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(allowed.stdout + allowed.stderr).toMatch(/allow_plaintext_commands.*commands are accepted over the plaintext broker connection mqtt:\/\/gw:\*\*\*@/);
    for (const r of [refused, refusedJson, allowed]) expect(r.stdout + r.stderr).not.toContain('url-s3cret');

    // Two starts: the warning each time; connected with the URL's credentials, logged redacted.
    for (const round of [1, 2]) {
      const h = await startDaemon(dir.path, 'box-plain', mqtt('url-s3cret', true));
      cleanups.push(() => h.stop());
      await waitFor(() => h.ext.connected, { what: `connected with the URL's credentials (start ${round})`, timeoutMs: 20_000 });
      const log = h.sink.lines.join('\n');
      expect(log).toMatch(/fleet commands accepted over a plaintext broker connection mqtt:\/\/gw:\*\*\*@/);
      expect(log).toMatch(/connected to mqtt:\/\/gw:\*\*\*@/);
      expect(log).not.toContain('url-s3cret');
      await h.stop();
    }
    // A wrong password in the URL: every retry line redacted too.
    const bad = await startDaemon(dir.path, 'box-plain-bad', mqtt('wrong-s3cret', true));
    cleanups.push(() => bad.stop());
    await waitFor(() => (bad.daemon.counters.snapshot().mqtt?.connect_failures ?? 0) >= 2, { what: 'refused twice (retrying)', timeoutMs: 20_000 });
    expect(bad.sink.lines.join('\n')).toMatch(/unreachable|Not authorized|Bad username or password/);
    expect(bad.sink.lines.join('\n')).not.toContain('wrong-s3cret');
  });
});

describe('protocol fallback', () => {
  it('a broker answering CONNACK "unacceptable protocol version" to MQTT 5 is retried with 3.1.1', async () => {
    // A minimal broker speaking only 3.1.1: refuses level 5 with return code 1, accepts level 4.
    const levels: number[] = [];
    const sockets = new Set<Socket>();
    const server: Server = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
      s.once('data', (buf) => {
        // CONNECT: fixed header (1 + remaining-length bytes), then "MQTT" (2+4 bytes), then the level.
        let i = 1;
        while ((buf[i]! & 0x80) !== 0) i++;
        const level = buf[i + 1 + 6]!;
        levels.push(level);
        s.write(Buffer.from([0x20, 0x02, 0x00, level === 4 ? 0x00 : 0x01]));
        if (level !== 4) s.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const port = (server.address() as { port: number }).port;
    const h = await startDaemon(dir.path, 'box-old', { url: `mqtt://127.0.0.1:${port}` });
    cleanups.push(() => h.stop());
    await waitFor(() => h.ext.connected, { what: 'connected with 3.1.1', timeoutMs: 20_000 });
    expect(levels.slice(0, 2)).toEqual([5, 4]);
    expect(h.daemon.counters.snapshot().mqtt?.protocol_fallbacks).toBe(1);
  });
});
