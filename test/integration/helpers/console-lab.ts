// A technician in picocom on box-a's serial console while the pair runs: the set-up that
// console-pair/peer-over-serial.test.ts and diagnose/console-diagnose.test.ts share. A pair lab
// (../heartbeat-pair/pair-lab.ts) whose box-a serves its console on a second socat pty pair,
// picocom in tmux on the far end of it (../console-pair/picocom-terminal.ts).
import { realpathSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { patience } from '../../helpers/patience';
import { needsProgram, type Prerequisite } from '../../helpers/prerequisites';
import { PicocomTerminal } from '../console-pair/picocom-terminal';
import { SocatPair } from '../heartbeat/socat-pair';
import { PairLab } from '../heartbeat-pair/pair-lab';
import { NetnsLab } from './netns';

export interface ConsoleOptions {
  /** The console's password (box-a's `console.password`). */
  password: string;
  /** The terminal's columns (tmux pane width). */
  width: number;
  /** The terminal's rows (default 60). */
  height?: number;
  /** Further waits once a is MASTER and b BACKUP, before picocom starts (e.g. serial up on both). */
  ready?: (p: PairLab) => Promise<unknown>;
}

/** What withConsole needs of the machine besides the namespaces. */
export const CONSOLE_PREREQUISITES: Prerequisite[] = [...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('picocom'), needsProgram('tmux')];

/**
 * The file's hooks, like pairLabHooks: beforeAll makes the pair with box-a's console on its own
 * pty pair and starts both daemons, waits for a MASTER and b BACKUP with the VIP on a
 * (`masterIs`), then `ready`, then box-a's console open (its log line), starts picocom and hands
 * lab and terminal to `use`. afterAll heals box-a's LAN port (a test may have cut it; healing an
 * uncut port changes nothing), stops picocom, cleans up the lab and closes the console's pty pair.
 *
 *   let p: PairLab;
 *   let term: PicocomTerminal;
 *   withConsole({ password: 'pw', width: 80 }, (lab, t) => ((p = lab), (term = t)));
 */
export function withConsole(opts: ConsoleOptions, use: (p: PairLab, term: PicocomTerminal) => void): void {
  let p: PairLab | undefined;
  let consolePty: SocatPair | undefined;
  let term: PicocomTerminal | undefined;

  beforeAll(async () => {
    if (!NetnsLab.available()) return;
    p = await PairLab.startPair({
      before: async () => {
        consolePty = new SocatPair();
        await consolePty.start();
      },
      config: (box) =>
        box.id === 'a' ? { console: { enabled: true, device: realpathSync(consolePty!.a), baud: 115200, password: opts.password, idle_timeout: 600 } } : {},
    });
    const lab = p;
    await lab.masterIs(lab.a, lab.b);
    await opts.ready?.(lab);
    await lab.waitFor(() => /console: serving the diagnostic shell/.test(lab.a.log()), () => `box-a's serial console open${lab.logs()}`);
    term = new PicocomTerminal(consolePty!.b, opts.width, opts.height ?? 60);
    await term.start();
    use(lab, term);
  }, patience(90_000));

  afterAll(async () => {
    await p?.healLan(p.a).catch(() => undefined);
    await term?.stop();
    await p?.cleanup();
    await consolePty?.cleanup().catch(() => undefined);
  }, patience(60_000));
}
