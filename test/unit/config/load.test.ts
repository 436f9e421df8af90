import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIssues, loadConfigFile, parseConfigText } from '../../../src/config/index';
import { baseConfig } from './helpers';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'twinvip-config-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('loadConfigFile', () => {
  it('loads a valid file', async () => {
    const f = join(dir, 'ok.json');
    await writeFile(f, JSON.stringify(baseConfig()));
    const r = await loadConfigFile(f);
    expect(r.ok).toBe(true);
  });
  it('turns a missing file into an error value', async () => {
    const r = await loadConfigFile(join(dir, 'nope.json'));
    expect(r).toMatchObject({ ok: false, errors: [{ path: '', message: expect.stringContaining('no such file') }] });
  });
  it('turns a directory into an error value', async () => {
    const r = await loadConfigFile(dir);
    expect(r).toMatchObject({ ok: false, errors: [{ message: expect.stringContaining('directory') }] });
  });
  it('reports bad JSON with line and column', async () => {
    const f = join(dir, 'bad.json');
    await writeFile(f, '{\n  "node": {\n    "name": "a",\n  }\n}\n');
    const r = await loadConfigFile(f);
    expect(r).toMatchObject({ ok: false, errors: [{ line: 4, column: 3, message: expect.stringContaining('trailing comma') }] });
    if (!r.ok) expect(formatIssues(r.errors, 'bad.json')).toMatch(/^bad\.json:4:3: \/node: invalid JSON: trailing comma/);
  });
});

describe('parseConfigText', () => {
  it('never throws on arbitrary JSON values or text', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => { parseConfigText(JSON.stringify(v)); }), { numRuns: 300 });
    fc.assert(fc.property(fc.string(), (s) => { parseConfigText(s); }), { numRuns: 300 });
  });

  it('never throws on random instances shaped almost like real ones', () => {
    const anything = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.dictionary(fc.string(), fc.string()));
    const inst = fc.record(
      {
        interface: fc.oneof(fc.constantFrom('lan0', 'wan0'), anything),
        vrid: fc.oneof(fc.integer({ min: 0, max: 300 }), anything),
        priority: fc.oneof(fc.integer({ min: 0, max: 300 }), anything),
        version: fc.oneof(fc.constantFrom(2, 3), anything),
        advert_int: fc.oneof(fc.double({ min: 0, max: 300, noNaN: true }), anything),
        vips: fc.oneof(fc.array(fc.constantFrom('192.0.2.1/24', 'fe80::1/64', '2001:db8::1', 'x', '10.0.0.1')), anything),
        unicast_peers: fc.array(fc.constantFrom('192.0.2.2', '2001:db8::2', 'x')),
        track_checks: fc.array(fc.oneof(fc.constantFrom('c1', 'c2'), anything)),
        address_owner: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('VI_1', 'VI_2', 'VI_3'), inst), (instances) => {
        const r = parseConfigText(JSON.stringify({ instances, checks: { c1: { type: 'tcp', host: 'h', port: 1 } } }));
        if (!r.ok) for (const e of r.errors) expect(typeof e.path).toBe('string');
      }),
      { numRuns: 500 },
    );
  });
});
