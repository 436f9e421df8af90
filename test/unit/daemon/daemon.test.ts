import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText, type ConfigResult, type TwinvipConfig } from '../../../src/config';
import { requestOnce } from '../../../src/control';
import { Daemon, type Extension } from '../../../src/daemon';
import { Logger, memorySink } from '../../../src/log';
import { makeTempDir, type TempDir } from '../../helpers/tmp';

let dir: TempDir;
let daemon: Daemon;
let sink: ReturnType<typeof memorySink>;
let next: ConfigResult;

function cfg(name: string, socket: string): TwinvipConfig {
  const r = parseConfigText(JSON.stringify({ node: { name, state_dir: dir.path }, control: { socket }, logging: { level: 'info', format: 'text' }, instances: {} }));
  if (!r.ok) throw new Error(`test config refused: ${JSON.stringify(r.errors)}`);
  return r.config;
}

/** An extension that records its start and stop; `fail` makes start() throw it. */
function probe(name: string, order: string[], fail?: Error): Extension {
  return {
    name,
    start: (ctx) => {
      if (fail) throw fail;
      order.push(`start ${name}`);
      ctx.control.register(`${name}-cmd`, () => name);
    },
    stop: () => {
      order.push(`stop ${name}`);
    },
    featureStatus: () => ({ state: 'running' }),
  };
}

function makeDaemon(extensions: Extension[] = []): Daemon {
  sink = memorySink();
  const logger = new Logger({ sink, level: 'debug' });
  return new Daemon({
    configPath: dir.file('twinvip.json'),
    config: cfg('box-a', dir.file('ctl.sock')),
    configHash: 'hash-1',
    logger,
    extensions,
    loadConfig: async () => next,
  });
}

beforeEach(() => {
  dir = makeTempDir();
});

afterEach(async () => {
  await daemon?.stop('test end');
  dir.remove();
});

