// First-boot pairing as a technician does it (issue #25, "I will pair two boxes from their serial
// consoles"): two fresh boxes (a heartbeat key_file that does not exist yet), each with its
// diagnostic console on a serial port, picocom on each console (../console-pair/picocom-terminal.ts:
// tmux on a server of its own, keys in with send-keys, the screen read back). On a's console
// `pair start` (password, y) shows the code; on b's console `pair CODE` (password, y) checks it;
// both boxes write the same 0600 key and the authenticated serial heartbeat flows, which each
// console's `pair` then reports. Everything is real: two daemons from the bundle in network
// namespaces, the heartbeat cable and both console cables socat pty pairs.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SocatPair } from '../heartbeat/socat-pair';
import { NetnsLab } from '../helpers/netns';
import { type Box, PairLab } from './pair-lab';
import { PicocomTerminal } from '../console-pair/picocom-terminal';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

const PASSWORD = 'pair-console-pw-25';
const ids = ['a', 'b'] as const;

let p: PairLab;
const cables: Partial<Record<'a' | 'b', SocatPair>> = {};
const terms: Partial<Record<'a' | 'b', PicocomTerminal>> = {};

const keyOf = (box: Box) => join(p.dir, `heartbeat-${box.id}.key`);
/** A whole prompt line of the box's console, whatever the state summary says. */
const promptOf = (id: 'a' | 'b') => new RegExp(`^twinvip box-${id} \\[[^\\]\\n]*\\]>$`);

/** A guarded console action: the command, the password, the question answered y; returns the screen after it. */
async function guarded(id: 'a' | 'b', command: string, question: RegExp, result: RegExp, what: string): Promise<string> {
  const term = terms[id]!;
  // What the screen shows from the current prompt line on (the pane's empty rows trimmed off).
  const before = (await term.joined()).trimEnd().split('\n').length;
  const since = (screen: string) => screen.trimEnd().split('\n').slice(before - 1).join('\n');
  await term.line(command);
  await term.seen((s) => /^password: ?$/m.test(since(s)), `${id}: the password prompt for ${command}`);
  await term.line(PASSWORD);
  await term.seen((s) => question.test(since(s)), `${id}: the confirmation question for ${command}`);
  await term.line('y');
  const screen = since(await term.seen((s) => result.test(since(s)), `${id}: ${what}${p.logs()}`, 60_000));
  expect(screen).not.toContain(PASSWORD);
  return screen;
}

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('picocom'), needsProgram('tmux')], 'pairing two fresh boxes from their serial consoles', () => {
  beforeAll(async () => {
    if (!NetnsLab.available()) return;
    p = await PairLab.create();
    await p.startPair({
      before: async () => {
        for (const id of ids) {
          cables[id] = new SocatPair();
          await cables[id].start();
        }
      },
      config: (box) => ({ console: { enabled: true, device: realpathSync(cables[box.id]!.a), baud: 115200, password: PASSWORD, idle_timeout: 600 } }),
      options: (box) => ({ serial: { key: undefined, key_file: keyOf(box) } }),
    });
    await p.masterIs(p.a, p.b);
    for (const id of ids) {
      const box = id === 'a' ? p.a : p.b;
      await p.waitFor(() => /console: serving the diagnostic shell/.test(box.log()), () => `box-${id}'s serial console open${p.logs()}`);
      terms[id] = new PicocomTerminal(cables[id]!.b, 80, 60);
      await terms[id].start();
    }
  }, patience(120_000));

  afterAll(async () => {
    for (const id of ids) await terms[id]?.stop();
    await p?.cleanup();
    for (const id of ids) await cables[id]?.cleanup().catch(() => undefined);
  }, patience(60_000));

  it('pair start on a\'s console shows the code, pair CODE on b\'s console confirms it: both keys written (0600, equal), the heartbeat runs, both consoles say paired', async () => {
    // Fresh boxes: each console says so and what to do.
    for (const id of ids) {
      await terms[id]!.keys('Enter');
      await terms[id]!.seen(new RegExp(`^twinvip box-${id} \\[[^\\]\\n]*\\]> ?$`, 'm'), `box-${id}'s prompt`);
      const st = await terms[id]!.command('pair', promptOf(id), `box-${id}: pair status`);
      expect(st).toContain('not paired: plain VRRP until paired');
    }

    const shown = await guarded('a', 'pair start', /pair: start pairing with the twin over the serial cable \(this box shows the code\)\? \(y\/N\)/, /code \d{3} \d{3}: type it on box-b/, 'the code');
    const code = /code (\d{3}) (\d{3}): type it on box-b/.exec(shown)!;
    expect(existsSync(keyOf(p.a)) || existsSync(keyOf(p.b))).toBe(false);

    const confirmed = await guarded(
      'b',
      `pair ${code[1]}${code[2]}`,
      new RegExp(`pair: confirm code ${code[1]} ${code[2]} \\(as the twin shows it\\) and write the heartbeat key\\? \\(y/N\\)`),
      /paired with box-a/,
      'the confirmation',
    );
    expect(confirmed).not.toMatch(/mismatch/);

    await p.waitFor(() => existsSync(keyOf(p.a)) && existsSync(keyOf(p.b)), () => `both keys written${p.logs()}`);
    const key = readFileSync(keyOf(p.a), 'utf8');
    expect(key).toMatch(/^[0-9a-f]{64}\n$/);
    expect(readFileSync(keyOf(p.b), 'utf8')).toBe(key);
    for (const box of [p.a, p.b]) expect(statSync(keyOf(box)).mode & 0o777).toBe(0o600);
    await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, () => `serial heartbeat ok on both${p.logs()}`);
    expect((await p.counters(p.a))!['rejected.bad-hmac']).toBe(0);
    expect((await p.counters(p.b))!['rejected.bad-hmac']).toBe(0);
    for (const id of ids) {
      const st = await terms[id]!.command('pair', promptOf(id), `box-${id}: pair status after pairing`);
      expect(st).toMatch(/^paired \(key .*heartbeat-[ab]\.key\), serial heartbeat ok$/m);
    }
    await p.masterIs(p.a, p.b);
  }, patience(180_000));
});
