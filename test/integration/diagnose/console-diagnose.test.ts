// Issue 23: the console's `diagnose` over a serial console session with the Ethernet path cut.
// A technician in picocom on box-a's serial console (a second socat pty pair; picocom in tmux,
// ../console-pair/picocom-terminal.ts) types `diagnose` while box-a's bridge port is disabled (both
// boxes' links stay UP): the answer names path-cut, built with box-b's evidence fetched over the
// serial heartbeat link, the only channel left between the boxes. Healthy before and after.
import { expect, it } from 'vitest';
import { CONSOLE_PREREQUISITES, withConsole } from '../helpers/console-lab';
import type { PairLab } from '../heartbeat-pair/pair-lab';
import type { PicocomTerminal } from '../console-pair/picocom-terminal';
import { describeRequiring } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';
import { healthyAgain, named, onlyNamed } from './diag-helpers';

const PROMPT = /^twinvip box-a \[[^\]\n]*\]>$/;

let p: PairLab;
let term: PicocomTerminal | undefined;

withConsole(
  { password: 'diag-console-pw', width: 120, ready: (lab) => lab.waitFor(async () => (await lab.heartbeat(lab.a))?.serial.ok && (await lab.heartbeat(lab.b))?.serial.ok, 'serial up on both') },
  (lab, t) => ((p = lab), (term = t)),
);

describeRequiring(CONSOLE_PREREQUISITES, "picocom on box-a's serial console: `diagnose` with the Ethernet path cut", () => {
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
    await healthyAgain(p);
    const after = await term!.command('diagnose', PROMPT, 'the diagnosis after healing');
    expect(after).toMatch(/^healthy: no cause found$/m);
  }, patience(150_000));
});