describe('Daemon', () => {
  it('answers status with node, pid, config hash and path, and counters', async () => {
    daemon = makeDaemon();
    expect(await daemon.start()).toEqual({ ok: true });
    const r = await requestOnce(dir.file('ctl.sock'), 'status');
    expect(r.ok && r.response.status === 'ok').toBe(true);
    const data = (r as { response: { data: Record<string, unknown> } }).response.data;
    expect(data).toMatchObject({ node: 'box-a', pid: process.pid, config: { hash: 'hash-1', path: dir.file('twinvip.json') }, instances: [] });
    expect(data.counters).toMatchObject({ control: { requests: 1 } });
  });

  it('refuses a bad reload, logging every error with the path, and keeps the running config', async () => {
    daemon = makeDaemon();
    await daemon.start();
    const refused: string[] = [];
    daemon.bus.on('config-refused', (e) => refused.push(e.keptHash));
    next = { ok: false, errors: [{ path: '/node/name', message: 'must be a string' }, { path: '/control', message: 'must be an object' }], warnings: [] };
    const r = await daemon.reload('SIGHUP');
    expect(r).toMatchObject({ ok: false, keptHash: 'hash-1' });
    expect(daemon.configHash).toBe('hash-1');
    expect(daemon.config.node.name).toBe('box-a');
    expect(refused).toEqual(['hash-1']);
    const text = sink.lines.join('\n');
    expect(text).toContain(`config refused: 2 error(s) in ${dir.file('twinvip.json')}; keeping running config hash-1`);
    expect(text).toContain('/node/name: must be a string');
    expect(text).toContain('/control: must be an object');
  });

  it('applies a good reload: new hash, logger reconfigured, extensions told, event emitted', async () => {
    const reloadedSeen: string[] = [];
    const ext: Extension = { name: 'probe', start() {}, stop() {}, onConfigReloaded: (ctx) => { reloadedSeen.push(ctx.configHash); } };
    daemon = makeDaemon([ext]);
    await daemon.start();
    const events: string[] = [];
    daemon.bus.on('config-reloaded', (e) => events.push(`${e.oldHash}->${e.newHash}`));
    next = { ok: true, config: { ...cfg('box-b', dir.file('ctl.sock')), logging: { ...cfg('box-b', dir.file('ctl.sock')).logging, level: 'info', format: 'json' } }, hash: 'hash-2', warnings: [] };
    expect(await daemon.reload('SIGHUP')).toEqual({ ok: true, changed: true, oldHash: 'hash-1', newHash: 'hash-2' });
    expect(daemon.config.node.name).toBe('box-b');
    expect(events).toEqual(['hash-1->hash-2']);
    expect(reloadedSeen).toEqual(['hash-2']);
    expect(JSON.parse(sink.lines.at(-1)!)).toMatchObject({ msg: 'config reloaded: hash-1 -> hash-2', old: 'hash-1', new: 'hash-2' });
  });

  it('the reload control command takes the same path and reports a refusal as an error', async () => {
    daemon = makeDaemon();
    await daemon.start();
    next = { ok: false, errors: [{ path: '/x', message: 'bad' }], warnings: [] };
    const r = await requestOnce(dir.file('ctl.sock'), 'reload');
    expect(r).toMatchObject({ ok: true, response: { status: 'error', error: expect.stringMatching(/config refused, running config hash-1 kept:\n.*\/x: bad/) } });
  });

  it('log {n} returns the newest lines from the ring', async () => {
    daemon = makeDaemon();
    await daemon.start();
    daemon.logger.for('vrrp').forInstance('VI_1').info('BACKUP -> MASTER (master down, 1204 ms)');
    const r = await requestOnce(dir.file('ctl.sock'), 'log', { n: 1 });
    expect(r).toMatchObject({ ok: true, response: { status: 'ok', data: { lines: [expect.stringMatching(/info  VI_1: BACKUP -> MASTER \(master down, 1204 ms\)$/)] } } });
    expect(await requestOnce(dir.file('ctl.sock'), 'log', { n: -1 })).toMatchObject({ response: { status: 'error' } });
  });

  it('starts extensions in order, stops them in reverse and removes the socket', async () => {
    const order: string[] = [];
    daemon = makeDaemon([probe('a', order), probe('b', order)]);
    expect(await daemon.start()).toEqual({ ok: true });
    expect(await requestOnce(dir.file('ctl.sock'), 'b-cmd')).toMatchObject({ response: { data: 'b' } });
    await daemon.stop('SIGTERM');
    expect(await daemon.stopped).toBe('SIGTERM');
    expect(order).toEqual(['start a', 'start b', 'stop b', 'stop a']);
    expect(existsSync(dir.file('ctl.sock'))).toBe(false);
  });

  it('a feature that cannot start is fatal: one line with the feature, the call and the errno; what started is stopped, the next never starts', async () => {
    const order: string[] = [];
    const err = Object.assign(new Error('lan0: VRRP socket (IPv4): setsockopt IP_MULTICAST_IF ENOPROTOOPT (Protocol not available)'), { code: 'ENOPROTOOPT', syscall: 'setsockopt IP_MULTICAST_IF' });
    daemon = makeDaemon([probe('a', order), probe('vrrp', order, err), probe('b', order)]);
    const r = await daemon.start();
    expect(r).toEqual({
      ok: false,
      error: "feature 'vrrp' cannot start: lan0: VRRP socket (IPv4): setsockopt IP_MULTICAST_IF ENOPROTOOPT (Protocol not available)",
      feature: { feature: 'vrrp', line: expect.any(String), call: 'setsockopt IP_MULTICAST_IF', errno: 'ENOPROTOOPT' },
    });
    expect(await daemon.stopped).toBe("feature 'vrrp' cannot start");
    // The failed feature's stop() runs too: it undoes whatever it opened before failing.
    expect(order).toEqual(['start a', 'stop vrrp', 'stop a']);
    expect(existsSync(dir.file('ctl.sock'))).toBe(false);
    expect(sink.lines.join('\n')).toContain("error daemon: feature 'vrrp' cannot start: lan0: VRRP socket (IPv4): setsockopt IP_MULTICAST_IF ENOPROTOOPT");
    expect(sink.lines.join('\n')).not.toMatch(/started: node/);
  });

  it('an error without the errno in its text gets it appended to the line', async () => {
    const err = Object.assign(new Error('the heartbeat port refused'), { code: 'EISDIR', syscall: 'open' });
    daemon = makeDaemon([probe('heartbeat', [], err)]);
    const r = await daemon.start();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe("feature 'heartbeat' cannot start: the heartbeat port refused (open EISDIR)");
  });

  it('a fault while running: degraded with the reason in status, a critical alarm; cleared again', async () => {
    const order: string[] = [];
    daemon = makeDaemon([probe('vrrp', order)]);
    await daemon.start();
    const alarms: string[] = [];
    daemon.bus.on('alarm', (a) => alarms.push(`${a.id} ${a.active ? 'raised' : 'cleared'} ${a.severity}: ${a.message}`));
    let changes = 0;
    daemon.onFaultsChanged(() => changes++);
    expect(daemon.status()).toMatchObject({ health: { state: 'ok', reasons: [] }, features: { vrrp: { state: 'running' } } });
    const reason = 'lan0: VRRP socket cannot send: sendmsg EPERM (Operation not permitted); VI_1 in FAULT';
    daemon.reportFault({ id: 'vrrp-socket-failed', feature: 'vrrp', reason, instances: ['VI_1'] });
    daemon.reportFault({ id: 'vrrp-socket-failed', feature: 'vrrp', reason, instances: ['VI_1'] });
    const st = await requestOnce(dir.file('ctl.sock'), 'status');
    expect(st).toMatchObject({ response: { data: { health: { state: 'degraded', reasons: [reason] }, features: { vrrp: { state: 'degraded', detail: reason } } } } });
    daemon.clearFault('vrrp-socket-failed', 'lan0: VRRP socket reopened');
    expect(daemon.status().health).toEqual({ state: 'ok', reasons: [] });
    expect(alarms).toEqual([`vrrp-socket-failed raised critical: ${reason}`, 'vrrp-socket-failed cleared critical: lan0: VRRP socket reopened']);
    expect(changes).toBe(3);
    expect(sink.lines.join('\n')).toContain(`error daemon: degraded: ${reason}`);
  });

  it('refuses to start when another daemon answers on the socket', async () => {
    daemon = makeDaemon();
    await daemon.start();
    const second = makeDaemon();
    const r = await second.start();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/another twinvip daemon is already answering/);
  });

  it('forwards every log line onto the bus', async () => {
    daemon = makeDaemon();
    const seen: string[] = [];
    daemon.bus.on('log', (r) => seen.push(`${r.subsystem}:${r.msg}`));
    daemon.logger.for('mqtt').warn('broker down');
    expect(seen).toEqual(['mqtt:broker down']);
  });

  it('keeps the alarms raised and not cleared, so a feature started later (MQTT, e-mail) sees those raised before it', async () => {
    const at = 1;
    const seenAtStart: string[][] = [];
    const early: Extension = {
      name: 'nginx-like',
      start: (ctx) => {
        ctx.bus.emit('alarm', { id: 'certificate-expiring:/a.crt', active: true, severity: 'warning', message: 'a', at });
        ctx.bus.emit('alarm', { id: 'certificate-expiring:/b.crt', active: true, severity: 'warning', message: 'b', at });
        ctx.bus.emit('alarm', { id: 'certificate-expiring:/b.crt', active: false, severity: 'warning', message: 'b renewed', at });
        ctx.bus.emit('alarm', { id: 'x', instance: 'VI_1', active: true, severity: 'critical', message: 'x on VI_1', at });
        ctx.bus.emit('alarm', { id: 'x', instance: 'VI_2', active: true, severity: 'critical', message: 'x on VI_2', at });
      },
      stop: () => undefined,
    };
    const late: Extension = { name: 'mqtt-like', start: (ctx) => void seenAtStart.push((ctx.activeAlarms?.() ?? []).map((a) => a.message)), stop: () => undefined };
    daemon = makeDaemon([early, late]);
    await daemon.start();
    expect(seenAtStart).toEqual([['a', 'x on VI_1', 'x on VI_2']]);
    daemon.bus.emit('alarm', { id: 'x', instance: 'VI_1', active: false, severity: 'critical', message: 'cleared', at });
    expect(daemon.activeAlarms().map((a) => a.message)).toEqual(['a', 'x on VI_2']);
  });
});
