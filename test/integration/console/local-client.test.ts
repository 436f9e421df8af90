// `twinvip console` (the bundle) in a real terminal (tmux), against a daemon serving the console
// over its control socket: the prompt comes from the daemon, readline edits the line, Ctrl-C
// abandons a question, Ctrl-D leaves. Piped use is covered in serial-console.test.ts.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionResult } from '../../../src/console';
import { BUNDLE, NODE, buildBundle } from '../../helpers/bundle';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { waitFor } from '../../helpers/wait';
import { startConsoleDaemon, type ConsoleDaemon } from './fixture';

const run = promisify(execFile);
const SESSION = `tvlc-${randomBytes(3).toString('hex')}`;

let dir: TempDir;
let d: ConsoleDaemon;
let tmuxStarted = false;
const failovers: string[] = [];

async function tmux(...args: string[]): Promise<string> {
  const r = await run('tmux', ['-L', SESSION, ...args], { env: { ...process.env, TERM: process.env.TERM ?? 'xterm' } });
  return r.stdout;
}

async function seen(pattern: RegExp | string, what: string): Promise<string> {
  let last = '';
  try {
    return await waitFor(
      async () => {
        last = await tmux('capture-pane', '-p', '-J', '-S', '-300', '-t', SESSION);
        return (typeof pattern === 'string' ? last.includes(pattern) : pattern.test(last)) ? last : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- screen ---\n${last}`);
  }
}

beforeAll(async () => {
  buildBundle();
  dir = makeTempDir('tvlc-');
  d = await startConsoleDaemon(dir, undefined, {
    wiring: {
      view: { instances: () => [{ name: 'VI_1', state: 'BACKUP', priority: 100 }] },
      actions: { failover: async (i, cause): Promise<ActionResult> => (failovers.push(`${i ?? '*'} ${cause}`), { ok: true, message: 'handed over' }) },
    },
  });
  const exitFile = dir.file('exit-code');
  // The exit code lands in a file so the test can read it after the pane closes.
  await tmux('new-session', '-d', '-s', SESSION, '-x', '100', '-y', '40', `${NODE} ${BUNDLE} console -s ${d.daemon.control.socketPath}; echo $? > ${exitFile}`);
  tmuxStarted = true;
});

afterAll(async () => {
  if (tmuxStarted) await tmux('kill-session', '-t', SESSION).catch(() => '');
  await d?.daemon.stop('test end');
  dir?.remove();
});

describe('twinvip console in a terminal', () => {
  it('shows the banner and the prompt from the daemon', async () => {
    await seen("diagnostic console on box-a. Type 'help'.", 'the banner');
    await seen(/^twinvip box-a \[BACKUP\]> $/m, 'the prompt');
  });

  it('runs a command typed with a correction', async () => {
    await tmux('send-keys', '-t', SESSION, '-l', 'vrrq');
    await tmux('send-keys', '-t', SESSION, 'BSpace');
    await tmux('send-keys', '-t', SESSION, '-l', 'p');
    await tmux('send-keys', '-t', SESSION, 'Enter');
    const s = await seen(/VI_1\s+BACKUP\s+100/, 'the vrrp table');
    expect(s).toContain('twinvip box-a [BACKUP]> vrrp\n');
  });

  it('a guarded action shows its question as the prompt; Ctrl-C abandons it; y runs it', async () => {
    await tmux('send-keys', '-t', SESSION, '-l', 'failover');
    await tmux('send-keys', '-t', SESSION, 'Enter');
    await seen('failover: hand MASTER of every instance to the twin? (y/N) ', 'the question');
    await tmux('send-keys', '-t', SESSION, 'C-c');
    await seen('failover: cancelled', 'the cancellation');
    expect(failovers).toEqual([]);
    await tmux('send-keys', '-t', SESSION, '-l', 'failover');
    await tmux('send-keys', '-t', SESSION, 'Enter');
    await waitFor(async () => ((await tmux('capture-pane', '-p', '-t', SESSION)).match(/\(y\/N\)/g) ?? []).length >= 2, { what: 'the second question', timeoutMs: 30_000 });
    await tmux('send-keys', '-t', SESSION, '-l', 'y');
    await tmux('send-keys', '-t', SESSION, 'Enter');
    const s = await seen('failover: done. handed over', 'the result');
    if (process.env.SHOW_SCREEN) process.stdout.write(s);
    expect(failovers).toEqual(['* console (local)']);
  });

  it('Ctrl-D leaves with exit code 0', async () => {
    await tmux('send-keys', '-t', SESSION, 'C-d');
    const exitFile = dir.file('exit-code');
    const code = await waitFor(() => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim(), { timeoutMs: 30_000, what: 'the client to exit' });
    expect(code).toBe('0');
  });
});
