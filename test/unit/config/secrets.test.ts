// Every *_file secret: the schema rules (one of inline or file), the one reader's verdicts, and
// the consumers that read them (VRRP PASS through withVrrpPasswords, the console password).
import { chmodSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSecretFiles, secretFiles, withVrrpPasswords } from '../../../src/config/index';
import { consoleAccess } from '../../../src/console/extension';
import { readSecretFile, readSecretFileSync } from '../../../src/lib/secret-file';
import { makeTempDir } from '../../helpers/tmp';
import { baseConfig, expectError, expectValid } from './helpers';

const tmp = makeTempDir('tv-secrets-');
afterAll(() => tmp.remove());

function file(name: string, text: string, mode = 0o600): string {
  const p = tmp.file(name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

describe('secret file reader', () => {
  it('the first line is the secret (CR stripped); the heartbeat key is trimmed', async () => {
    const p = file('pw', 'pass word\r\nsecond line\n');
    expect(await readSecretFile(p)).toEqual({ ok: true, value: 'pass word', warnings: [] });
    expect(readSecretFileSync(file('k', '  0123456789abcdef  \n'), { trim: true, minBytes: 16 })).toMatchObject({ ok: true, value: '0123456789abcdef' });
  });

  it('missing, empty, too short, too long, a directory: errors that name the file', async () => {
    expect(await readSecretFile(tmp.file('none'))).toEqual({ ok: false, error: `${tmp.file('none')}: no such file` });
    expect(await readSecretFile(file('e', '\nx\n'))).toMatchObject({ ok: false, error: expect.stringMatching(/e: empty/) });
    expect(await readSecretFile(file('s', 'short\n'), { minBytes: 16 })).toMatchObject({ ok: false, error: expect.stringMatching(/5 bytes, shorter than 16/) });
    expect(readSecretFileSync(file('l', '123456789\n'), { maxBytes: 8 })).toMatchObject({ ok: false, error: expect.stringMatching(/9 bytes, longer than 8/) });
    expect(await readSecretFile(tmp.path)).toMatchObject({ ok: false, error: expect.stringMatching(/not a regular file|is a directory/) });
  });

  it('a mode that lets group or others in is a warning with the fix', async () => {
    const r = await readSecretFile(file('loose', 'secret\n', 0o640));
    expect(r).toMatchObject({ ok: true, warnings: [expect.stringMatching(/mode 0640 lets group or others read or change the secret; chmod 600/)] });
  });
});

describe('secrets in the configuration', () => {
  it('password or password_file, not both and not neither (VRRP PASS, console, email)', () => {
    expectError(baseConfig({ authentication: { type: 'PASS' } }), '/instances/VI_1/authentication/password', 'needs password or password_file');
    expectError(baseConfig({ authentication: { type: 'PASS', password: 'a', password_file: '/x' } }), '/instances/VI_1/authentication/password', 'not both');
    expectError(baseConfig({}, { console: { password: 'a', password_file: '/x' } }), '/console/password', 'not both');
    expectValid(baseConfig({ authentication: { type: 'PASS', password_file: '/etc/twinvip/vrrp.pw' } }, { console: { password_file: '/etc/twinvip/console.pw' } }));
  });

  it('secretFiles lists every *_file the config names, each with its rules', () => {
    const { config } = expectValid(baseConfig(
      { authentication: { type: 'PASS', password_file: '/s/vrrp' } },
      { heartbeat: { serial: { device: '/dev/ttyS1', node_id: 1, key_file: '/s/key' } }, mqtt: { password_file: '/s/mqtt' }, console: { password_file: '/s/con' } },
    ));
    expect(secretFiles(config).map((r) => [r.pointer, r.path])).toEqual([
      ['/heartbeat/serial/key_file', '/s/key'], ['/mqtt/password_file', '/s/mqtt'], ['/console/password_file', '/s/con'],
      ['/instances/VI_1/authentication/password_file', '/s/vrrp'],
    ]);
  });

  it('checkSecretFiles: a heartbeat key under 16 bytes is an error at its JSON path', async () => {
    const { config } = expectValid(baseConfig({}, { heartbeat: { serial: { device: '/dev/ttyS1', node_id: 1, key_file: file('hb', 'fifteen-bytes!!') } } }));
    const r = await checkSecretFiles(config);
    expect(r.errors).toEqual([expect.objectContaining({ path: '/heartbeat/serial/key_file', message: expect.stringMatching(/15 bytes, shorter than 16/) })]);
  });

  it('withVrrpPasswords reads the file into an in-memory copy; the loaded config keeps only the path', () => {
    const pw = file('vrrp', 'k33p0ut\n');
    const { config } = expectValid(baseConfig({ authentication: { type: 'PASS', password_file: pw } }));
    const planned = withVrrpPasswords(config);
    expect(planned.instances.VI_1!.authentication).toEqual({ type: 'PASS', password: 'k33p0ut' });
    expect(config.instances.VI_1!.authentication).toEqual({ type: 'PASS', password_file: pw });
    const { config: plain } = expectValid(baseConfig());
    expect(withVrrpPasswords(plain)).toBe(plain);
    const { config: gone } = expectValid(baseConfig({ authentication: { type: 'PASS', password_file: tmp.file('gone') } }));
    expect(() => withVrrpPasswords(gone)).toThrow(/gone: no such file/);
  });

  it('the console takes its password from password_file; an unreadable file leaves it read-only (fail closed)', () => {
    const errors: string[] = [];
    const con = { enabled: true, baud: 115200, idle_timeout: 600 } as const;
    expect(consoleAccess({ ...con, password_file: file('con', 'opensesame\n') }, (m) => errors.push(m))).toEqual({ kind: 'password', password: 'opensesame' });
    expect(consoleAccess({ ...con, password_file: tmp.file('no-con') }, (m) => errors.push(m))).toEqual({ kind: 'read-only' });
    expect(errors).toEqual([expect.stringMatching(/console\.password_file: .*no-con: no such file; guarded actions refused/)]);
  });
});
