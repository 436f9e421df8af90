import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { importKeepalivedCommand } from '../../../src/commands/import-keepalived';
import { parseConfigText } from '../../../src/config';
import { makeTempDir } from '../../helpers/tmp';

const tmp = makeTempDir('tv-kac-');
afterAll(() => tmp.remove());

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  return { out: () => out.join(''), err: () => err.join('') };
}
afterEach(() => vi.restoreAllMocks());

describe('twinvip import-keepalived', () => {
  it('exit 0: config on stdout, report with file:line on stderr', async () => {
    const io = capture();
    const code = await importKeepalivedCommand(['test/fixtures/keepalived/old-keywords.conf']);
    expect(code).toBe(0);
    expect(parseConfigText(io.out()).ok).toBe(true);
    expect(io.err()).toContain('test/fixtures/keepalived/old-keywords.conf:6: warning: vrrp_strict:');
    expect(io.err()).toMatch(/keyword\(s\) not converted/);
  });

  it('-o writes the file', async () => {
    const io = capture();
    const out = tmp.file('out.json');
    expect(await importKeepalivedCommand(['test/fixtures/keepalived/unicast.conf', '-o', out])).toBe(0);
    expect(io.out()).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8')).instances.VI_U.vrid).toBe(70);
  });

  it('exit 1 on a file that is not keepalived.conf, with the place, no stack, and none of its lines', async () => {
    const io = capture();
    expect(await importKeepalivedCommand(['package.json'])).toBe(1);
    expect(io.err()).toMatch(/^twinvip import-keepalived: package\.json:\d+: not keepalived syntax/m);
    expect(io.err()).not.toMatch(/\n\s+at /);
    expect(io.err()).not.toMatch(/twinvip"|"name"|devDependencies/);
  });

  it('exit 1 on a configuration keepalived users would get wrong: an unfilled template, with file and line', async () => {
    const io = capture();
    const conf = tmp.file('tmpl.conf');
    writeFileSync(conf, 'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id {{ vrid }}\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n');
    expect(await importKeepalivedCommand([conf])).toBe(1);
    expect(io.err()).toMatch(/tmpl\.conf:3: unfilled template placeholder \{\{ vrid \}\}/);
    expect(io.out()).toBe('');
  });

  it('exit 2 on usage errors', async () => {
    const io = capture();
    expect(await importKeepalivedCommand([])).toBe(2);
    expect(await importKeepalivedCommand(['a.conf', 'b.conf'])).toBe(2);
    expect(await importKeepalivedCommand(['--bogus', 'a.conf'])).toBe(2);
    expect(io.err()).toMatch(/usage: twinvip import-keepalived/);
  });
});
