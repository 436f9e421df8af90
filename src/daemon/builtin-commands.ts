import { CommandError } from '../control';
import type { Daemon } from './daemon';

const MAX_LOG_LINES = 1000;

/** The commands every daemon answers, whatever features run: status, ping, reload, log, help. */
export function registerBuiltinCommands(d: Daemon): void {
  const c = d.control;
  c.register('ping', () => ({ pong: true, pid: process.pid }), { summary: 'is the daemon alive' });
  c.register('status', () => d.freshStatus(), { summary: 'node, version, config hash, instances, counters' });
  c.register('reload', async () => {
    // Same path as SIGHUP; a refused config is an error answer carrying every issue.
    const r = await d.reload('control request');
    if (!r.ok) throw new CommandError(`config refused, running config ${r.keptHash} kept:\n${r.errors.join('\n')}`);
    return r;
  }, { summary: 're-read the config file (same as SIGHUP)' });
  c.register('log', (args) => {
    const n = args.n === undefined ? 50 : args.n;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new CommandError("'n' must be a non-negative integer");
    return { lines: d.logger.recent(Math.min(n, MAX_LOG_LINES)) };
  }, { summary: 'the last n log lines {n}' });
  c.register('help', () => ({ commands: c.commands() }), { summary: 'list control commands' });
}
