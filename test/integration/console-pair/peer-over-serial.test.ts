// What issue 8 asks a person to check: a technician in picocom on box-a's serial console, with the
// pair running and the Ethernet path between the boxes cut, reads `peer`, the twin's own view
// fetched over the serial heartbeat link.
//
// Everything is real: two twinvip daemons from the bundle in network namespaces on a bridge
// (../heartbeat-pair/pair-lab.ts), the serial heartbeat over one socat pty pair, box-a's console
// on a second pty pair, picocom in tmux on the far end of it. Keys go in with send-keys, the
// screen is read with capture-pane, and every wait polls the screen or a daemon's control socket
// for an observable state with a generous deadline.
import { expect, it } from 'vitest';
import { CONSOLE_PREREQUISITES, withConsole } from '../helpers/console-lab';
import type { PairLab } from '../heartbeat-pair/pair-lab';
import type { PicocomTerminal } from './picocom-terminal';
import { describeRequiring } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

const PASSWORD = 'console-pair-pw-7';
/** A whole prompt line of box-a's console, whatever the state summary says. */
const PROMPT = /^twinvip box-a \[[^\]\n]*\]>$/;
const WIDTH = 80;

let p: PairLab;
let term: PicocomTerminal;

function logs(): string {
  return `--- box-a ---\n${p.a.log()}\n--- box-b ---\n${p.b.log()}`;
}

/** Every line of a command's output fits an 80-column terminal (tmux wrapped nothing). */
function expectFits(out: string): void {
  const wide = out.split('\n').filter((l) => l.length > WIDTH);
  expect(wide, `lines wider than ${WIDTH} columns`).toEqual([]);
}

withConsole({ password: PASSWORD, width: WIDTH }, (lab, t) => ((p = lab), (term = t)));

