import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { statSync, existsSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandError, ControlClient, ControlServer, requestOnce } from '../../../src/control';
import { Logger, memorySink } from '../../../src/log';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { waitFor, withTimeout } from '../../helpers/wait';

let dir: TempDir;
let server: ControlServer;
let sock: string;
const clients: ControlClient[] = [];

function newServer(opts: { maxLineBytes?: number; maxClients?: number; maxQueuedBytes?: number; maxInFlight?: number } = {}): ControlServer {
  const log = new Logger({ sink: memorySink(), level: 'debug' }).for('control');
  const s = new ControlServer({ log, ...opts });
  s.register('ping', () => 'pong');
  s.register('echo', (args) => args);
  s.register('refuse', () => {
    throw new CommandError('not now');
  });
  s.register('bug', () => {
    throw new TypeError('oops');
  });
  s.register('slow', () => new Promise((r) => setTimeout(() => r('late'), 200)));
  return s;
}

async function client(): Promise<ControlClient> {
  const c = await ControlClient.connect(sock, { timeoutMs: 5000 });
  if (!c.ok) throw new Error(c.message);
  clients.push(c.client);
  return c.client;
}

/** Raw socket that collects response lines. */
async function raw(): Promise<{ s: Socket; lines: () => unknown[]; closed: Promise<void> }> {
  const s = connect(sock);
  await new Promise<void>((res, rej) => {
    s.once('connect', res);
    s.once('error', rej);
  });
  let buf = '';
  s.on('data', (d) => {
    buf += d.toString();
  });
  s.on('error', () => {});
  const closed = new Promise<void>((res) => s.once('close', () => res()));
  return { s, lines: () => buf.split('\n').filter(Boolean).map((l) => JSON.parse(l)), closed };
}

beforeEach(async () => {
  dir = makeTempDir();
  sock = dir.file('run/ctl.sock'); // parent does not exist yet: listen must create it
  server = newServer({ maxLineBytes: 1024 });
  const r = await server.listen(sock);
  expect(r).toEqual({ ok: true });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
  dir.remove();
});

describe('ControlServer', () => {
  it('creates the parent dir and the socket with mode 0660', () => {
    const st = statSync(sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
  });

  it('answers registered commands, matching ids, several in flight out of order', async () => {
    const c = await client();
    const [slow, ping, echo] = await Promise.all([c.request('slow'), c.request('ping'), c.request('echo', { a: [1, 2] })]);
    expect(slow).toMatchObject({ ok: true, response: { status: 'ok', data: 'late' } });
    expect(ping).toMatchObject({ ok: true, response: { status: 'ok', data: 'pong' } });
    expect(echo).toMatchObject({ ok: true, response: { status: 'ok', data: { a: [1, 2] } } });
  });

  it('answers unknown commands, refusals and handler bugs with errors and keeps serving', async () => {
    const c = await client();
    expect(await c.request('nope')).toMatchObject({ ok: true, response: { status: 'error', error: expect.stringMatching(/unknown command 'nope'.*ping/) } });
    expect(await c.request('refuse')).toMatchObject({ ok: true, response: { status: 'error', error: 'not now' } });
    expect(await c.request('bug')).toMatchObject({ ok: true, response: { status: 'error', error: expect.stringMatching(/internal error.*oops/) } });
    expect(await c.request('ping')).toMatchObject({ ok: true, response: { data: 'pong' } });
    expect(server.counters.handler_failures).toBe(1);
  });

  it('answers malformed JSON with an error and keeps the connection', async () => {
    const r = await raw();
    r.s.write('this is not json\n{"id":7}\n{"id":8,"cmd":"ping"}\n');
    await waitFor(() => r.lines().length === 3, { what: 'three responses' });
    expect(r.lines()).toEqual([
      { id: null, status: 'error', error: expect.stringMatching(/malformed JSON/) },
      { id: 7, status: 'error', error: expect.stringMatching(/'cmd'/) },
      { id: 8, status: 'ok', data: 'pong' },
    ]);
    expect(server.counters.malformed).toBe(2);
    r.s.destroy();
  });

  it('answers an oversize line with an error and closes that connection only', async () => {
    const r = await raw();
    r.s.write('x'.repeat(2000));
    await withTimeout(r.closed, 5000, 'server to close the oversize connection');
    expect(r.lines()).toEqual([{ id: null, status: 'error', error: 'request line longer than 1024 bytes' }]);
    expect(server.counters.oversize).toBe(1);
    expect(await requestOnce(sock, 'ping')).toMatchObject({ ok: true, response: { data: 'pong' } });
  });

  it('drops a client that never reads its answers instead of buffering for it', async () => {
    await server.close();
    server = newServer({ maxQueuedBytes: 64 * 1024 });
    server.register('big', () => 'y'.repeat(32 * 1024));
    expect(await server.listen(sock)).toEqual({ ok: true });
    const r = await raw();
    r.s.pause(); // never reads
    for (let i = 0; i < 200; i++) r.s.write(`{"id":${i},"cmd":"big"}\n`);
    await waitFor(() => server.counters.slow_clients_dropped >= 1, { what: 'the slow client to be dropped' });
    expect(await requestOnce(sock, 'ping')).toMatchObject({ ok: true, response: { data: 'pong' } });
    r.s.destroy();
  });

  it('refuses a second command of the same name unless told to replace it; unregister removes it', async () => {
    expect(() => server.register('ping', () => 1)).toThrow(/twice/);
    const off = server.register('ping', () => 'replaced', { replace: true });
    expect(await requestOnce(sock, 'ping')).toMatchObject({ response: { data: 'replaced' } });
    off();
    expect(await requestOnce(sock, 'ping')).toMatchObject({ response: { status: 'error' } });
  });

  it('refuses to start when another server answers on the path', async () => {
    const second = newServer();
    const r = await second.listen(sock);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/another twinvip daemon is already answering on .*ctl\.sock/);
    expect(await requestOnce(sock, 'ping')).toMatchObject({ response: { data: 'pong' } });
  });

  it('removes its socket file on close', async () => {
    await server.close();
    expect(existsSync(sock)).toBe(false);
  });
});

