// An arm64 box doing the job (issue #25): box b runs the daemon of the arm64 tarball (`make rootfs
// ARCH=arm64`, its own Node.js, addon and serialport prebuild) under qemu-user, box a the x64
// bundle, in PairLab's network namespaces with a socat pty pair as the serial cable. Both start
// unpaired (a key_file that does not exist yet): `twinvip pair` on a shows the code, b's own arm64
// `twinvip pair --confirm` checks it, both write the same key and the authenticated serial
// heartbeat flows. Then b is BACKUP; when a stops, b takes over (the VIP appears in b's namespace,
// tcpdump on the LAN sees b's adverts); when a comes back, b hands the VIP back. Each box also runs
// Nginx control (its daemon renders and supervises a real nginx serving a page that names the
// box: a client on the LAN fetching http://VIP:8080/ sees which box answers) and MQTT (a real
// mosquitto in the client's namespace: b's retained state says MASTER after the takeover).
//
// Every wait is for an event (a state, an address, a packet), never a time: qemu-user runs the
// arm64 Node.js several times slower than native (bench/README.md). The takeover time (a's SIGTERM to
// the VIP in b's namespace by `ip -ts monitor`) is printed, not asserted: bench/README.md records
// it for b under qemu and, with TWINVIP_PAIR_B_ARCH=x64 (b from the x64 bundle instead), natively.
// TWINVIP_PAIR_CYCLES=N repeats the stop/take-over/hand-back cycle N times (default 1);
// TWINVIP_PAIR_SHOW_LOGS=1 prints both boxes' logs at the end.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab, type LabProcess } from '../helpers/netns';
import { type Box, BUNDLE, NODE, PairLab, VIP } from '../heartbeat-pair/pair-lab';
import { describeRequiring, needsProgram, type Prerequisite } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';
import { buildBundle, runCli, type CliResult } from '../../helpers/bundle';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { buildTarball, unpack } from './tarball';
import { arm64Missing, arm64Twinvip } from './arm64';
import { Mosquitto } from '../mqtt/broker';

const B_ARCH = process.env.TWINVIP_PAIR_B_ARCH === 'x64' ? 'x64' : 'arm64';
const CYCLES = Math.max(1, Number(process.env.TWINVIP_PAIR_CYCLES ?? '1') || 1);
const needsArm64: Prerequisite = () => (B_ARCH === 'arm64' ? arm64Missing() : undefined);

let root: TempDir | undefined;
let p: PairLab;
let broker: Mosquitto | undefined;
let wwwRoot: TempDir | undefined;
/** The MQTT broker on the LAN, in the client namespace c. */
const BROKER = '10.77.0.9';
const HTTP_PORT = 8080;

/** Nginx control and MQTT for `box`: a static page naming the box, served on port 8080. */
function services(box: Box): Record<string, unknown> {
  // Outside the lab's 0700 temp dir: Nginx's workers (user nobody) read the page.
  const www = join(wwwRoot!.path, box.id);
  mkdirSync(www, { mode: 0o755 });
  writeFileSync(join(www, 'index.html'), `served by box-${box.id}\n`, { mode: 0o644 });
  return {
    mqtt: { enabled: true, url: `mqtt://${BROKER}:1883`, telemetry_interval: 3600 },
    nginx: {
      enabled: true,
      prefix: join(p.dir, `nginx-${box.id}`),
      worker_shutdown_timeout: 2,
      http: [{ listen: [{ port: HTTP_PORT, default_server: true }], locations: [{ type: 'static', path: '/', root: www }] }],
    },
  };
}

/** What a client on the LAN gets from http://VIP:8080/ now ('' when nothing answers). */
async function page(): Promise<string> {
  const r = await p.c.tryRun('curl', ['-s', '--max-time', '3', `http://${VIP}:${HTTP_PORT}/`]);
  return r.code === 0 ? r.stdout.trim() : '';
}

