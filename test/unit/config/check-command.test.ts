import Ajv from 'ajv';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkCommand } from '../../../src/commands/check';
import { configSchemaJson } from '../../../src/config/schema-json';
import { baseConfig } from './helpers';

const ROOT = join(import.meta.dirname, '../../..');
const BROKEN = join(ROOT, 'test/fixtures/config/broken');

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { stdout += String(chunk); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { stderr += String(chunk); return true; });
  try {
    const code = await checkCommand(args);
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'twinvip-check-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });
afterEach(() => { vi.restoreAllMocks(); });

describe('twinvip check', () => {
  const shipped = [
    join(ROOT, 'rootfs/etc/twinvip/twinvip.json'),
    ...readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).map((f) => join(ROOT, 'examples', f)),
  ];
  // --offline: the shipped files name secret files (/etc/twinvip/heartbeat.key...) and scripts that
  // exist on a provisioned box, not on this machine.
  it.each(shipped)('accepts the shipped configuration %s', async (file) => {
    const r = await run(['--offline', '-c', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: ok, \d+ instances?/);
    expect(r.stdout).toMatch(/hash [0-9a-f]{12}\n$/);
  });

  it('without --offline it reads the secret files the config names: a missing heartbeat key is an unpaired box (warning), an unfit one an error', async () => {
    const f = join(dir, 'keyfile.json');
    const key = join(dir, 'no-such.key');
    await writeFile(f, JSON.stringify({ ...baseConfig(), heartbeat: { serial: { device: '/dev/ttyS1', node_id: 1, key_file: key } } }));
    const r = await run(['-c', f]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`/heartbeat/serial/key_file: warning: ${key} does not exist: the box is not paired yet and runs plain VRRP`);
    await writeFile(key, 'short\n', { mode: 0o600 });
    const short = await run(['-c', f]);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain(`/heartbeat/serial/key_file: secret file ${key}: 5 bytes, shorter than 16`);
    expect((await run(['--offline', '-c', f])).code).toBe(0);
    expect((await run(['--offline', '--host', '-c', f])).code).toBe(2);
  });

  it('ships the example set the documentation promises', () => {
    const names = shipped.map((f) => f.split('/').pop());
    for (const n of ['master-backup-a.json', 'master-backup-b.json', 'master-master-a.json', 'master-master-b.json', 'unicast.json', 'ipv6-v3.json', 'gateway-sync-group.json']) {
      expect(names).toContain(n);
    }
  });

  it('prints a one-line summary and warnings on success, exit 0', async () => {
    const f = join(dir, 'ok.json');
    await writeFile(f, JSON.stringify(baseConfig({ priority: 150 })));
    const r = await run(['-c', f]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toContain('1 instance (VI_1 v2 lan0 vrid 51 prio 150), 1 VIP');
    expect(r.stderr).toContain('/heartbeat/serial: warning: no serial heartbeat');
  });

  it('prints every error to stderr with file, line, path, value and hint, exit 1', async () => {
    const r = await run(['-c', join(BROKEN, 'wrong-types.json')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/wrong-types\.json:\d+:\d+: \/instances\/VI_1\/vrid: must be an integer \(got "51"\); valid: an integer 1\.\.255$/);
    expect(lines[1]).toMatch(/\/instances\/VI_1\/preempt: must be true or false \(got "yes"\)$/);
    expect(lines.at(-1)).toMatch(/2 errors, configuration refused$/);
  });

  it('prints the example error of the brief', async () => {
    const r = await run(['-c', join(BROKEN, 'priority-too-high.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/instances/VI_1/priority: must be <= 255 (got 300); valid: 1..254, or 255 for an address owner');
  });

  it('reports a missing file as an error, exit 1, no stack trace', async () => {
    const r = await run(['-c', join(dir, 'missing.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot read the configuration: no such file');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--json gives a machine-readable result for valid and invalid files', async () => {
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify(baseConfig()));
    const ok = await run(['-c', good, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, file: good, hash: expect.stringMatching(/^[0-9a-f]{12}$/), errors: [], warnings: expect.any(Array) });
    const bad = await run(['--json', '-c', join(BROKEN, 'duplicate-vrid.json')]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, hash: null, errors: [{ path: '/instances/VI_2/vrid', value: 51, line: expect.any(Number) }] });
  });

  it('usage errors exit 2', async () => {
    expect((await run(['-c'])).code).toBe(2);
    expect((await run(['--frobnicate'])).code).toBe(2);
    const r = await run(['-c', '']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: twinvip check');
  });

  it('--host checks that the named interfaces exist on this machine', async () => {
    const f = join(dir, 'host.json');
    await writeFile(f, JSON.stringify(baseConfig({ interface: 'lo' })));
    expect((await run(['-c', f, '--host'])).code).toBe(0);
    await writeFile(f, JSON.stringify(baseConfig({ interface: 'tvnosuch0' })));
    const r = await run(['-c', f, '--host']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/instances/VI_1/interface: no interface "tvnosuch0" on this system');
  });

  it('--schema prints the JSON Schema, which a plain ajv compiles and which accepts the examples', async () => {
    const r = await run(['--schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(schema).toEqual(configSchemaJson());
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    // An editor's validator knows nothing of our formats or annotations: it must still compile.
    const ajv = new Ajv({ strict: false, validateFormats: false, discriminator: true });
    const validate = ajv.compile(schema);
    expect(validate({ instances: { VI_1: { interface: 'lan0', vrid: 51 } } })).toBe(true);
    expect(validate({ instances: { VI_1: { interface: 'lan0', vrid: 51, priorty: 1 } } })).toBe(false);
  });
});
