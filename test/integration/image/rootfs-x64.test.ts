// The x64 tarball runs natively here, so this is where the launcher itself (and the usr/bin
// symlink to it) is executed, and where the unit is checked by `systemd-analyze verify` against
// the unpacked layout (verify insists the ExecStart binary exists: it runs on a copy of the unit
// whose ExecStart points at the unpacked launcher, nothing else changed).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpawnedProcess } from '../../helpers/bundle';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { VERSION, buildTarball, sh, unpack } from './tarball';
import { patience } from '../../helpers/patience';

let dir: TempDir;
let unitText: string;

beforeAll(() => {
  dir = makeTempDir('tv-x64-');
  unpack(buildTarball('x64').path, dir.path);
  unitText = readFileSync(join(dir.path, 'etc/systemd/system/twinvip.service'), 'utf8');
}, patience(180_000));

const spawned: SpawnedProcess[] = [];

afterAll(async () => {
  for (const p of spawned) await p.stop();
  dir?.remove();
});

function verify(text: string): { code: number | null; out: string } {
  const copy = join(dir.path, 'verify', 'twinvip.service');
  sh('mkdir', ['-p', join(dir.path, 'verify')]);
  writeFileSync(copy, text.replace(/^(Exec\w+)=\/opt\/twinvip\/bin\/twinvip /gm, `$1=${dir.path}/opt/twinvip/bin/twinvip `));
  const r = sh('systemd-analyze', ['verify', copy]);
  return { code: r.code, out: (r.stdout + r.stderr).trim() };
}

