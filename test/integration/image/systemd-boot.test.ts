// The x64 tarball unpacked over a minimal Debian root filesystem (mmdebstrap, cached: see
// debian-rootfs.ts) and booted under real systemd with systemd-nspawn, in a network namespace
// this test made. Checked as an integrator would: the unit reaches `active` through Type=notify;
// the daemon, inside its sandbox, adds its VIP and sends VRRP, and cannot write outside the
// allowed paths; `journalctl -p err -u twinvip` shows an error we provoke; the systemd watchdog
// restarts a daemon whose event loop is stopped (SIGSTOP); rsyslog and logrotate use the image's rules;
// PID 1 applies the board's hardware-watchdog drop-in (RuntimeWatchdogSec, WatchdogDevice).
//
// PID 1 of this machine is not systemd, so nspawn runs with --register=no --keep-unit and the
// container is entered with `nsenter -t <its PID 1> -a` (machinectl does not work here).
// Missing mmdebstrap or systemd-nspawn FAILS the suite (TWINVIP_ALLOW_SKIP=1 skips it, test/README.md).
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { patience } from '../../helpers/patience';
import { describeRequiring, needsProgram, needsRoot } from '../../helpers/prerequisites';
import { NetnsLab, type LabProcess, type Netns } from '../helpers/netns';
import { cachedRootfs, unpackRootfs } from './debian-rootfs';
import { buildTarball, unpack } from './tarball';
import { REPO_ROOT } from '../../helpers/bundle';
// @ts-ignore -- a build script (plain ESM), typed by use here
import { DROPIN_PATH, watchdogDropIn } from '../../../scripts/watchdog-dropin.mjs';

/** A board with a hardware watchdog: its drop-in as `make rootfs BOARD=rpi4` writes it. */
const WATCHDOG_BOARD = 'rpi4';

const VIP = '10.77.0.100';
const BOX_IP = '10.77.0.2';
const VRID = 77;

const CONFIG = {
  node: { name: 'boot-a' },
  instances: {
    VI_1: {
      interface: 'lan0',
      vrid: VRID,
      priority: 150,
      state: 'MASTER',
      advert_int: 1,
      vips: [`${VIP}/24`],
      // Runs inside the unit's sandbox, as the daemon's child: what it can write is what twinvip can.
      notify: { master: ['/usr/local/sbin/twinvip-sandbox-probe'] },
    },
  },
  console: { enabled: false },
  nginx: { enabled: false },
  mqtt: { enabled: false },
};

// Tries each path and writes one "path ok|denied" line per path, plus the bounding set.
const PROBE = `#!/bin/sh
out=/var/lib/twinvip/sandbox-probe
for p in /etc/twinvip /var/lib/twinvip /run/twinvip /etc /usr /opt/twinvip /var/log /root /home /var/tmp; do
  if (: > "$p/.twinvip-probe") 2>/dev/null; then echo "$p ok"; rm -f "$p/.twinvip-probe"; else echo "$p denied"; fi
done > "$out.tmp"
grep '^CapBnd:' /proc/self/status >> "$out.tmp"
mv "$out.tmp" "$out"
`;

let lab: NetnsLab;
let box: Netns;
let peer: Netns;
let root: string;
let nspawn: LabProcess;
let pid1: number;

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: patience(timeoutMs), maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** A command inside the container (all its namespaces), to completion. */
function inBox(args: string[], timeoutMs?: number) {
  return run('nsenter', ['-t', String(pid1), '-a', ...args], timeoutMs);
}

