// Issue 23: the console's `diagnose` over a serial console session with the Ethernet path cut.
// A technician in picocom on box-a's serial console (a second socat pty pair; picocom in tmux,
// ../console-pair/picocom-terminal.ts) types `diagnose` while box-a's bridge port is disabled (both
// boxes' links stay UP): the answer names path-cut, built with box-b's evidence fetched over the
// serial heartbeat link, the only channel left between the boxes. Healthy before and after.
import { realpathSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SocatPair } from '../heartbeat/socat-pair';
import { NetnsLab } from '../helpers/netns';
import { PairLab } from '../heartbeat-pair/pair-lab';
import { PicocomTerminal } from '../console-pair/picocom-terminal';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';
import { healthyAgain, named, onlyNamed } from './diag-helpers';

const PROMPT = /^twinvip box-a \[[^\]\n]*\]>$/;

let p: PairLab;
let consolePty: SocatPair | undefined;
let term: PicocomTerminal | undefined;
let cut = false;

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  p = await PairLab.create();
  await p.startSerial();
  consolePty = new SocatPair();
  await consolePty.start();
  await p.writeConfig(p.a, {
    console: { enabled: true, device: realpathSync(consolePty.a), baud: 115200, password: 'diag-console-pw', idle_timeout: 600 },
  });
  await p.writeConfig(p.b);
  p.start(p.a);
  p.start(p.b);
  await p.masterIs(p.a, p.b);
  await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, 'serial up on both');
  await p.waitFor(() => /console: serving the diagnostic shell/.test(p.a.log()), () => `box-a's serial console open${p.logs()}`);
  term = new PicocomTerminal(consolePty.b, 120, 60);
  await term.start();
}, patience(90_000));

afterAll(async () => {
  if (cut) await p.healLan(p.a).catch(() => undefined);
  await term?.stop();
  await p?.cleanup();
  await consolePty?.cleanup().catch(() => undefined);
}, patience(60_000));

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('picocom'), needsProgram('tmux')], "picocom on box-a's serial console: `diagnose` with the Ethernet path cut", () => {
  it('healthy: `diagnose` says so, with the twin\'s evidence over serial', async () => {
    await healthyAgain(p);
    await term!.keys('Enter');
    await term!.seen(/^twinvip box-a \[MASTER\]>/m, 'the prompt');
    const out = await term!.command('diagnose', PROMPT, 'the healthy diagnosis');
    expect(out).toMatch(/^healthy: no cause found$/m);
    expect(out).toMatch(/^\(with twin box-b's evidence over serial\)$/m);
  }, patience(90_000));

  it('LAN path cut (links UP): `diagnose` names path-cut with box-b\'s evidence, asked over the serial link', async () => {
    const mark = p.a.log().length;
    const at = Date.now();
    await p.cutLan(p.a);
    cut = true;
    const link = await p.a.ns.ipJson<{ flags: string[] }[]>(['link', 'show', 'dev', 'la']);
    expect(link[0]!.flags).toContain('LOWER_UP');
    const hit = await named(p, p.a, mark, 'path-cut', 'box-a', at);
    console.log(`path-cut named on box-a ${hit.ms} ms after the cut`);
    const out = await term!.command('diagnose', PROMPT, 'the diagnosis with the LAN cut', 40_000);
    if (process.env.SHOW_SCREEN) process.stdout.write(`\n=== diagnose (LAN cut) ===\n${out}\n`);
    expect(out).toMatch(/^path-cut \[VI_1\] \(box-a\)$/m);
    // Both directions (b's side is box-b's own word, over serial) and both carriers (b's NIC too).
    expect(out).toMatch(/^ {2}evidence: VI_1: nothing passes between box-a and box-b on the LAN in either direction \(adverts and probe\), carrier up on both, serial fine$/m);
    expect(out).toMatch(/^ {2}fix: {6}check the switch\/VLAN between the boxes/m);
    expect(out).toMatch(/^\(with twin box-b's evidence over serial\)$/m);
    expect(out).not.toMatch(/^(one-way-loss|link-down|nic-errors|firewall-drops-vrrp|vrrp-filtered|address-conflict|settings-mismatch|auth-mismatch|vrid-conflict|peer-address-mismatch|serial-line-degrading)\b/m);
    await onlyNamed(p, ['path-cut']);
    // The serial heartbeat held the pair: no second MASTER.
    expect(await p.state(p.b)).toBe('BACKUP');
    await p.healLan(p.a);
    cut = false;
    await healthyAgain(p);
    const after = await term!.command('diagnose', PROMPT, 'the diagnosis after healing');
    expect(after).toMatch(/^healthy: no cause found$/m);
  }, patience(150_000));
});
