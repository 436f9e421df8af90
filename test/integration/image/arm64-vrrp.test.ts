// The arm64 image tarball's own twinvip doing VRRP under qemu-user against an x64 twin, in a pair
// of network namespaces (rootfs-arm64.test.ts checks the rest of the tarball without namespaces,
// in the integration-local project; this one runs with the namespace files).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { buildTarball, sh, unpack } from './tarball';
import { arm64Missing, arm64Twinvip } from './arm64';
import { patience } from '../../helpers/patience';
import { NODE, BUNDLE, SpawnedProcess, buildBundle, runCli, type OutputLine } from '../../helpers/bundle';
import { NetnsLab } from '../helpers/netns';

let dir: TempDir;

beforeAll(() => {
  const missing = arm64Missing();
  if (missing) throw new Error(missing);
  dir = makeTempDir('tv-arm64v-');
  unpack(buildTarball('arm64').path, dir.path);
}, patience(180_000));

afterAll(() => {
  dir?.remove();
});

describe('the arm64 tarball in a namespace', () => {
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
