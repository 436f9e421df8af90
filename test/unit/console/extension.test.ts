import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config';
import { ConsoleExtension, PEER_STATUS_REQUEST, parsePeerSnapshot, renderStatus, type ConsoleWiring } from '../../../src/console';
import { ControlClient } from '../../../src/control';
import { Daemon } from '../../../src/daemon';
import { Logger, memorySink } from '../../../src/log';
import { makeTempDir, type TempDir } from '../../helpers/tmp';

let dir: TempDir;
let daemon: Daemon | undefined;
let client: ControlClient | undefined;

const configText = (name: string) => JSON.stringify({ node: { name, state_dir: '/tmp' }, control: { socket: dir.file('ctl.sock') }, instances: {} });

async function start(wiring: ConsoleWiring = {}) {
  writeFileSync(dir.file('twinvip.json'), configText('box-a'));
  const r = parseConfigText(configText('box-a'));
  if (!r.ok) throw new Error('test config refused');
  const ext = new ConsoleExtension(wiring);
  daemon = new Daemon({ configPath: dir.file('twinvip.json'), config: r.config, configHash: r.hash, logger: new Logger({ sink: memorySink() }), extensions: [ext] });
  expect(await daemon.start()).toEqual({ ok: true });
  const c = await ControlClient.connect(dir.file('ctl.sock'));
  if (!c.ok) throw new Error(c.message);
  client = c.client;
  return { ext, daemon, client: c.client };
}

async function say(c: ControlClient, args: Record<string, unknown>): Promise<{ text: string; prompt: string }> {
  const r = await c.request('console', args);
  if (!r.ok || r.response.status !== 'ok') throw new Error(JSON.stringify(r));
  return r.response.data as { text: string; prompt: string };
}

beforeEach(() => {
  dir = makeTempDir();
});

afterEach(async () => {
  client?.close();
  await daemon?.stop('test end');
  daemon = undefined;
  dir.remove();
});

describe('console over the control socket', () => {
  it('hello gives the banner and the prompt; a line gives its answer and the next prompt', async () => {
    const { client: c } = await start();
    const hello = await say(c, { hello: true });
    expect(hello.text).toContain("diagnostic console on box-a. Type 'help'.");
    expect(hello.prompt).toBe('twinvip box-a [no instances]> ');
    const st = await say(c, { line: 'status' });
    expect(st.text).toContain('node box-a');
    expect(st.text).toContain('vrrp: no instances configured');
  });

  it('keeps the question of a guarded action across requests of one connection only', async () => {
    const { client: c } = await start();
    expect((await say(c, { line: 'reload' })).prompt).toBe('reload: re-read the config file and apply it? (y/N) ');
    // Another connection is another session: it is not answering that question.
    const other = await ControlClient.connect(dir.file('ctl.sock'));
    if (!other.ok) throw new Error(other.message);
    expect((await say(other.client, { line: 'y' })).text).toContain("unknown command 'y'");
    other.client.close();
    const done = await say(c, { line: 'y' });
    expect(done.text).toMatch(/reload: done\. config unchanged \(\w+\)/);
  });

  it('interrupt cancels a question', async () => {
    const { client: c } = await start();
    await say(c, { line: 'reload' });
    const r = await say(c, { interrupt: true });
    expect(r.text).toContain('reload: cancelled');
    expect(r.prompt).toMatch(/^twinvip box-a/);
  });

  it('refuses a line with a newline inside (one line per request)', async () => {
    const { client: c } = await start();
    const r = await c.request('console', { line: 'status\nreload' });
    expect(r.ok && r.response.status === 'error' && r.response.error).toContain('one line per request');
  });

  it('config check re-reads the file without applying it', async () => {
    const { client: c, daemon: d } = await start();
    expect((await say(c, { line: 'config check' })).text).toContain(`valid (hash ${d.configHash}), the same as the running config`);
    writeFileSync(dir.file('twinvip.json'), configText('box-b'));
    expect((await say(c, { line: 'config check' })).text).toMatch(/valid \(hash \w+\), differs from the running \w+: 'reload' applies it/);
    writeFileSync(dir.file('twinvip.json'), '{"node": {"name": 42}}');
    const bad = (await say(c, { line: 'config check' })).text;
    expect(bad).toContain(`a reload would be refused and ${d.configHash} kept`);
    expect(bad).toContain('/node/name');
    expect(d.config.node.name).toBe('box-a');
  });

  it("counters are visible in the daemon's status and in the console itself", async () => {
    const { client: c, daemon: d } = await start();
    await say(c, { line: 'bogus' });
    expect(d.status().counters.console).toMatchObject({ unknown_commands: 1, port_opens: 0 });
    expect((await say(c, { line: 'counters' })).text).toMatch(/console\.unknown_commands\s+1/);
  });

  it("answers the twin's peer request with a snapshot the twin renders", async () => {
    const { ext } = await start({ view: { heartbeat: () => ({ ethernet: { state: 'lost' }, serial: { state: 'ok', lastHeardMs: 40 } }) } });
    const body = ext.answerPeerRequest(PEER_STATUS_REQUEST);
    expect(body).toBeDefined();
    const snap = parsePeerSnapshot(body!);
    expect(snap?.node).toBe('box-a');
    expect(renderStatus(snap!)).toMatch(/serial\s+ok\s+40 ms ago/);
    expect(ext.answerPeerRequest('something-else')).toBeUndefined();
  });

  it('shows DEGRADED with the reason on the status screen, the prompt and the twin\'s peer view', async () => {
    const { client: c, daemon: d, ext } = await start();
    d.reportFault({ id: 'vrrp-socket-failed:lan0/4', feature: 'vrrp', reason: 'lan0: VRRP socket (IPv4) failed 3 times in a row: sendmsg EPERM (Operation not permitted); VI_1 in FAULT' });
    const screen = (await say(c, { line: 'status' })).text;
    expect(screen).toContain('DEGRADED: lan0: VRRP socket (IPv4) failed 3 times in a row: sendmsg EPERM (Operation not permitted); VI_1 in FAULT');
    const peer = parsePeerSnapshot(ext.answerPeerRequest(PEER_STATUS_REQUEST)!);
    expect(renderStatus(peer!)).toContain('DEGRADED: lan0: VRRP socket (IPv4) failed 3 times in a row');
    d.clearFault('vrrp-socket-failed:lan0/4', 'reopened');
    expect((await say(c, { line: 'status' })).text).not.toContain('DEGRADED');
  });

  it('stop removes the console command and its counters', async () => {
    const { daemon: d } = await start();
    await d.stop('test');
    expect(d.control.commands().some((x) => x.cmd === 'console')).toBe(false);
    expect(d.status().counters.console).toBeUndefined();
    daemon = undefined;
  });
});

describe('peer snapshot parsing', () => {
  it('rejects what is not a snapshot and survives odd field types', () => {
    expect(parsePeerSnapshot('not json')).toBeUndefined();
    expect(parsePeerSnapshot('[1,2]')).toBeUndefined();
    const odd = parsePeerSnapshot(JSON.stringify({ node: 'box-b', instances: [{ name: 5, state: null }, 'x'], heartbeat: 'nope', nginx: { unavailable: 'not running' }, mqtt: { connected: 'yes' } }));
    expect(odd).toBeDefined();
    const text = renderStatus(odd!);
    expect(text).toMatch(/\?\s+\?/);
    expect(text).toContain('heartbeat: unreadable in the answer');
    expect(text).toContain('nginx  not running');
    expect(text).toContain('mqtt   DISCONNECTED');
  });
});
