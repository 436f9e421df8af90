// The arm64 image tarball, checked the way an image maker (and the lead) would: `make rootfs
// ARCH=arm64`, unpack into an empty folder, run its own arm64 Node.js under qemu-user (no
// binfmt_misc needed: qemu-aarch64 runs node directly, the arm64 glibc comes from
// libc6-dev-arm64-cross in /usr/aarch64-linux-gnu). On an arm64 host it runs natively.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { VERSION, buildTarball, sh, unpack, type Result } from './tarball';
import { arm64Missing, arm64Node, arm64Twinvip, launcherArgs } from './arm64';
import { patience } from '../../helpers/patience';
import { NODE, BUNDLE, SpawnedProcess, buildBundle, runCli, type OutputLine } from '../../helpers/bundle';
import { NetnsLab } from '../helpers/netns';

let dir: TempDir;
let tarball: string;
let buildLog: string;

/** Runs the tarball's own arm64 node (under qemu on x64) with args, from the unpack dir. */
function arm64NodeRun(args: string[]): Result {
  const [cmd, argv] = arm64Node(dir.path, args);
  return sh(cmd, argv, { cwd: dir.path, timeoutMs: 90_000 });
}

/** What the launcher runs: the test reads it from the launcher so it cannot drift. */
const launcher = (): string[] => launcherArgs(dir.path);

beforeAll(() => {
  const missing = arm64Missing();
  if (missing) throw new Error(missing);
  dir = makeTempDir('tv-arm64-');
  ({ path: tarball, log: buildLog } = buildTarball('arm64'));
  unpack(tarball, dir.path);
}, patience(180_000));

afterAll(() => {
  dir?.remove();
});

