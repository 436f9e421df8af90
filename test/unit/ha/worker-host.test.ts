// The channel between the daemon and the HA path (src/ha/worker/), inline over a MessageChannel
// (the source tree has no worker file; the bundle's thread is tested on real boxes in
// test/integration/heartbeat-pair/main-thread-busy.test.ts). No instance is configured here, so
// nothing touches the network: what is checked is the protocol — start, state mirror, commands,
// the status refresh, reload and stop.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText, type TwinvipConfig } from '../../../src/config';
import { requestOnce } from '../../../src/control';
import { Daemon } from '../../../src/daemon';
import { HaExtension } from '../../../src/ha/worker/host';
import { Logger, memorySink } from '../../../src/log';
import { makeTempDir, type TempDir } from '../../helpers/tmp';

let dir: TempDir;
let daemon: Daemon | undefined;

function cfg(socket: string, level: 'info' | 'debug' = 'info'): TwinvipConfig {
  const r = parseConfigText(JSON.stringify({ node: { name: 'box-a', state_dir: dir.path }, control: { socket }, logging: { level, format: 'text' }, instances: {} }));
  if (!r.ok) throw new Error(`test config refused: ${JSON.stringify(r.errors)}`);
  return r.config;
}

beforeEach(() => {
  dir = makeTempDir();
});

afterEach(async () => {
  await daemon?.stop('test end');
  daemon = undefined;
  dir.remove();
});

describe('HA path behind a message channel', () => {
  it('starts, says where it runs, and stands in for the runner with an empty mirror', async () => {
    const sink = memorySink();
    const ha = new HaExtension(undefined, { thread: 'main' });
    daemon = new Daemon({ configPath: dir.file('twinvip.json'), config: cfg(dir.file('ctl.sock')), configHash: 'h1', logger: new Logger({ sink }), extensions: [ha] });
    daemon.addStatusRefresher(() => ha.refresh());
    expect(await daemon.start()).toEqual({ ok: true });
    expect(sink.lines.join('\n')).toMatch(/HA path \(VRRP, serial heartbeat\) runs in the main thread/);
    expect(ha.thread).toBe('main');
    expect(ha.vrrp?.views()).toEqual([]);
    expect(ha.heartbeat.status()).toEqual({ enabled: false });
    // `status` waits for the refresh through the channel and answers as before.
    const r = await requestOnce(dir.file('ctl.sock'), 'status', undefined, { timeoutMs: 5000 });
    expect(r.ok && r.response.status).toBe('ok');
  });

  it('a reload reaches the HA side; after stop the runner port is gone and calls fail cleanly', async () => {
    const ha = new HaExtension(undefined, { thread: 'main' });
    const next = cfg(dir.file("ctl.sock"), "debug");
    daemon = new Daemon({
      configPath: dir.file('twinvip.json'), config: cfg(dir.file('ctl.sock')), configHash: 'h1', logger: new Logger({ sink: memorySink() }), extensions: [ha],
      loadConfig: async () => ({ ok: true, config: next, hash: 'h2', warnings: [] }),
    });
    await daemon.start();
    expect((await daemon.reload('test')).ok).toBe(true);
    await ha.refresh();
    await daemon.stop('test');
    daemon = undefined;
    expect(ha.vrrp).toBeUndefined();
    await expect(ha.runner.deliver('VI_1', { type: 'demote', reason: 'maintenance', active: true })[0]).rejects.toThrow(/not running/);
    expect(await ha.heartbeat.requestPeer('status')).toEqual({ ok: false, error: 'stopped' });
  });
});