describeRequiring(CONSOLE_PREREQUISITES, 'picocom on box-a\'s serial console, the pair running, the Ethernet path cut', () => {
  it('Enter gives the prompt with the node name and MASTER; status shows the instance and both heartbeat channels', async () => {
    await term.keys('Enter');
    await term.seen(/^twinvip box-a \[MASTER\]>/m, 'the prompt');
    // Both channels up: box-b's adverts do not reach a MASTER, so wait on the serial channel and
    // on whatever box-a's console reports for the Ethernet path.
    await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.ethernet[0]?.ok, () => `both channels up\n${logs()}`);
    // a's own Ethernet channel silent as well: a box that became MASTER by preempting a master b
    // (b up first on a loaded machine) heard b's adverts until then, and reads "VI_1 ok" on its
    // own hearing for a dead time (seen under stress-ng: the screen 438 ms after such a preempt) before the twin's
    // word is what says the path is up.
    await p.waitFor(async () => {
      const hb = await p.heartbeat(p.a);
      return hb?.peer?.instances[0]?.hears_our_adverts === true && hb.ethernet[0]?.ok === false;
    }, () => `a hears no adverts of its own and learns over serial that b hears it\n${logs()}`);
    const out = await term.command('status', PROMPT, 'the status screen');
    expect(out).toMatch(/^node box-a\s/m);
    // Every instance with state, priority, VRID, since when and why.
    expect(out).toMatch(/^VI_1\s+MASTER\s+150\s+77\s+[\d.]+ (ms|s)\s+\S/m);
    // A MASTER hears no adverts from its BACKUP: the twin's word over serial says the path is up.
    expect(out).toMatch(/^ethernet\s+ok\s.*VI_1 ok \(twin hears our adverts\)$/m);
    expect(out).toMatch(/^serial\s+ok\s/m);
    expect(out).toMatch(/peer node 2/);
    // Parts switched off in this config say so; nothing reads as an error.
    expect(out).toMatch(/^nginx\s+Nginx control disabled in the config$/m);
    expect(out).toMatch(/^mqtt\s+MQTT disabled in the config$/m);
    expect(out).not.toMatch(/error|not running/);
    expectFits(out);
    if (process.env.SHOW_SCREEN) process.stdout.write(`\n=== status (links up) ===\n${out}\n`);
  }, patience(90_000));

  it('with the LAN path cut (links UP), `peer` shows box-b\'s own view over serial: BACKUP, its heartbeat view', async () => {
    await p.cutLan(p.a);
    const link = await p.a.ns.ipJson<{ flags: string[] }[]>(['link', 'show', 'dev', 'la']);
    expect(link[0]!.flags).toContain('LOWER_UP');
    // box-b no longer hears box-a's adverts; box-a learns it over serial.
    await p.waitFor(async () => {
      const hb = await p.heartbeat(p.b);
      return hb?.ethernet[0]?.ok === false && hb.alarms.some((a) => a.id === 'ethernet-heartbeat-lost');
    }, () => `b's ethernet channel lost, alarm raised\n${logs()}`);
    await p.waitFor(async () => (await p.heartbeat(p.a))?.peer?.instances[0]?.hears_our_adverts === false, () => `a learns b no longer hears it\n${logs()}`);

    // box-a's own screen says the Ethernet path is lost.
    const status = await term.command('status', PROMPT, 'status with the LAN cut');
    expect(status).toMatch(/^ethernet\s+lost\s.*VI_1 lost \(twin hears no adverts from us\)$/m);
    expect(status).toMatch(/^serial\s+ok\s/m);
    expect(status).toMatch(/^VI_1\s+MASTER\s/m);
    if (process.env.SHOW_SCREEN) process.stdout.write(`\n=== status (LAN cut) ===\n${status}\n`);

    const peer = await term.command('peer', PROMPT, 'the peer screen', 30_000);
    if (process.env.SHOW_SCREEN) process.stdout.write(`\n=== the pane after peer (LAN cut), as tmux shows it ===\n${(await term.screen()).trimEnd().split('\n').slice(-22).join('\n')}\n`);
    expect(peer).toMatch(/^the twin's own view \(over the serial link, [\d.]+ (ms|s)\):$/m);
    expect(peer).toMatch(/^node box-b\s/m);
    expect(peer).toMatch(/^VI_1\s+BACKUP\s+100\s+77\s+[\d.]+ (ms|s)\s+\S/m);
    // box-b's heartbeat view: it lost box-a's adverts (heard once, so an age), it hears box-a
    // over serial, and raises the alarm of the decision table's row 3.
    expect(peer).toMatch(/^ethernet\s+lost\s+[\d.]+ (ms|s) ago\s+VI_1 lost$/m);
    expect(peer).toMatch(/^serial\s+ok\s+[\d.]+ (ms|s) ago\s/m);
    expect(peer).toMatch(/peer node 1/);
    expect(peer).toMatch(/alarms: ethernet-heartbeat-lost/);
    expect(peer).toMatch(/^nginx\s+Nginx control disabled in the config$/m);
    expect(peer).not.toMatch(/unreadable|error|not running/);
    expectFits(peer);

    const hb = await term.command('heartbeat', PROMPT, 'the heartbeat screen');
    if (process.env.SHOW_SCREEN) process.stdout.write(`\n=== heartbeat (LAN cut) ===\n${hb}\n`);
    expect(hb).toMatch(/^ethernet\s+lost\s/m);
    expect(hb).toMatch(/^serial\s+ok\s/m);
    expectFits(hb);

    // A guarded action still asks for the password and a confirmation with the LAN cut; 'n' runs nothing.
    await term.line('failover');
    await term.seen(/^password: $/m, 'the password prompt');
    await term.line(PASSWORD);
    await term.seen('failover: hand MASTER of every instance to the twin? (y/N)', 'the confirmation question');
    await term.line('n');
    const after = await term.seen(/failover: cancelled\ntwinvip box-a \[MASTER\]>/, 'the cancellation and a fresh prompt');
    expect(after).not.toContain(PASSWORD);

    // No split-brain while it lasted: box-b stayed BACKUP.
    expect(await p.state(p.b)).toBe('BACKUP');
    expect(await p.state(p.a)).toBe('MASTER');
  }, patience(120_000));

  it('healed: box-a\'s console shows the Ethernet channel ok again and `peer` shows box-b without the alarm', async () => {
    await p.healLan(p.a);
    await p.waitFor(() => /alarm cleared ethernet-heartbeat-lost/.test(p.b.log()), () => `b clears ethernet-heartbeat-lost\n${logs()}`);
    await p.waitFor(async () => (await p.heartbeat(p.a))?.peer?.instances[0]?.hears_our_adverts === true, () => `a learns b hears it again\n${logs()}`);
    const status = await term.command('status', PROMPT, 'status after healing');
    expect(status).toMatch(/^ethernet\s+ok\s.*VI_1 ok \(twin hears our adverts\)$/m);
    const peer = await term.command('peer', PROMPT, 'the peer screen after healing');
    expect(peer).toMatch(/^VI_1\s+BACKUP\s+100\s/m);
    expect(peer).toMatch(/^ethernet\s+ok\s+[\d.]+ (ms|s) ago\s+VI_1 ok$/m);
    expect(peer).toMatch(/alarms: none/);
    expect(await p.state(p.a)).toBe('MASTER');
    expect(await p.state(p.b)).toBe('BACKUP');
  }, patience(90_000));
});