async function unit(): Promise<Record<string, string>> {
  const r = await inBox(['systemctl', 'show', 'twinvip.service', '-p', 'Type,ActiveState,SubState,MainPID,NRestarts,NotifyAccess,WatchdogUSec,StatusText,Result']);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

function transcript(): string {
  return `--- nspawn (last 4000 chars) ---\n${(nspawn?.stdout ?? '').slice(-4000)}\n${(nspawn?.stderr ?? '').slice(-2000)}`;
}

async function journal(args: string[]): Promise<string> {
  return (await inBox(['journalctl', '--no-pager', '-u', 'twinvip.service', ...args])).stdout;
}

describeRequiring(
  [needsRoot, needsProgram('ip', 'iproute2'), needsProgram('mmdebstrap'), needsProgram('systemd-nspawn', 'systemd-container'), needsProgram('nsenter', 'util-linux'), needsProgram('tcpdump')],
  'the tarball booted under real systemd (systemd-nspawn)',
  () => {
    beforeAll(async () => {
      const started = Date.now();
      const rootfs = cachedRootfs((s) => console.log(s));
      const tarball = buildTarball('x64').path;
      lab = await NetnsLab.create();
      box = await lab.namespace('box');
      peer = await lab.namespace('peer');
      await lab.veth(box, 'lan0', peer, 'lan0');
      await lab.addr(box, 'lan0', `${BOX_IP}/24`);
      await lab.addr(peer, 'lan0', '10.77.0.3/24');

      root = join(await lab.tmpdir(), 'root');
      mkdirSync(root);
      unpackRootfs(rootfs.tar, root);
      unpack(tarball, root);
      // The x64 tarball is built for no board (no drop-in): add the one the generator writes for
      // a board that has a watchdog, so a real PID 1 reads it.
      const dropin = (watchdogDropIn as (b: unknown) => string | null)(JSON.parse(readFileSync(join(REPO_ROOT, 'board', WATCHDOG_BOARD, 'board.json'), 'utf8')));
      mkdirSync(dirname(join(root, DROPIN_PATH as string)), { recursive: true });
      writeFileSync(join(root, DROPIN_PATH as string), dropin!);
      const cfg = join(root, 'etc/twinvip/twinvip.json');
      writeFileSync(cfg, JSON.stringify(CONFIG, null, 2));
      chmodSync(cfg, 0o600);
      const probe = join(root, 'usr/local/sbin/twinvip-sandbox-probe');
      writeFileSync(probe, PROBE);
      chmodSync(probe, 0o755);
      // What `systemctl enable` (or the shipped preset) does.
      mkdirSync(join(root, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
      symlinkSync('/etc/systemd/system/twinvip.service', join(root, 'etc/systemd/system/multi-user.target.wants/twinvip.service'));
      const prepared = Date.now();

      nspawn = lab.track(
        spawn('systemd-nspawn', ['--quiet', '-D', root, '--machine', `${lab.prefix}box`, '--boot', '--register=no', '--keep-unit',
          // nspawn grants CAP_NET_ADMIN only with a network of its own (--private-network); the
          // namespace we hand it is the container's own too, and a real box has the capability.
          '--capability=CAP_NET_ADMIN', `--network-namespace-path=/run/netns/${box.name}`], {
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
        'systemd-nspawn',
      );
      // The container's PID 1 is nspawn's child running systemd.
      pid1 = await lab.waitFor(
        () => {
          if (!nspawn.running) throw new Error(`systemd-nspawn exited (${nspawn.exitCode})\n${transcript()}`);
          const children = readFileSync(`/proc/${nspawn.pid}/task/${nspawn.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
          return children.find((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'systemd');
        },
        { timeoutMs: 30_000, what: () => `the container's systemd\n${transcript()}` },
      );
      // systemctl answers once PID 1 has its bus socket up (a few ms after it starts); --wait then
      // returns when the boot has finished.
      const state = await lab.waitFor(async () => {
        const r = await inBox(['systemctl', 'is-system-running', '--wait'], 120_000);
        // "offline" (or no bus) until PID 1 has set itself up: not yet an answer.
        return /Failed to connect to bus/.test(r.stderr) || r.stdout.trim() === 'offline' || r.stdout.trim() === '' ? undefined : r;
      }, { timeoutMs: 120_000, intervalMs: 100, what: () => `systemctl in the container\n${transcript()}` });
      if (!['running', 'degraded'].includes(state.stdout.trim())) throw new Error(`boot did not finish: ${state.stdout}${state.stderr}\n${transcript()}`);
      if (state.stdout.trim() === 'degraded') console.log(`boot degraded:\n${(await inBox(['systemctl', '--failed', '--no-pager'])).stdout}`);
      console.log(
        `systemd boot: rootfs ${rootfs.built ? `built in ${rootfs.seconds.toFixed(0)} s` : 'from the cache'}, prepared in ${((prepared - started) / 1000).toFixed(1)} s, ` +
          `booted to "${state.stdout.trim()}" in ${((Date.now() - prepared) / 1000).toFixed(1)} s`,
      );
    }, patience(600_000));

    afterAll(async () => {
      // SIGTERM makes nspawn halt the container cleanly (well under a second here); only then
      // are the namespaces and the directory removed.
      if (nspawn?.running) await nspawn.kill(patience(30_000));
      await lab?.cleanup();
    }, patience(60_000));

    it('the unit reaches active through Type=notify, with the watchdog armed', async () => {
      const u = await lab.waitFor(async () => {
        const s = await unit();
        if (s.ActiveState === 'failed') throw new Error(`twinvip.service failed: ${JSON.stringify(s)}\n${await journal(['-n', '40'])}`);
        return s.ActiveState === 'active' ? s : undefined;
      }, { timeoutMs: 60_000, what: () => `twinvip.service active\n${transcript()}` });
      expect(u.Type).toBe('notify');
      expect(u.NotifyAccess).toBe('main');
      expect(u.SubState).toBe('running');
      expect(u.WatchdogUSec).toBe('10s');
      // STATUS= from the daemon itself: systemd only has it through sd_notify.
      expect(u.StatusText).toMatch(/^boot-a: VI_1 (MASTER|BACKUP)/);
    });

    // PID 1 applied the board's drop-in: these are the manager's own settings, read back over its
    // bus (defaults: RuntimeWatchdogUSec=0, WatchdogDevice empty). The device itself cannot be
    // exercised here: systemd-nspawn gives the container no /dev/watchdog*, so PID 1 finds no
    // device to open and pings nothing; on the board it opens the device named and pings it.
    it(`PID 1 applies the board watchdog drop-in (${WATCHDOG_BOARD}: RuntimeWatchdogSec=30s on its device)`, async () => {
      const r = await inBox(['systemctl', 'show', '-p', 'RuntimeWatchdogUSec,RebootWatchdogUSec,WatchdogDevice']);
      expect(r.code, r.stderr).toBe(0);
      const props = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      console.log(`PID 1 watchdog settings: ${JSON.stringify(props)}`);
      expect(props).toEqual({ RuntimeWatchdogUSec: '30s', RebootWatchdogUSec: '10min', WatchdogDevice: '/dev/watchdog0' });
      // Why the device is not pinged here: it does not exist in the container.
      expect((await inBox(['test', '-e', '/dev/watchdog0'])).code).toBe(1);
    });

    it('inside its sandbox the daemon adds its VIP, sends VRRP, runs its notify script, and cannot write outside the allowed paths', async () => {
      const tcpdump = peer.spawn('tcpdump', ['-i', 'lan0', '-n', '-l', '-c', '1', 'ip proto 112']);
      await lab.waitFor(async () => {
        const addrs = await box.ipJson<Array<{ addr_info: Array<{ local: string }> }>>(['addr', 'show', 'dev', 'lan0']);
        return addrs.some((l) => l.addr_info.some((a) => a.local === VIP));
      }, { timeoutMs: 30_000, what: `VIP ${VIP} on lan0` });
      await lab.waitFor(() => /VRRPv2, Advertisement, vrid 77, prio 150/.test(tcpdump.stdout), { timeoutMs: 15_000, what: () => `a VRRP advert from the box (tcpdump: ${tcpdump.stdout}${tcpdump.stderr})` });
      expect(tcpdump.stdout).toContain(`${BOX_IP} > 224.0.0.18`);

      const probeFile = join(root, 'var/lib/twinvip/sandbox-probe');
      const probe = await lab.waitFor(() => {
        try {
          return readFileSync(probeFile, 'utf8');
        } catch {
          return undefined;
        }
      }, { timeoutMs: 20_000, what: 'the notify script\'s sandbox probe' });
      const verdicts = Object.fromEntries(probe.trim().split('\n').filter((l) => l.startsWith('/')).map((l) => l.split(' ') as [string, string]));
      expect(verdicts).toEqual({
        '/etc/twinvip': 'ok',
        '/var/lib/twinvip': 'ok',
        '/run/twinvip': 'ok',
        '/etc': 'denied',
        '/usr': 'denied',
        '/opt/twinvip': 'denied',
        '/var/log': 'denied',
        '/root': 'denied',
        '/home': 'denied',
        '/var/tmp': 'ok', // PrivateTmp: writable, and private to the unit
      });
      // CAP_CHOWN 0, SETGID 6, SETUID 7, NET_BIND_SERVICE 10, NET_ADMIN 12, NET_RAW 13, SYS_NICE 23: nothing else.
      expect(probe).toMatch(/^CapBnd:\s+0{10}8034c1$/m);
      // Under the unit's sandbox (capabilities, seccomp filter) the HA thread alone is SCHED_RR
      // (policy 2) at the default scheduling.rt_priority 10; every other thread stays SCHED_OTHER.
      const policies = await lab.waitFor(async () => {
        const r = await inBox(['sh', '-c', 'pid=$(systemctl show -p MainPID --value twinvip.service); for t in /proc/$pid/task/*; do sed -n "s/^policy *: *//p" $t/sched; done']);
        const p = r.stdout.trim().split('\n').filter((l) => l !== '').map(Number);
        return p.includes(2) ? p : undefined;
      }, { timeoutMs: 15_000, what: 'an SCHED_RR thread in the daemon (journalctl -u twinvip shows why)' });
      expect(policies.filter((x) => x === 2)).toHaveLength(1);
      expect(policies.filter((x) => x !== 2 && x !== 0)).toEqual([]);
    });

    it('journalctl -p err -u twinvip shows a provoked error at priority err, and not the info lines', async () => {
      const cfg = join(root, 'etc/twinvip/twinvip.json');
      writeFileSync(cfg, JSON.stringify({ ...CONFIG, instances: { VI_1: { ...CONFIG.instances.VI_1, vrid: 300 } } }));
      try {
        const reload = await inBox(['systemctl', 'reload', 'twinvip.service']);
        expect(reload.code, reload.stderr).toBe(0);
        const errs = await lab.waitFor(async () => {
          const out = await journal(['-p', 'err', '-o', 'cat']);
          return /refused/.test(out) ? out : undefined;
        }, { timeoutMs: 20_000, what: 'the refused reload in journalctl -p err' });
        expect(errs).toMatch(/\/instances\/VI_1\/vrid/);
        // The info lines are in the journal, at info, so -p err really filters.
        const all = await journal(['-o', 'cat']);
        expect(all).toMatch(/MASTER/);
        expect(errs).not.toMatch(/BACKUP -> MASTER|-> MASTER/);
        const entry = JSON.parse((await journal(['-p', 'err', '-o', 'json', '-n', '1'])).trim().split('\n').at(-1)!);
        expect(entry.PRIORITY).toBe('3');
        expect(entry.SYSLOG_IDENTIFIER).toBe('twinvip');
        expect(entry.SYSLOG_FACILITY).toBe('16'); // local0, for rsyslog's rule
        expect(entry.MESSAGE).not.toMatch(/^<\d>/); // journald stripped the prefix
      } finally {
        writeFileSync(cfg, JSON.stringify(CONFIG, null, 2));
      }
      expect((await unit()).ActiveState).toBe('active'); // a refused reload keeps it running
    });

    it('rsyslog writes twinvip\'s lines to /var/log/twinvip.log (not syslog), and the logrotate rule rotates it', async () => {
      const logFile = join(root, 'var/log/twinvip.log');
      const read = (f: string) => {
        try {
          return readFileSync(f, 'utf8');
        } catch {
          return '';
        }
      };
      await lab.waitFor(() => / twinvip\[\d+\]: .*started: node boot-a/.test(read(logFile)), { timeoutMs: 20_000, what: () => `twinvip's start in /var/log/twinvip.log:\n${read(logFile)}` });
      expect(read(join(root, 'var/log/syslog'))).not.toMatch(/ twinvip\[\d+\]: /);
      const rot = await inBox(['logrotate', '-f', '/etc/logrotate.d/twinvip']);
      expect(rot.code, rot.stderr).toBe(0);
      expect(read(`${logFile}.1`)).toMatch(/started: node boot-a/);
      // rsyslog reopened the file: a new line lands in a fresh twinvip.log.
      const reload = await inBox(['systemctl', 'reload', 'twinvip.service']);
      expect(reload.code, reload.stderr).toBe(0);
      await lab.waitFor(() => /config unchanged/.test(read(logFile)), { timeoutMs: 20_000, what: 'a line in the new /var/log/twinvip.log' });
    });

    it('the watchdog restarts a daemon whose event loop is stopped (SIGSTOP)', async () => {
      const before = await unit();
      expect(Number(before.MainPID)).toBeGreaterThan(0);
      const stopped = Date.now();
      const kill = await inBox(['systemctl', 'kill', '--signal=SIGSTOP', '--kill-whom=main', 'twinvip.service']);
      expect(kill.code, kill.stderr).toBe(0);
      const after = await lab.waitFor(async () => {
        const s = await unit();
        return Number(s.NRestarts) > Number(before.NRestarts) && s.ActiveState === 'active' && s.MainPID !== before.MainPID ? s : undefined;
      }, { timeoutMs: 90_000, intervalMs: 500, what: 'a restarted, active twinvip.service' });
      const seconds = (Date.now() - stopped) / 1000;
      const log = await journal(['-o', 'cat']);
      expect(log).toMatch(/Watchdog timeout/);
      console.log(`watchdog: SIGSTOP -> restarted and active again in ${seconds.toFixed(1)} s (WatchdogSec=10s, RestartSec=2s); NRestarts ${before.NRestarts} -> ${after.NRestarts}`);
      // And it is the real thing again: VIP back after the restart (ExecStopPost removed it).
      await lab.waitFor(async () => {
        const addrs = await box.ipJson<Array<{ addr_info: Array<{ local: string }> }>>(['addr', 'show', 'dev', 'lan0']);
        return addrs.some((l) => l.addr_info.some((a) => a.local === VIP));
      }, { timeoutMs: 30_000, what: `VIP ${VIP} back on lan0` });
    });
  },
);
