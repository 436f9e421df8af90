// Operator maintenance and the heartbeat's gateway-rule release on a real pair: two named
// demotions of one instance, each set and lifted only by its owner. Lifting the release never
// ends the maintenance, `maintenance off` never ends the release (the twin keeps hearing
// "releasing" over serial), and each is visible in `status`, the console and the MQTT state.
//
// The release happens as the decision table's row 3 says: box a (MASTER) loses its LAN port
// (bridge port disabled, its link stays UP), so its gateway check (ping of the client namespace,
// role "gateway") fails and b stops hearing its adverts, while b still reaches the gateway: a
// releases the instance over serial and b takes over. a's MQTT broker runs on a's own loopback,
// so the state stays observable while a's LAN is cut; telemetry is hourly, so every change of
// the demotions must republish the retained state by itself (a maintenance on a BACKUP moves no
// instance).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requestOnce } from '../../../src/control';
import { runCli } from '../../helpers/bundle';
import { patience } from '../../helpers/patience';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { NetnsLab } from '../helpers/netns';
import { Mosquitto } from '../mqtt/broker';
import { type Box, PairLab, VIP } from './pair-lab';

let p: PairLab;
let broker: Mosquitto;
let notifyLog: string;

const BROKER_PORT = 1883;

function instance(box: Box) {
  return {
    VI_1: {
      interface: box.ifname, vrid: 77, priority: box.priority, advert_int: 1, vips: [`${VIP}/24`],
      // Down: priority - 10, not FAULT (a's 140 still outranks b's 100: only the release moves it).
      track_checks: [{ name: 'gw', weight: -10 }],
    },
  };
}

const checks = { gw: { type: 'ping', host: '10.77.0.9', interval: 0.5, timeout: 0.5, fall: 1, rise: 1, role: 'gateway' } };

interface InstanceStatus { name: string; state: string; priority: number; demotions?: string[] }

async function instanceStatus(box: Box): Promise<InstanceStatus | undefined> {
  const r = await requestOnce(box.socket, 'status', undefined, { timeoutMs: 3000 });
  if (!r.ok || r.response.status !== 'ok') return undefined;
  return (r.response.data as { instances: InstanceStatus[] }).instances[0];
}

/** Adverts a's instance has accepted (`vrrp` control command). */
async function advertsReceived(box: Box): Promise<number> {
  const r = await requestOnce(box.socket, 'vrrp', undefined, { timeoutMs: 3000 });
  if (!r.ok || r.response.status !== 'ok') return 0;
  return (r.response.data as { counters: { advertsReceived: number } }[])[0]?.counters.advertsReceived ?? 0;
}

const sorted = (d: readonly string[] | undefined) => [...(d ?? [])].sort();

/** Waits until a's status shows exactly these demotions (any order). */
async function demotedBy(box: Box, want: string[], what: string): Promise<InstanceStatus> {
  return p.waitFor(async () => {
    const s = await instanceStatus(box);
    return s && JSON.stringify(sorted(s.demotions)) === JSON.stringify(sorted(want)) ? s : undefined;
  }, () => `${box.id} demoted by [${want.join(', ')}] (${what})${p.logs()}`, 30_000);
}

