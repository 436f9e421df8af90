// Secret files and programs as `twinvip check`, `twinvip run` and a reload see them, against the
// real bundle. No traffic leaves the machine (a unix socket in a temp dir), so no namespaces.
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, runCli, spawnTwinvip, type OutputLine, type SpawnedProcess } from '../helpers/bundle';
import { itRequiring, needsRoot } from '../helpers/prerequisites';
import { makeTempDir, type TempDir } from '../helpers/tmp';

let dir: TempDir;
const spawned: SpawnedProcess[] = [];
let n = 0;

beforeAll(() => {
  buildBundle();
  dir = makeTempDir('tv-sec-');
  chmodSync(dir.path, 0o755);
});
afterAll(async () => {
  for (const p of spawned) await p.stop();
  dir.remove();
});

function secret(name: string, text: string, mode = 0o600): string {
  const path = dir.file(name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

function config(extra: Record<string, unknown>): string {
  const path = dir.file(`c${++n}.json`);
  writeFileSync(path, JSON.stringify({
    node: { name: `box${n}`, state_dir: dir.file(`state${n}`) },
    control: { socket: dir.file(`run${n}/ctl.sock`) },
    logging: { format: 'json' },
    instances: {},
    ...extra,
  }));
  return path;
}

const serial = (key_file: string) => ({ heartbeat: { serial: { device: '/dev/ttyS1', node_id: 1, key_file } } });
const check = (...args: string[]) => runCli(['check', ...args]);

describe('twinvip check reads the secret files the config names', () => {
  it('a missing heartbeat key file is an unpaired box: a warning naming the file and `twinvip pair`, not an error; --offline skips it', async () => {
    const cfg = config(serial(dir.file('absent.key')));
    const r = await check('-c', cfg);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\/heartbeat\/serial\/key_file: warning: \S+absent\.key does not exist: the box is not paired yet and runs plain VRRP .*twinvip pair/);
    expect((await check('--offline', '-c', cfg)).code).toBe(0);
  });

  it('a key shorter than 16 bytes and an empty file are errors; one of 16 bytes passes', async () => {
    const short = await check('-c', config(serial(secret('short.key', 'fifteen-bytes!!\n'))));
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/short\.key: 15 bytes, shorter than 16/);
    const empty = await check('-c', config(serial(secret('empty.key', '\n'))));
    expect(empty.stderr).toMatch(/empty\.key: empty/);
    const ok = await check('-c', config(serial(secret('ok.key', 'sixteen-bytes-ok\n'))));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).not.toMatch(/secret file/);
  });

  it('a key file readable by group or others is a warning naming the mode', async () => {
    const r = await check('-c', config(serial(secret('loose.key', 'a-long-enough-shared-key\n', 0o644))));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: secret file \S+loose\.key: mode 0644 lets group or others read or change the secret; chmod 600/);
  });

  it('every *_file secret is read: MQTT, console and a VRRP password longer than 8 bytes', async () => {
    const r = await check('--json', '-c', config({
      instances: { VI_1: { interface: 'lan0', vrid: 1, vips: ['192.0.2.1/24'], authentication: { type: 'PASS', password_file: secret('vrrp.pw', 'ninechars\n') } } },
      mqtt: { enabled: true, url: 'mqtt://127.0.0.1:1883', username: 'gw', password_file: dir.file('no-mqtt.pw') },
      console: { enabled: true, device: '/dev/ttyS0', password_file: dir.file('no-console.pw') },
    }));
    const out = JSON.parse(r.stdout) as { ok: boolean; errors: { path: string; message: string }[] };
    expect(out.ok).toBe(false);
    expect(out.errors.map((e) => e.path).sort()).toEqual(['/console/password_file', '/instances/VI_1/authentication/password_file', '/mqtt/password_file']);
    expect(out.errors.find((e) => e.path.startsWith('/instances'))?.message).toMatch(/9 bytes, longer than 8/);
  });

  itRequiring([needsRoot], 'check judges the programs with the daemon\'s script policy: an unsafe tracked check is an error; a numeric script_user passes', async () => {
    const d = dir.file('scripts');
    mkdirSync(d, { mode: 0o755 });
    const evil = dir.file('scripts/evil.sh');
    writeFileSync(evil, '#!/bin/sh\nexit 0\n');
    chmodSync(evil, 0o777);
    chownSync(evil, 65534, 65534);
    const good = dir.file('scripts/good.sh');
    writeFileSync(good, '#!/bin/sh\nexit 0\n');
    chmodSync(good, 0o755);
    const inst = (c: string) => ({ VI_1: { interface: 'lan0', vrid: 1, vips: ['192.0.2.1/24'], track_checks: [c] } });
    const bad = await check('-c', config({ instances: inst('c'), checks: { c: { type: 'script', script: [evil] } } }));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/\/checks\/c\/script: would not run: enable_script_security: \S+evil\.sh is owned by uid 65534, not root/);
    const fence = await check('-c', config({ ...serial(secret('f.key', 'a-long-enough-shared-key\n')), heartbeat: { serial: { device: '/dev/ttyS1', node_id: 1, key_file: dir.file('f.key') }, fence: { command: [evil] } } }));
    expect(fence.stderr).toMatch(/\/heartbeat\/fence\/command: would not run/);
    const numeric = await check('-c', config({ instances: inst('c'), checks: { c: { type: 'script', script: [good] } }, notify: { script_user: '65534' } }));
    expect(numeric.code, numeric.stderr).toBe(0);
    const unknown = await check('-c', config({ instances: inst('c'), checks: { c: { type: 'script', script: [good], user: 'no-such-user-tv' } } }));
    expect(unknown.stderr).toMatch(/\/checks\/c\/script: would not run: script user 'no-such-user-tv' does not exist/);
  });
});

describe('twinvip run and reload refuse unfit secret files', () => {
  const msg = (re: RegExp) => (l: OutputLine) => typeof l.json?.msg === 'string' && re.test(l.json.msg);

  it('run: an unreadable key file (a directory) refuses to start (exit 1, the file named); a missing one starts unpaired', async () => {
    const d = dir.file('dir.key');
    mkdirSync(d);
    const p = spawnTwinvip(['run', '-c', config(serial(d))]);
    spawned.push(p);
    const exit = await p.exited;
    expect(exit.code).toBe(1);
    expect(p.stderr).toMatch(/\/heartbeat\/serial\/key_file: secret file \S+dir\.key: not a regular file/);
    expect(p.lines.some((l) => /started: node/.test(l.text))).toBe(false);
    const unpaired = spawnTwinvip(['run', '-c', config(serial(dir.file('gone.key')))]);
    spawned.push(unpaired);
    await unpaired.waitForLine(msg(/gone\.key does not exist: the box is not paired yet/), { what: 'the unpaired warning' });
    await unpaired.waitForLine(msg(/^started: node/), { what: 'the started line' });
  });

  it('reload: a key file made too short is refused and the running configuration kept', async () => {
    const key = secret('reload.key', 'a-long-enough-shared-key\n');
    const cfg = config(serial(key));
    const p = spawnTwinvip(['run', '-c', cfg]);
    spawned.push(p);
    await p.waitForLine(msg(/^started: node/), { what: 'the started line' });
    writeFileSync(key, 'short\n');
    const from = p.mark();
    p.signal('SIGHUP');
    await p.waitForLine(msg(/^config refused/), { from, what: 'the refusal' });
    await p.waitForLine(msg(/reload\.key: 5 bytes, shorter than 16/), { from, what: 'the reason' });
    expect(p.running).toBe(true);
  });
});