describe(`make rootfs ARCH=arm64 -> twinvip-${VERSION}-linux-arm64.tar.gz`, () => {
  it('holds an arm64 runtime, an arm64 addon, only linux-arm64 serialport prebuilds, and stays small', () => {
    const file = (p: string) => sh('file', ['-b', join(dir.path, p)]).stdout;
    expect(file('opt/twinvip/runtime/node')).toMatch(/ELF 64-bit LSB .*ARM aarch64/);
    expect(file('opt/twinvip/lib/twinvip_net.node')).toMatch(/ELF 64-bit LSB shared object, ARM aarch64/);
    const prebuilds = readdirSync(join(dir.path, 'opt/twinvip/lib/node_modules/@serialport/bindings-cpp/prebuilds'));
    expect(prebuilds).toEqual(['linux-arm64']);
    expect(existsSync(join(dir.path, 'opt/twinvip/lib/node_modules/@serialport/bindings-cpp/src'))).toBe(false);
    expect(existsSync(join(dir.path, 'opt/twinvip/lib/node_modules/node-addon-api'))).toBe(false);
    expect(readdirSync(join(dir.path, 'opt/twinvip/lib/node_modules/@serialport/bindings-cpp/prebuilds/linux-arm64')).every((f) => f.includes('armv8'))).toBe(true);
    expect(statSync(join(dir.path, 'opt/twinvip/bin/twinvip')).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(dir.path, 'opt/twinvip/VERSION'), 'utf8')).toMatch(new RegExp(`^twinvip ${VERSION.replaceAll('.', '\\.')} \\(\\S+\\) linux-arm64, Node\\.js 24\\.`));
    for (const f of ['etc/systemd/system/twinvip.service', 'etc/sysctl.d/60-twinvip.conf', 'usr/lib/tmpfiles.d/twinvip.conf', 'etc/twinvip/twinvip.json', 'opt/twinvip/board/generic-arm64/board.json', 'opt/twinvip/runtime/LICENSE']) {
      expect(existsSync(join(dir.path, f)), f).toBe(true);
    }
    // Size budget: node is ~98 MiB of it; the rest must stay small. Fails if something big slips in.
    expect(statSync(tarball).size).toBeLessThan(45 * 1024 * 1024);
    expect(buildLog).toMatch(/rootfs: out\/twinvip-.*-linux-arm64\.tar\.gz: [\d.]+ MiB compressed/);
  });

  it('its own twinvip --version runs on the arm64 node', () => {
    const r = arm64NodeRun([...launcher(), '--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('its own twinvip check accepts the shipped default config', () => {
    const r = arm64NodeRun([...launcher(), 'check', '--offline', '-c', 'etc/twinvip/twinvip.json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/etc\/twinvip\/twinvip\.json: ok, 1 instance/);
    // node.board "generic-arm64" resolved from the tarball's own opt/twinvip/board (beside lib/).
    expect(r.stdout).toMatch(/VI_1 v2 lan0 vrid 51/);
    expect(r.stdout).toMatch(/serial heartbeat on \/dev\/ttyS1/);
  });

  it('its own twinvip check refuses a broken config with the path and reason', () => {
    const bad = join(dir.path, 'bad.json');
    writeFileSync(bad, JSON.stringify({ instances: { VI_1: { interface: 'lan0', vrid: 300, priority: 100, vips: ['192.0.2.1/24'] } } }));
    const r = arm64NodeRun([...launcher(), 'check', '-c', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/\/instances\/VI_1\/vrid/);
  });

  it('the arm64 addon and the arm64 serialport prebuild load in the arm64 node', () => {
    const probe = join(dir.path, 'probe.cjs');
    writeFileSync(
      probe,
      `const path = require('node:path');
const lib = path.resolve('opt/twinvip/lib');
const addon = require(path.join(lib, 'twinvip_net.node'));
const out = { arch: process.arch, version: process.version, fns: Object.keys(addon).sort() };
// A real call into the addon: ENOENT from sendto proves the arm64 code ran and mapped errno.
try { addon.sendUnixDatagram('/nonexistent/notify.sock', Buffer.from('READY=1')); } catch (e) { out.send = e.code; }
const req = require('node:module').createRequire(path.join(lib, 'twinvip.js'));
out.serialport = typeof req('@serialport/bindings-cpp/dist/serialport-bindings').binding.open;
out.prebuild = Object.keys(require.cache).find((k) => k.endsWith('.node') && k.includes('bindings-cpp'));
console.log(JSON.stringify(out));
`,
    );
    const r = arm64NodeRun([probe]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ arch: 'arm64', version: expect.stringMatching(/^v24\./), send: 'ENOENT', serialport: 'function' });
    expect(out.fns).toEqual(expect.arrayContaining(['openVrrp', 'sendUnixDatagram', 'inNetns']));
    expect(out.prebuild).toMatch(/prebuilds\/linux-arm64\/@serialport\+bindings-cpp\.armv8\.glibc\.node$/);
  });

  // qemu-user does not translate IP_MULTICAST_IF or IP_MULTICAST_ALL (ENOPROTOOPT) nor SO_RXQ_OVFL,
  // and converts an ip_mreqn only when its size is its own target's (8 + sizeof(long)). The addon
  // treats those options as wanted-not-needed (ENOPROTOOPT only) and joins with that size, so
  // VRRP works under the emulator; any other refusal stays fatal (fail-loudly tests).
  it('its own twinvip does VRRP under qemu against an x64 twin: selftest OK*, hears the twin, takes over on its priority 0', async () => {
    buildBundle();
    const lab = await NetnsLab.create();
    const procs: SpawnedProcess[] = [];
    try {
      const q = await lab.namespace('q');
      const x = await lab.namespace('x');
      await lab.veth(q, 'lan0', x, 'lan0');
      await lab.addr(q, 'lan0', '10.69.0.1/24');
      await lab.addr(x, 'lan0', '10.69.0.2/24');
      const tmp = await lab.tmpdir();
      const cfg = (name: string, priority: number) => {
        const path = join(tmp, `${name}.json`);
        writeFileSync(path, JSON.stringify({
          node: { name, state_dir: join(tmp, name) }, control: { socket: join(tmp, `${name}.sock`) }, logging: { format: 'json' },
          instances: { VI_1: { interface: 'lan0', vrid: 69, priority, advert_int: 1, vips: ['10.69.0.100/24'] } },
        }));
        return path;
      };
      const arm64 = (args: string[]) => {
        const [cmd, argv] = arm64Twinvip(dir.path, args);
        return ['ip', ['netns', 'exec', q.name, cmd, ...argv]] as const;
      };
      const qcfg = cfg('box-q', 100);
      const [scmd, sargs] = arm64(['selftest', '-c', qcfg]);
      const st = sh(scmd, [...sargs], { timeoutMs: 90_000 });
      expect(st.code, st.stdout + st.stderr).toBe(0);
      expect(st.stdout).toMatch(/OK\*? +lan0: raw VRRP socket \(IPv4, protocol 112\) with its options/);
      expect(st.stdout).toMatch(/OK +lan0: multicast join 224\.0\.0\.18/);

      const msg = (re: RegExp) => (l: OutputLine) => typeof l.json?.msg === 'string' && re.test(l.json.msg as string);
      const twin = new SpawnedProcess(spawn('ip', ['netns', 'exec', x.name, NODE, BUNDLE, 'run', '-c', cfg('box-x', 150)], { stdio: ['ignore', 'pipe', 'pipe'] }));
      procs.push(twin);
      await twin.waitForLine(msg(/^BACKUP -> MASTER/), { what: 'the x64 twin MASTER', timeoutMs: 30_000 });
      const [cmd, args] = arm64(['run', '-c', qcfg]);
      const box = new SpawnedProcess(spawn(cmd, [...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
      procs.push(box);
      await box.waitForLine(msg(/^started: node box-q/), { what: 'the arm64 daemon started', timeoutMs: 90_000 });
      // It hears the twin: adverts accepted, and it stays BACKUP past its Master_Down_Interval.
      await lab.waitFor(async () => {
        const r = await runCli(['status', '--json', '-s', join(tmp, 'box-q.sock')], { timeoutMs: 30_000 });
        if (r.code !== 0) return false;
        const s = JSON.parse(r.stdout) as { instances: { state: string }[]; counters: { vrrp?: Record<string, number> } };
        return s.instances[0]?.state === 'BACKUP' && (s.counters.vrrp?.['VI_1.accepted'] ?? 0) >= 5;
      }, { timeoutMs: 60_000, what: 'the arm64 box BACKUP with at least 5 adverts of the twin accepted' });
      expect(box.lines.some(msg(/-> MASTER/))).toBe(false);
      // The twin stops gracefully (priority 0): the arm64 box takes over, and its adverts reach the twin's side.
      const from = box.mark();
      await twin.stop();
      await box.waitForLine(msg(/^BACKUP -> MASTER \(priority 0 from master/), { from, what: 'the arm64 box taking over', timeoutMs: 30_000 });
      const watcher = new SpawnedProcess(spawn('ip', ['netns', 'exec', x.name, NODE, BUNDLE, 'run', '-c', cfg('box-x2', 50)], { stdio: ['ignore', 'pipe', 'pipe'] }));
      procs.push(watcher);
      await lab.waitFor(async () => {
        const r = await runCli(['status', '--json', '-s', join(tmp, 'box-x2.sock')]);
        if (r.code !== 0) return false;
        const s = JSON.parse(r.stdout) as { counters: { vrrp?: Record<string, number> } };
        return (s.counters.vrrp?.['VI_1.accepted'] ?? 0) >= 3;
      }, { timeoutMs: 60_000, what: "the x64 side accepting the arm64 box's adverts" });
      expect(watcher.lines.some(msg(/-> MASTER/))).toBe(false);
    } finally {
      for (const p of procs.reverse()) await p.stop(20_000);
      await lab.cleanup();
    }
  }, patience(240_000));
});
