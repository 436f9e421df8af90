// `twinvip fleet` against a real pair (twinvip in two namespaces, VRRPv3 at 0.5 s, node.pair
// set) and a real mosquitto in a third namespace, where the tool runs too: the pair is seen
// healthy; a split-brain induced on it (VRRP dropped by nftables in b's namespace, both boxes
// still on the broker) shows in `fleet status` and ends when VRRP flows again; a rolling
// maintenance hands the VIP over and back, one box at a time, with signed commands.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../helpers/bundle';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { BUNDLE, NODE, useVrrpLab, VrrpLab, type Twinvip } from '../vrrp/lab';
import { Mosquitto } from './broker';

const VIP = '10.66.0.100';
const BROKER_HOST = '10.66.0.3';
const BROKER = `mqtt://${BROKER_HOST}:1883`;
const lab = useVrrpLab(['a', 'b', 'c']);
let broker: Mosquitto;
let opsKey: string;

async function pair(): Promise<{ a: Twinvip; b: Twinvip }> {
  const box = async (role: 'a' | 'b', priority: number) => lab().twinvip(role, { VI_1: { vrid: 72, version: 3, advert_int: 0.5, priority, vips: [`${VIP}/24`] } }, {
    node: { name: `box-${role}`, state_dir: join(lab().dir, `state-${role}`), pair: 'site-x', twin: role === 'a' ? 'box-b' : 'box-a' },
    mqtt: { enabled: true, url: BROKER, allow_plaintext_commands: true, reconnect_min: 0.2, reconnect_max: 2, telemetry_interval: 60, commands: { enabled: true } },
    trusted_keys: { ops: { role: 'operator', public_key: (await import('node:fs')).readFileSync(`${opsKey}.pub`, 'utf8').trim() } },
  });
  const a = await box('a', 150);
  const b = await box('b', 100);
  await lab().waitHolders(VIP, ['a'], 20_000);
  await a.waitLog(/connected to mqtt:/, 20_000);
  await b.waitLog(/connected to mqtt:/, 20_000);
  await lab().waitFor(async () => (await b.state()) === 'BACKUP', { what: 'b BACKUP', timeoutMs: 15_000 });
  return { a, b };
}

/** `twinvip fleet ...` from namespace c. */
async function fleet(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string; report?: any }> {
  const r = await lab().box('c').ns.tryRun(NODE, [BUNDLE, 'fleet', ...args, '--broker', BROKER], timeoutMs);
  let report: any;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    report = undefined;
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, report };
}

const sitex = (r: any) => r?.pairs?.find((p: any) => p.id === 'site-x');

describeRequiring([...VrrpLab.prerequisites, needsProgram('mosquitto'), needsProgram('nft')], 'twinvip fleet against a real pair', () => {
  beforeAll(async () => {
    broker = new Mosquitto({ dir: lab().dir, port: 1883, host: BROKER_HOST, netns: lab().box('c').ns.name });
    await broker.start();
    opsKey = join(lab().dir, 'ops.key');
    const k = await runCli(['keygen', '-o', opsKey, '--role', 'operator']);
    if (k.code !== 0) throw new Error(`keygen failed: ${k.stderr}`);
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('the pair is seen healthy; a split-brain induced on it shows in fleet status, and clears', async () => {
    await pair();
    const ok = await fleet(['status', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(sitex(ok.report)).toMatchObject({ healthy: true, boxes: [{ node: 'box-a', online: true }, { node: 'box-b', online: true }], instances: [{ name: 'VI_1', holders: ['box-a'] }] });

    // VRRP dropped on b's input: b stops hearing a and becomes MASTER too; both still reach the broker.
    const ns = lab().box('b').ns;
    await ns.run('nft', ['add', 'table', 'inet', 'tvfleet']);
    await ns.run('nft', ['add', 'chain', 'inet', 'tvfleet', 'in', '{ type filter hook input priority 0 ; }']);
    await ns.run('nft', ['add', 'rule', 'inet', 'tvfleet', 'in', 'ip', 'protocol', '112', 'drop']);
    try {
      await lab().waitHolders(VIP, ['a', 'b'], 20_000);
      let seen: any;
      await lab().waitFor(async () => {
        seen = await fleet(['status', '--json']);
        return seen.code === 1 && sitex(seen.report)?.problems.some((p: any) => p.kind === 'split-brain');
      }, { what: () => `split-brain in fleet status: ${JSON.stringify(sitex(seen?.report))}`, timeoutMs: 30_000 });
      expect(sitex(seen.report).problems).toEqual([expect.objectContaining({ kind: 'split-brain', instance: 'VI_1', severity: 'critical', message: expect.stringMatching(/^VI_1: box-a and box-b both MASTER for /) })]);
      const text = await fleet(['status', '--no-publish']);
      expect(text.stdout).toMatch(/^BAD  site-x  .*VI_1:box-a\+box-b$/m);
    } finally {
      await ns.run('nft', ['delete', 'table', 'inet', 'tvfleet']);
    }
    await lab().waitHolders(VIP, ['a'], 20_000);
    await lab().waitFor(async () => (await fleet(['status', '--json'])).code === 0, { what: 'healthy again', timeoutMs: 30_000 });
  });

  it('rolling maintenance: each box in turn hands its VIP over and takes it back, signed', async () => {
    await pair();
    const r = await fleet(['maintenance', 'site-x', '--key', opsKey, '--timeout', '60'], 240_000);
    expect(r.code, r.stderr).toBe(0);
    const steps = r.stderr.split('\n').map((l) => l.replace(/^\S+ /, '')).filter((l) => /^(site-x|done):/.test(l));
    expect(steps).toEqual([
      'site-x: box-a: maintenance on', 'site-x: box-a: box-b holds every instance; maintenance off', 'site-x: healthy',
      'site-x: box-b: maintenance on', 'site-x: box-b: box-a holds every instance; maintenance off', 'site-x: healthy',
      'done: 1 pair(s)',
    ]);
    await lab().waitHolders(VIP, ['a'], 20_000);
    // A pair that is not there: refused before anything is sent.
    const none = await fleet(['maintenance', 'site-zz', '--key', opsKey]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/pair site-zz: not on the broker/);
  });
});