describe('x64 tarball: launcher and systemd unit', () => {
  it('the launcher and the usr/bin symlink run the bundled node on the bundle', () => {
    for (const bin of ['opt/twinvip/bin/twinvip', 'usr/bin/twinvip']) {
      const r = sh(join(dir.path, bin), ['--version'], { cwd: '/' });
      expect(r.code, `${bin}: ${r.stderr}`).toBe(0);
      expect(r.stdout.trim()).toBe(VERSION);
    }
    const r = sh(join(dir.path, 'usr/bin/twinvip'), ['check', '--offline', '-c', join(dir.path, 'etc/twinvip/twinvip.json')], { cwd: '/' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('the launcher execs node (same PID), so READY=1 comes from the main PID as NotifyAccess=main requires', async () => {
    const notify = join(dir.path, 'notify.sock');
    const rx = new SpawnedProcess(spawn('python3', [join(import.meta.dirname, 'notify-receiver.py'), notify], { stdio: ['ignore', 'pipe', 'pipe'] }));
    spawned.push(rx);
    await rx.waitForLine((l) => l.json?.listening === notify, { what: 'the receiver to listen' });
    const cfg = join(dir.path, 'run.json');
    writeFileSync(cfg, JSON.stringify({ node: { name: 'box-x', state_dir: join(dir.path, 'state') }, control: { socket: join(dir.path, 'ctl.sock') }, logging: { format: 'json' }, instances: {} }));
    const daemon = new SpawnedProcess(
      spawn(join(dir.path, 'opt/twinvip/bin/twinvip'), ['run', '-c', cfg], { cwd: '/', env: { ...process.env, NOTIFY_SOCKET: notify }, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    spawned.push(daemon);
    const ready = await rx.waitForLine((l) => typeof l.json?.msg === 'string' && (l.json.msg as string).startsWith('READY=1\n'), { what: 'READY=1', timeoutMs: 20_000 });
    expect(ready.json!.pid).toBe(daemon.pid);
    expect((await daemon.stop()).code).toBe(0);
  });

  it('systemd-analyze verify passes on the shipped unit with no warning at all', () => {
    expect(unitText).toMatch(/^ExecStart=\/opt\/twinvip\/bin\/twinvip run -c \/etc\/twinvip\/twinvip\.json$/m);
    const r = verify(unitText);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it('the verify step catches a broken unit (so the check above can fail)', () => {
    const r = verify(unitText.replace('Type=notify', 'Type=notify-ish'));
    expect(r.out).toMatch(/Failed to parse service type|notify-ish/);
  });

  it('declares what the issue requires: notify + watchdog + restart + narrow capabilities + hardening', () => {
    const keys = new Map<string, string>();
    for (const line of unitText.split('\n')) {
      const m = /^([A-Za-z]+)=(.*)$/.exec(line);
      if (m) keys.set(m[1]!, m[2]!);
    }
    expect(keys.get('Type')).toBe('notify');
    expect(keys.get('NotifyAccess')).toBe('main');
    expect(keys.get('WatchdogSec')).toBe('10s');
    expect(keys.get('Restart')).toBe('always');
    // No /bin/kill on a minimal image (procps): the shell's builtin kill.
    expect(keys.get('ExecReload')).toBe(`/bin/sh -c 'kill -HUP "$MAINPID"'`);
    // After any exit (crash, SIGKILL, watchdog abort) the configured VIPs are removed.
    expect(keys.get('ExecStopPost')).toBe('/opt/twinvip/bin/twinvip cleanup -c /etc/twinvip/twinvip.json');
    expect(keys.get('CapabilityBoundingSet')!.split(' ').sort()).toEqual(['CAP_CHOWN', 'CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SYS_NICE']);
    // The HA thread's SCHED_RR (config scheduling): CAP_SYS_NICE, or LimitRTPRIO without it; and
    // RestrictRealtime=yes would refuse it (a seccomp filter on sched_setscheduler).
    expect(keys.get('AmbientCapabilities')!.split(' ')).toContain('CAP_SYS_NICE');
    expect(keys.get('LimitRTPRIO')).toBe('99');
    expect(keys.has('RestrictRealtime'), 'RestrictRealtime').toBe(false);
    expect(keys.get('ProtectSystem')).toBe('strict');
    expect(keys.get('ReadWritePaths')).toContain('/var/lib/twinvip /run/twinvip');
    for (const k of ['ProtectHome', 'PrivateTmp', 'NoNewPrivileges']) expect(keys.get(k), k).toBe('yes');
    expect(keys.get('RestrictAddressFamilies')).toBe('AF_UNIX AF_INET AF_INET6 AF_PACKET AF_NETLINK');
    // Any of these would close the serial heartbeat and console devices (ProtectClock implies
    // DeviceAllow=char-rtc r, and a DeviceAllow list denies every device not on it).
    for (const k of ['PrivateDevices', 'ProtectClock', 'DeviceAllow', 'DevicePolicy']) expect(keys.has(k), k).toBe(false);
  });

  it('systemd-analyze security rates the unit at most "OK" exposure', () => {
    const copy = join(dir.path, 'verify', 'twinvip.service');
    const r = sh('systemd-analyze', ['security', '--offline=true', '--no-pager', copy]);
    const m = /Overall exposure level for twinvip\.service: ([\d.]+) (\w+)/.exec(r.stdout);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(4.0);
  });

  it('sysctl and tmpfiles entries are what the service relies on', () => {
    const sysctl = readFileSync(join(dir.path, 'etc/sysctl.d/60-twinvip.conf'), 'utf8');
    expect(sysctl).toMatch(/^net\.ipv4\.ip_nonlocal_bind = 1$/m);
    expect(sysctl).toMatch(/^net\.ipv6\.ip_nonlocal_bind = 1$/m);
    const tmpfiles = readFileSync(join(dir.path, 'usr/lib/tmpfiles.d/twinvip.conf'), 'utf8');
    expect(tmpfiles).toMatch(/^d \/var\/lib\/twinvip 0750 root root -$/m);
    expect(tmpfiles).toMatch(/^d \/run\/twinvip\s+0750 root root -$/m);
    // systemd-tmpfiles parses it (--dry-run exists only in newer systemd: --root into the temp dir).
    const r = sh('systemd-tmpfiles', ['--create', `--root=${dir.path}`, join(dir.path, 'usr/lib/tmpfiles.d/twinvip.conf')]);
    expect(r.code, r.stderr).toBe(0);
    expect(sh('test', ['-d', join(dir.path, 'var/lib/twinvip')]).code).toBe(0);
  });
});