/** The retained states `mosquitto_sub` in namespace c received from box b, oldest first. */
function bStates(sub: LabProcess): { instances: Record<string, { state: string }>; heartbeat: { enabled: boolean } }[] {
  const prefix = 'twinvip/box-b/state ';
  return sub.stdout.split('\n').filter((l) => l.startsWith(prefix)).map((l) => JSON.parse(l.slice(prefix.length)) as never);
}

const keyOf = (box: Box) => join(p.dir, `heartbeat-${box.id}.key`);

/** `twinvip ARGS` as box b runs it: the arm64 tarball's own (under qemu), or the x64 bundle. */
function bCommand(args: string[]): [string, string[]] {
  return B_ARCH === 'arm64' ? arm64Twinvip(root!.path, args) : [NODE, [BUNDLE, ...args]];
}

/** Box b's own CLI to completion (as a technician at b's console runs it). */
function bCli(args: string[], timeoutMs = 120_000): Promise<CliResult> {
  const [cmd, argv] = bCommand(args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), patience(timeoutMs));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `ip -ts monitor address` in a box's namespace, in UTC: when the VIP came and went there. */
function watchAddresses(box: Box): LabProcess {
  return box.ns.spawn('env', ['TZ=UTC', 'ip', '-ts', 'monitor', 'address', 'dev', box.ifname]);
}

/** Wall-clock ms of the first line of `mon` since `fromChar` that adds the VIP. */
function vipEventAt(mon: LabProcess, fromChar: number): number | undefined {
  for (const line of mon.stdout.slice(fromChar).split('\n')) {
    const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})\d*\] (Deleted )?.*inet (\S+)\//.exec(line);
    if (m && m[4] === VIP && !m[3]) return Date.parse(`${m[1]}.${m[2]}Z`);
  }
  return undefined;
}