/** `twinvip console` (the local client, piped) against the box: its answers. */
async function consoleSays(box: Box, input: string): Promise<string> {
  const r = await runCli(['console', '-s', box.socket], { input });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** The retained MQTT state of box a, read on a's own loopback. */
async function mqttState(): Promise<{ instances: Record<string, { state: string; demotions?: string[] }> } | undefined> {
  const r = await p.a.ns.tryRun('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(BROKER_PORT), '-t', 'twinvip/box-a/state', '-C', '1', '-W', '3'], 10_000);
  try {
    return JSON.parse(r.stdout) as never;
  } catch {
    return undefined;
  }
}

async function mqttShows(want: string[], what: string): Promise<void> {
  await p.waitFor(async () => {
    const s = await mqttState();
    return JSON.stringify(sorted(s?.instances.VI_1?.demotions)) === JSON.stringify(sorted(want)) || undefined;
  }, () => `MQTT state of box-a demoted by [${want.join(', ')}] (${what})${p.logs()}`, 30_000);
}

/** What b (the twin) hears over serial about a's instance: releasing or not. */
async function twinHearsReleasing(releasing: boolean, what: string): Promise<void> {
  await p.waitFor(async () => {
    const hb = (await p.heartbeat(p.b)) as unknown as { peer: { instances: { releasing: boolean }[] } | null } | null;
    return hb?.peer?.instances[0]?.releasing === releasing || undefined;
  }, () => `b hears a ${releasing ? '' : 'not '}releasing over serial (${what})${p.logs()}`, 20_000);
}

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  p = await PairLab.startPair({
    before: async (q) => {
      broker = new Mosquitto({ dir: q.dir, port: BROKER_PORT, netns: q.a.ns.name });
      await broker.start();
      notifyLog = join(q.dir, 'notify-a.log');
      writeFileSync(notifyLog, '');
    },
    config: (box) =>
      box.id === 'a'
        ? {
            instances: { VI_1: { ...instance(box).VI_1, notify: { notify: ['/bin/sh', '-c', `echo "$*" >> ${notifyLog}`, 'notify'] } } },
            checks,
            // The lab's temporary directory is not root-only: run the notify script anyway (with a warning).
            notify: { enable_script_security: false },
            mqtt: { enabled: true, url: `mqtt://127.0.0.1:${BROKER_PORT}`, telemetry_interval: 3600, reconnect_min: 0.2, reconnect_max: 1 },
          }
        : { instances: instance(box), checks },
  });
}, patience(60_000));

afterAll(async () => {
  await broker?.stop();
  await p?.cleanup();
}, patience(60_000));

