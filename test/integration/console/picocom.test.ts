// A person at a real terminal program: picocom on one end of a socat pty pair, inside a detached
// tmux session; keys go in with `tmux send-keys` and the screen is read with `capture-pane`, so
// the assertions are on what would be on the screen (echo, erased characters, prompts), not on
// bytes. The VRRP view is a stand-in (the VRRP part is wired by the daemon, not in this branch);
// everything else is real: the daemon, the serial transport, the pty pair, picocom, tmux.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionResult, ConsoleView } from '../../../src/console';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { waitFor } from '../../helpers/wait';
import { startConsoleDaemon, startPtyPair, type ConsoleDaemon, type PtyPair } from './fixture';

const run = promisify(execFile);
const SESSION = `tvcon-${randomBytes(3).toString('hex')}`;
const PASSWORD = 'picocom-pw-42';

let dir: TempDir;
let pty: PtyPair;
let d: ConsoleDaemon;
let tmuxStarted = false;
const maintenance: boolean[] = [];

const view: ConsoleView = {
  instances: () => [
    { name: 'VI_1', state: 'MASTER', priority: 150, basePriority: 150, vrid: 51, cause: 'preempt, higher priority', sinceMs: 42_000 },
    { name: 'VI_2', state: 'MASTER', priority: 140, basePriority: 150, vrid: 52, cause: 'master down, 1204 ms', sinceMs: 7_000 },
  ],
};

async function tmux(...args: string[]): Promise<string> {
  // A server of our own (-L): nothing we do can touch another tmux session on this machine.
  const r = await run('tmux', ['-L', SESSION, ...args], { env: { ...process.env, TERM: process.env.TERM ?? 'xterm' } });
  return r.stdout;
}

/** The screen as a person sees it (visible part plus some scroll-back). */
function screen(): Promise<string> {
  return tmux('capture-pane', '-p', '-J', '-S', '-300', '-t', SESSION);
}

async function keys(...k: string[]): Promise<void> {
  await tmux('send-keys', '-t', SESSION, ...k);
}

async function typeText(text: string): Promise<void> {
  await tmux('send-keys', '-t', SESSION, '-l', text);
}