describeRequiring(
  [...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('tcpdump'), needsProgram('nginx'), needsProgram('curl'), needsProgram('mosquitto'), needsProgram('mosquitto_sub', 'mosquitto-clients'), needsArm64],
  `an ${B_ARCH === 'arm64' ? 'arm64 box (its own tarball under qemu-user)' : 'x64 box (comparison run)'} as box b, paired with an x64 box a`,
  () => {
    beforeAll(async () => {
      buildBundle();
      if (B_ARCH === 'arm64') {
        root = makeTempDir('tv-arm64-pair-');
        unpack(buildTarball('arm64').path, root.path);
      }
      p = await PairLab.create();
      await p.startSerial();
      wwwRoot = makeTempDir('tv-arm64-www-');
      chmodSync(wwwRoot.path, 0o755);
      broker = new Mosquitto({ dir: p.dir, port: 1883, host: BROKER, netns: p.c.name });
      await broker.start();
    }, patience(240_000));

    afterAll(async () => {
      await broker?.stop();
      // Each box stops its own Nginx on SIGTERM; box b under qemu-user takes longer than the
      // lab's 3 s grace, and a SIGKILLed daemon leaves its Nginx running (outside the test, the
      // unit's KillMode=mixed ends it): one orphaned nginx per run was seen on the CI machine.
      // A long grace first, then whatever master is left (SIGTERM: it ends its workers), by the PID
      // in its own pid file.
      for (const box of p ? [p.b, p.a] : []) await box.proc?.kill(patience(30_000));
      for (const box of p ? [p.a, p.b] : []) {
        try {
          const prefix = join(p.dir, `nginx-${box.id}`);
          const pid = Number(readFileSync(join(prefix, 'run', 'nginx.pid'), 'utf8').trim());
          // Only that Nginx (a stale pid file's number may belong to another process by now).
          if (Number.isInteger(pid) && pid > 1 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(prefix)) process.kill(pid, 'SIGTERM');
        } catch {
          // no pid file (Nginx stopped and removed it), or the process is gone already
        }
      }
      await p?.cleanup();
      root?.remove();
      wwwRoot?.remove();
    }, patience(60_000));

    it('pairs over the serial cable, is BACKUP, takes over the VIP when a stops (adverts on the LAN, its nginx answers, MQTT says MASTER) and hands it back', async () => {
      // Both unpaired: the key files do not exist yet.
      await p.writeConfig(p.a, services(p.a), { serial: { key: undefined, key_file: keyOf(p.a) } });
      // b's serial silence counts as death after 5 s, not 2: a qemu-run Node.js stalls longer
      // than a native one (its JIT compiles through the emulator), and this test is about the
      // takeover when a stops, not about b's stalls.
      await p.writeConfig(p.b, services(p.b), { serial: { key: undefined, key_file: keyOf(p.b), dead_periods: 50 } });
      const sub = p.c.spawn('mosquitto_sub', ['-h', BROKER, '-p', '1883', '-t', 'twinvip/box-b/state', '-v']);
      const tcpdump = p.c.spawn('tcpdump', ['-i', 'lc', '-n', '-l', 'ip proto 112']);
      const monB = watchAddresses(p.b);
      const monA = watchAddresses(p.a);
      p.start(p.a);
      const [cmd, argv] = bCommand(['run', '-c', p.b.config]);
      p.b.proc = p.b.ns.spawn(cmd, argv);
      await p.waitFor(async () => {
        // A daemon that exited (a refused configuration) fails the test now, not at the timeout.
        for (const box of [p.a, p.b]) if (!box.proc!.running) throw new Error(`box ${box.id} exited (${box.proc!.exitCode})${p.logs()}`);
        return (await p.state(p.b)) === 'BACKUP' && (await p.state(p.a)) === 'MASTER';
      }, () => `a MASTER, b (${B_ARCH}) BACKUP${p.logs()}`, 120_000);
      // The control socket answers before the daemon logs that it has started: wait for the line.
      await p.waitFor(() => /started: node box-b/.test(p.b.log()), () => `b's start-up line${p.logs()}`, 60_000);

      // Pairing: the code shown on a, typed on b with b's own CLI.
      const started = await runCli(['pair', '--no-wait', '-s', p.a.socket], { timeoutMs: 60_000 });
      expect(started.code, started.stderr + p.logs()).toBe(0);
      const code = /code (\d{3}) (\d{3})/.exec(started.stdout);
      expect(code, started.stdout).not.toBeNull();
      const confirmed = await bCli(['pair', '--confirm', `${code![1]} ${code![2]}`, '-s', p.b.socket]);
      expect(confirmed.code, confirmed.stdout + confirmed.stderr + p.logs()).toBe(0);
      expect(confirmed.stdout).toContain('paired with box-a');
      await p.waitFor(() => existsSync(keyOf(p.a)) && existsSync(keyOf(p.b)), () => `both keys written${p.logs()}`, 60_000);
      expect(readFileSync(keyOf(p.b), 'utf8')).toBe(readFileSync(keyOf(p.a), 'utf8'));
      expect(statSync(keyOf(p.b)).mode & 0o777).toBe(0o600);
      // The authenticated heartbeat both ways, with b's arm64 HMAC code against a's x64 one.
      await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, () => `serial heartbeat ok on both${p.logs()}`, 60_000);
      // A status answer from the qemu-run b can take longer than counters()' 3 s (a stress run: null,
      // and a TypeError instead of a check): each reading waits until the box answers.
      const countersOf = (box: Box) => p.waitFor(() => p.counters(box), () => `box ${box.id}'s counters over its control socket${p.logs()}`, 60_000);
      const heard = (await countersOf(p.b))['accepted.heartbeat']!;
      await p.waitFor(async () => ((await p.counters(p.b))?.['accepted.heartbeat'] ?? 0) >= heard + 10, () => `b accepts a's heartbeats${p.logs()}`, 60_000);
      expect((await countersOf(p.a))['rejected.bad-hmac']).toBe(0);
      expect((await countersOf(p.b))['rejected.bad-hmac']).toBe(0);
      await p.masterIs(p.a, p.b);
      expect(await p.hasVip(p.b)).toBe(false);
      // Nginx control: a's nginx answers on the VIP; b's daemon runs its own nginx (hot standby).
      await p.waitFor(async () => (await page()) === 'served by box-a', () => `a's nginx answering on the VIP${p.logs()}`, 60_000);
      await p.waitFor(() => /Nginx master \d+ started/.test(p.b.log()), () => `b's nginx started by its daemon${p.logs()}`, 120_000);
      // MQTT: b's retained state on the broker, BACKUP and paired.
      await p.waitFor(() => bStates(sub).find((x) => x.instances?.VI_1?.state === 'BACKUP' && x.heartbeat?.enabled === true), () => `b's MQTT state BACKUP, paired\n${sub.stdout.slice(-2000)}${sub.stderr}${p.logs()}`, 60_000);

      const takeovers: number[] = [];
      const handbacks: number[] = [];
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        // a stops: b takes the VIP.
        const advertsBefore = tcpdump.stdout.length;
        const monFrom = monB.stdout.length;
        const stoppedAt = Date.now();
        await p.a.proc!.kill(patience(10_000));
        await p.waitFor(() => vipEventAt(monB, monFrom), () => `the VIP added in b's namespace${p.logs()}`, 60_000);
        takeovers.push(vipEventAt(monB, monFrom)! - stoppedAt);
        await p.waitFor(async () => (await p.state(p.b)) === 'MASTER' && (await p.hasVip(p.b)), () => `b MASTER with the VIP${p.logs()}`, 60_000);
        await p.waitFor(
          () => /10\.77\.0\.2 > 224\.0\.0\.18: VRRPv2, Advertisement, vrid 77, prio 100/.test(tcpdump.stdout.slice(advertsBefore)),
          () => `b's adverts on the LAN (tcpdump: ${tcpdump.stdout.slice(advertsBefore).slice(-2000)}${tcpdump.stderr})`,
          60_000,
        );
        expect(p.b.log()).toMatch(/BACKUP -> MASTER/);
        // The client on the LAN now gets b's page (b's nginx, supervised by the emulated daemon),
        // and b's retained MQTT state says MASTER.
        await p.waitFor(async () => (await page()) === 'served by box-b', () => `b's nginx answering on the VIP${p.logs()}`, 60_000);
        await p.waitFor(() => bStates(sub).find((x) => x.instances?.VI_1?.state === 'MASTER'), () => `b's MQTT state MASTER\n${sub.stdout.slice(-2000)}${p.logs()}`, 60_000);
        const statesBefore = bStates(sub).length;

        // a comes back (it keeps its key: paired at once) and, with the higher priority, takes the VIP back.
        const aFrom = monA.stdout.length;
        const restartedAt = Date.now();
        p.start(p.a);
        await p.waitFor(() => vipEventAt(monA, aFrom), () => `the VIP back in a's namespace${p.logs()}`, 120_000);
        handbacks.push(vipEventAt(monA, aFrom)! - restartedAt);
        await p.masterIs(p.a, p.b);
        await p.waitFor(async () => !(await p.hasVip(p.b)), () => `the VIP gone from b${p.logs()}`);
        await p.waitFor(async () => (await page()) === 'served by box-a', () => `a's nginx answering on the VIP again${p.logs()}`, 60_000);
        await p.waitFor(() => bStates(sub).slice(statesBefore).find((x) => x.instances?.VI_1?.state === 'BACKUP'), () => `b's MQTT state BACKUP again\n${sub.stdout.slice(-2000)}${p.logs()}`, 60_000);
        await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, () => `serial heartbeat ok again${p.logs()}`, 60_000);
      }
      expect((await countersOf(p.b))['rejected.bad-hmac']).toBe(0);
      // Both boxes' logs, to see where a takeover's time went.
      if (process.env.TWINVIP_PAIR_SHOW_LOGS === '1') console.log(p.logs());
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
      console.log(
        `box b ${B_ARCH === 'arm64' ? 'arm64 under qemu-user (emulated)' : 'x64 native'}: ${CYCLES} cycle(s); ` +
          `a SIGTERM -> VIP in b's namespace: median ${median(takeovers)} ms (${takeovers.join(', ')}); ` +
          `a started -> VIP back in a's namespace: median ${median(handbacks)} ms (${handbacks.join(', ')})`,
      );
    }, patience(600_000));
  },
);