describeRequiring([...NetnsLab.prerequisites, needsProgram('mosquitto'), needsProgram('mosquitto_sub', 'mosquitto-clients'), needsProgram('ping', 'iputils-ping')],
  'maintenance and heartbeat release on a real pair: two demotions, each lifted only by its owner', () => {
  it('release, then maintenance on and off: the release holds; the release lifted: the maintenance holds; maintenance off: a preempts back', async () => {
    await p.masterIs(p.a, p.b);
    await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, 'serial up on both');
    await demotedBy(p.a, [], 'start');
    await mqttShows([], 'start');
    // stdout only: log() appends stderr after it, so a mark in log() would shift.
    const startedMark = p.a.proc!.stdout.length;

    // 1. a's LAN port down: its gateway fails, b stops hearing it, a releases over serial.
    await p.cutLan(p.a);
    const released = await demotedBy(p.a, ['heartbeat-release'], 'released on the gateway rule');
    expect(released.state).toBe('BACKUP');
    expect(released.priority).toBe(0);
    await p.waitFor(async () => (await p.state(p.b)) === 'MASTER', () => `b MASTER on the release${p.logs()}`);
    await p.waitFor(() => p.hasVip(p.b), 'VIP on b');
    expect(await p.hasVip(p.a)).toBe(false);
    expect(p.a.log()).toMatch(/VI_1: releasing to the twin: Ethernet path to 2 broken; it reaches the LAN gateway and this node does not/);
    await twinHearsReleasing(true, 'released');

    // 2. The operator's maintenance on top (console): both demotions, both shown everywhere.
    expect(await consoleSays(p.a, 'maintenance on\ny\n')).toMatch(/maintenance on: done/);
    await demotedBy(p.a, ['heartbeat-release', 'maintenance'], 'release + maintenance');
    expect(await consoleSays(p.a, 'vrrp\n')).toMatch(/VI_1 demoted: (heartbeat-release, maintenance|maintenance, heartbeat-release)/);
    await mqttShows(['heartbeat-release', 'maintenance'], 'release + maintenance');

    // 3. maintenance off ends the operator's demotion only: the release holds, a stays BACKUP at
    // priority 0, and the twin still hears "releasing" over serial.
    expect(await consoleSays(p.a, 'maintenance off\ny\n')).toMatch(/maintenance off: done/);
    const stillReleased = await demotedBy(p.a, ['heartbeat-release'], 'maintenance off, release held');
    expect(stillReleased).toMatchObject({ state: 'BACKUP', priority: 0 });
    await mqttShows(['heartbeat-release'], 'maintenance off, release held');
    await twinHearsReleasing(true, 'maintenance off, release held');
    expect(await p.state(p.b)).toBe('MASTER');

    // 4. Maintenance on again, then the LAN back: the gateway answers, the heartbeat lifts its
    // release, and the maintenance holds a in BACKUP at priority 0.
    expect(await consoleSays(p.a, 'maintenance on\ny\n')).toMatch(/maintenance on: done/);
    await demotedBy(p.a, ['heartbeat-release', 'maintenance'], 'maintenance on again');
    // stdout only: log() appends stderr after it, so a mark in log() would shift.
    const healedMark = p.a.proc!.stdout.length;
    await p.healLan(p.a);
    await p.waitFor(() => /VI_1: release lifted \(gateway reachable again\): back to plain VRRP/.test(p.a.proc!.stdout.slice(healedMark)), () => `the release lifted${p.logs()}`);
    const inMaintenance = await demotedBy(p.a, ['maintenance'], 'release lifted, maintenance held');
    expect(inMaintenance).toMatchObject({ state: 'BACKUP', priority: 0 });
    expect(await consoleSays(p.a, 'vrrp\n')).toMatch(/VI_1 demoted: maintenance\n/);
    await mqttShows(['maintenance'], 'release lifted, maintenance held');
    await twinHearsReleasing(false, 'release lifted');
    // Long enough for a preempt to have happened without the maintenance: a hears b's adverts
    // again for more than Master_Down_Interval (3 x 1 s + skew).
    const from = await advertsReceived(p.a);
    await p.waitFor(async () => (await advertsReceived(p.a)) >= from + 5, () => `five adverts from b heard on a${p.logs()}`, 30_000);
    expect(await p.state(p.a)).toBe('BACKUP');
    expect(await p.state(p.b)).toBe('MASTER');
    expect(p.a.proc!.stdout.slice(healedMark)).not.toMatch(/VI_1: BACKUP -> MASTER/);

    // 5. maintenance off: nothing holds a any more; with the higher priority it preempts back.
    expect(await consoleSays(p.a, 'maintenance off\ny\n')).toMatch(/maintenance off: done/);
    await demotedBy(p.a, [], 'both lifted');
    await p.masterIs(p.a, p.b);
    await mqttShows([], 'both lifted');

    // The notify scripts followed the core's notify actions from start-up to a graceful stop:
    // one line per transition a logged (INIT on shutdown: STOP). From the test's start on, those
    // are BACKUP on the release (maintenance alone moved nothing), MASTER, STOP; before it,
    // start-up's BACKUP and MASTER (on a loaded machine b may come up MASTER first and a preempt
    // it, still BACKUP, MASTER; anything else before the test is printed with both logs).
    await p.a.proc!.kill();
    expect(p.a.proc!.exitCode).toBe(0);
    // Transition lines only ("VI_1: A -> B (cause)"), not the "...: release sent" line after one.
    const states = (text: string) => [...text.matchAll(/^\S+ +\w+ +VI_1: \w+ -> (\w+) \(.*\)$/gm)].map((m) => (m[1] === 'INIT' ? 'STOP' : m[1]!));
    const core = states(p.a.proc!.stdout);
    const lines = () => readFileSync(notifyLog, 'utf8').trim().split('\n').filter(Boolean);
    await p.waitFor(() => lines().length >= core.length, () => `${core.length} notify lines:\n${readFileSync(notifyLog, 'utf8')}${p.logs()}`);
    expect(lines().map((l) => l.split(' ').slice(0, 3).join(' ')), `notify lines against a's transitions${p.logs()}`).toEqual(core.map((s) => `INSTANCE VI_1 ${s}`));
    expect(states(p.a.proc!.stdout.slice(startedMark)), `a's transitions during the test${p.logs()}`).toEqual(['BACKUP', 'MASTER', 'STOP']);
    expect(states(p.a.proc!.stdout.slice(0, startedMark)), `a's transitions at start-up${p.logs()}`).toEqual(['BACKUP', 'MASTER']);
  }, patience(240_000));
});