async function seen(pattern: RegExp | string, what: string, timeoutMs = 30_000): Promise<string> {
  let last = '';
  try {
    return await waitFor(
      async () => {
        last = await screen();
        return (typeof pattern === 'string' ? last.includes(pattern) : pattern.test(last)) ? last : undefined;
      },
      { timeoutMs, intervalMs: 100, what },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- screen ---\n${last}`);
  }
}

/** The last non-empty line on the visible screen: where the cursor sits. */
async function lastLine(): Promise<string> {
  const s = await tmux('capture-pane', '-p', '-t', SESSION);
  return s.split('\n').filter((l) => l.trim() !== '').at(-1) ?? '';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dir = makeTempDir('tvpc-');
  pty = await startPtyPair(dir);
  d = await startConsoleDaemon(dir, pty.a, {
    password: PASSWORD,
    wiring: {
      view,
      actions: {
        maintenance: async (on): Promise<ActionResult> => {
          maintenance.push(on);
          return { ok: true, message: on ? 'VI_1, VI_2 demoted to priority 0' : 'back in elections' };
        },
      },
    },
  });
  await waitFor(() => d.console.serialConsole?.isOpen, { timeoutMs: 20_000, what: 'the console port to open' });
  await tmux('new-session', '-d', '-s', SESSION, '-x', '100', '-y', '40', `picocom -b 115200 ${pty.b}`);
  tmuxStarted = true;
  await seen('Terminal ready', 'picocom to be ready');
});

afterAll(async () => {
  if (tmuxStarted) {
    const pid = Number((await tmux('display-message', '-p', '-t', SESSION, '#{pane_pid}').catch(() => '')).trim());
    await tmux('kill-session', '-t', SESSION).catch(() => '');
    // picocom gets SIGHUP from the closing pane; make sure it (and only it) is gone.
    if (Number.isInteger(pid) && pid > 0) {
      await waitFor(() => !alive(pid), { timeoutMs: 5000, what: 'picocom to exit' }).catch(() => {
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      });
    }
  }
  await d?.daemon.stop('test end');
  await pty?.stop();
  dir?.remove();
});

describe('the console in picocom (tmux)', () => {
  it('Enter shows the prompt with the node name and the local state', async () => {
    await keys('Enter');
    await seen('twinvip box-a [MASTER]> ', 'the prompt');
    expect(await lastLine()).toBe('twinvip box-a [MASTER]>');
  });

  it('backspace edits on screen: "statx", Backspace, "us" runs status, and the table lines up', async () => {
    await typeText('statx');
    await seen('twinvip box-a [MASTER]> statx', 'the typed text echoed');
    await keys('BSpace');
    await waitFor(async () => (await lastLine()) === 'twinvip box-a [MASTER]> stat', { what: 'the x erased on screen', timeoutMs: 30_000 });
    await typeText('us');
    await keys('Enter');
    const s = await seen(/mqtt\s+not running/, 'the status screen');
    expect(s).toContain('twinvip box-a [MASTER]> status\n');
    expect(s).not.toContain('statx');
    expect(s).toMatch(/^INSTANCE\s+STATE\s+PRIO\s+VRID\s+SINCE\s+CAUSE$/m);
    expect(s).toMatch(/^VI_1\s+MASTER\s+150\s+51\s+42\.0 s\s+preempt, higher priority$/m);
    expect(s).toMatch(/^VI_2\s+MASTER\s+140\/150\s+52\s+7\.0 s\s+master down, 1204 ms$/m);
    expect(s).toContain('heartbeat: not running');
    // Lined up: the STATE column starts at the same place on every row of the table.
    const rows = s.split('\n').filter((l) => /^(INSTANCE|VI_\d)\s/.test(l));
    expect(new Set(rows.map((r) => r.search(/STATE|MASTER/))).size).toBe(1);
    await waitFor(async () => (await lastLine()) === 'twinvip box-a [MASTER]>', { what: 'the prompt after status', timeoutMs: 30_000 });
  });

  it('Ctrl-U clears a typed line, and a wrong command is named', async () => {
    await typeText('failover now please');
    await seen('failover now please', 'the typed line');
    await keys('C-u');
    await waitFor(async () => (await lastLine()) === 'twinvip box-a [MASTER]>', { what: 'the line cleared on screen', timeoutMs: 30_000 });
    await typeText('stauts');
    await keys('Enter');
    await seen("unknown command 'stauts'; type 'help'", 'the unknown-command answer');
  });

  it('maintenance asks for the password (hidden) and then y/N; n cancels, y runs', async () => {
    // Type only at a fresh prompt: keys sent while the previous answer is still being drawn
    // can land in the middle of it under load.
    await waitFor(async () => (await lastLine()) === 'twinvip box-a [MASTER]>', { what: 'the prompt before maintenance', timeoutMs: 30_000 });
    await typeText('maintenance on');
    await keys('Enter');
    await seen(/password: $/m, 'the password prompt');
    await typeText(PASSWORD);
    await keys('Enter');
    await seen('maintenance on: demote every instance of this node (the twin takes over)? (y/N)', 'the confirmation question');
    await typeText('n');
    await keys('Enter');
    await seen('maintenance on: cancelled', 'the cancellation');
    expect(maintenance).toEqual([]);
    await typeText('maintenance on');
    await keys('Enter');
    // Authenticated for the session: straight to the question.
    await waitFor(async () => (await lastLine()).endsWith('(the twin takes over)? (y/N)'), { what: 'the second question', timeoutMs: 30_000 });
    await typeText('y');
    await keys('Enter');
    const s = await seen('maintenance on: done. VI_1, VI_2 demoted to priority 0', 'the action result');
    expect(maintenance).toEqual([true]);
    expect(s).not.toContain(PASSWORD);
    if (process.env.SHOW_SCREEN) process.stdout.write(s);
  });
});
