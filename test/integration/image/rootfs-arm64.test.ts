// The arm64 image tarball, checked the way an image maker (and the lead) would: `make rootfs
// ARCH=arm64`, unpack into an empty folder, run its own arm64 Node.js under qemu-user (no
// binfmt_misc needed: qemu-aarch64 runs node directly, the arm64 glibc comes from
// libc6-dev-arm64-cross in /usr/aarch64-linux-gnu). On an arm64 host it runs natively. Its twinvip
// doing VRRP in a namespace against an x64 twin is arm64-vrrp.test.ts (a namespace file: the
// integration project); this file creates none and runs in integration-local.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { VERSION, buildTarball, sh, unpack, type Result } from './tarball';
import { arm64Missing, arm64Node, arm64Twinvip, launcherArgs } from './arm64';
import { patience } from '../../helpers/patience';

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
});
