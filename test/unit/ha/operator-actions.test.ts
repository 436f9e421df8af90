// Operator actions as MQTT commands run them (runCommand with the real OperatorActions over a
// real VrrpRunner on a fake clock): one action at a time whoever asks, and `failover VI_2` hands
// over VI_2 alone. A VIP change the test holds open keeps an action "in progress".
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../helpers/fake-clock';
import { parseConfigText } from '../../../src/config';
import type { DaemonContext } from '../../../src/daemon/extension';
import { EventBus } from '../../../src/daemon/events';
import { OperatorActions } from '../../../src/ha/operator-actions';
import { planInstance } from '../../../src/ha/vrrp/instance-plan';
import { VrrpRunner, type VrrpIo } from '../../../src/ha/vrrp/runner';
import { Logger, memorySink } from '../../../src/log';
import { runCommand } from '../../../src/mqtt/commands/handlers';
import type { ParsedRequest } from '../../../src/mqtt/commands/request';

function box() {
  const r = parseConfigText(JSON.stringify({
    node: { name: 'box' },
    instances: {
      VI_1: { interface: 'lan0', vrid: 51, priority: 150, vips: ['192.0.2.10/24'] },
      VI_2: { interface: 'lan0', vrid: 52, priority: 150, vips: ['192.0.2.20/24'] },
    },
  }));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const config = r.config;
  const clock = new FakeClock();
  /** While set, VIP changes wait for it: the action that asked for them stays in progress. */
  let hold: Promise<void> | undefined;
  const io: VrrpIo = { send: () => {}, setVips: async () => hold, announce: () => {} };
  const plans = Object.keys(config.instances).map((n) => planInstance(config, n, config.instances[n]!, '192.0.2.1', ['192.0.2.1']));
  const log = new Logger({ sink: memorySink(), level: 'debug', format: 'text', now: () => clock.now() }).for('vrrp');
  const runner = new VrrpRunner({ plans, groups: {}, io, clock, log, bus: new EventBus() });
  const ha = new OperatorActions(() => runner, () => clock.now());
  const reloads: string[] = [];
  const ctx = {
    config,
    status: () => ({ node: 'box' }),
    reload: async (cause: string) => (reloads.push(cause), { ok: true, changed: false, oldHash: 'h', newHash: 'h' }),
  } as unknown as DaemonContext;
  const mqtt = (command: ParsedRequest['command'], args: Record<string, unknown> = {}) =>
    runCommand({ command, args }, { ctx, ha, mqttDiagnostics: () => ({}) }).then((o) => o.response);
  const state = () => Object.fromEntries(runner.views().map((v) => [v.plan.name, { state: v.snapshot.state, demotions: v.snapshot.demotions }]));
  const holdVips = () => {
    let release!: () => void;
    hold = new Promise<void>((r) => (release = r));
    return () => {
      hold = undefined;
      release();
    };
  };
  runner.start();
  clock.runUntil(10_000); // alone on the wire: both instances MASTER after Master_Down_Interval
  return { runner, ha, mqtt, state, holdVips, reloads };
}

describe('operator actions over MQTT', () => {
  it('failover VI_2 hands over VI_2 alone; VI_1 stays MASTER, undemoted', async () => {
    const b = box();
    let changed = 0;
    b.ha.onDemotionsChanged(() => changed++);
    expect(b.state()).toEqual({ VI_1: { state: 'MASTER', demotions: [] }, VI_2: { state: 'MASTER', demotions: [] } });
    const r = await b.mqtt('failover', { instance: 'VI_2' });
    expect(r).toMatchObject({ status: 'ok', data: { handed_over: ['VI_2'] } });
    expect(b.state()).toEqual({ VI_1: { state: 'MASTER', demotions: [] }, VI_2: { state: 'BACKUP', demotions: ['maintenance'] } });
    expect(changed).toBe(1); // the MQTT state is republished on it
    expect(await b.mqtt('failover', { instance: 'VI_9' })).toMatchObject({ status: 'error', error: "no instance 'VI_9' (instances: VI_1, VI_2)" });
  });

  it('while an action is in progress (a console maintenance here) MQTT maintenance, failover, reload and config push are refused, naming it; afterwards they run', async () => {
    const b = box();
    const release = b.holdVips();
    // The console's maintenance goes through the same OperatorActions (src/commands/run.ts).
    const consoleMaintenance = b.ha.maintenance(true);
    expect(b.ha.inProgress()).toBe('maintenance on');
    const refusal = expect.stringMatching(/^another action 'maintenance on' is in progress \(started \d+ s ago\); try again when it has finished$/);
    expect(await b.mqtt('failover', { instance: 'VI_1' })).toMatchObject({ status: 'error', error: refusal });
    expect(await b.mqtt('maintenance', { on: false })).toMatchObject({ status: 'error', error: refusal });
    expect(await b.mqtt('reload')).toMatchObject({ status: 'error', error: refusal });
    expect(await b.mqtt('config', { config: {} })).toMatchObject({ status: 'error', error: refusal });
    expect(b.reloads).toEqual([]);
    // None of the refused ones touched an instance: the console's maintenance is all there is.
    expect(b.state()).toEqual({ VI_1: { state: 'BACKUP', demotions: ['maintenance'] }, VI_2: { state: 'BACKUP', demotions: ['maintenance'] } });

    release();
    expect(await consoleMaintenance).toMatchObject({ ok: true });
    expect(b.ha.inProgress()).toBeUndefined();
    expect(await b.mqtt('reload')).toMatchObject({ status: 'ok', data: { changed: false } });
    expect(b.reloads).toEqual(['mqtt request']);
    expect(await b.mqtt('maintenance', { on: false })).toMatchObject({ status: 'ok', data: { maintenance: false } });
    expect(b.state()).toEqual({ VI_1: { state: 'BACKUP', demotions: [] }, VI_2: { state: 'BACKUP', demotions: [] } });
  });

  it('an MQTT action in progress makes the console\'s next one refused too (the guard is shared both ways)', async () => {
    const b = box();
    const release = b.holdVips();
    const mqttFailover = b.mqtt('failover', { instance: 'VI_1' });
    await Promise.resolve();
    expect(b.ha.inProgress()).toBe('failover VI_1');
    expect(await b.ha.failover('VI_2')).toMatchObject({ ok: false, error: expect.stringMatching(/^another action 'failover VI_1' is in progress/) });
    release();
    expect(await mqttFailover).toMatchObject({ status: 'ok', data: { handed_over: ['VI_1'] } });
    expect(b.state()).toEqual({ VI_1: { state: 'BACKUP', demotions: ['maintenance'] }, VI_2: { state: 'MASTER', demotions: [] } });
  });
});