describe('socket path handling', () => {
  it('replaces a stale socket that nothing answers on', async () => {
    await server.close();
    // A socket file left behind by a killed daemon: a child binds it and SIGKILLs itself, so
    // nothing unlinks the file and nothing answers on it.
    const stale = dir.file('stale.sock');
    const child = spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(child.signal).toBe('SIGKILL');
    expect(statSync(stale).isSocket()).toBe(true);
    const s2 = newServer();
    expect(await s2.listen(stale)).toEqual({ ok: true });
    expect(await requestOnce(stale, 'ping')).toMatchObject({ response: { data: 'pong' } });
    await s2.close();
  });

  it('refuses to remove a path that is not a socket', async () => {
    const path = dir.file('regular');
    writeFileSync(path, 'keep me');
    const r = await newServer().listen(path);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/not a socket/);
    expect(existsSync(path)).toBe(true);
  });

  it('the client reports an absent daemon as unreachable, naming the path', async () => {
    const r = await requestOnce(dir.file('none.sock'), 'ping');
    expect(r).toMatchObject({ ok: false, reason: 'unreachable', message: expect.stringContaining('none.sock') });
  });
});

describe('per-connection bound', () => {
  it('refuses requests beyond the in-flight limit instead of queueing them', async () => {
    await server.close();
    server = newServer({ maxInFlight: 2 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    server.register('hold', () => gate.then(() => 'held'));
    expect(await server.listen(sock)).toEqual({ ok: true });
    const c = await client();
    const held = [c.request('hold'), c.request('hold')];
    const third = await c.request('hold');
    expect(third).toMatchObject({ ok: true, response: { status: 'error', error: expect.stringMatching(/busy/) } });
    release();
    for (const r of await Promise.all(held)) expect(r).toMatchObject({ ok: true, response: { data: 'held' } });
    expect(server.counters.busy).toBe(1);
  });
});

describe('client bound', () => {
  it('answers a client beyond maxClients with an error and closes it; others keep working', async () => {
    await server.close();
    server = newServer({ maxClients: 1 });
    expect(await server.listen(sock)).toEqual({ ok: true });
    const first = await client();
    await first.request('ping'); // the server has accepted the first connection
    const r = await raw();
    await withTimeout(r.closed, 5000, 'the extra client to be closed');
    expect(r.lines()).toEqual([{ id: null, status: 'error', error: 'too many control clients (max 1)' }]);
    expect(await first.request('ping')).toMatchObject({ ok: true, response: { data: 'pong' } });
    expect(server.counters.rejected_clients).toBe(1);
  });
});
