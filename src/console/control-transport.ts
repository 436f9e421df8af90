// The shell over the control socket (`twinvip console` on the box itself). The client edits the
// line locally (node:readline) and sends whole lines; the daemon keeps one shell per connection,
// so a confirmation question and its answer may arrive as two requests.
import { CommandError, type ControlServer } from '../control';
import type { Shell } from './shell';

export interface ConsoleAnswer {
  /** What the shell wrote, '\n' line endings, without prompts. */
  text: string;
  /** What to prompt with next: the command prompt or a question (y/N). */
  prompt: string;
}

const MAX_SESSIONS = 32;
const SESSION_IDLE_MS = 60 * 60 * 1000;
const MAX_LINE_CHARS = 4096;

interface Session {
  shell: Shell;
  out: string[];
  lastUsed: number;
}

/**
 * Registers the `console` control command ({line} | {hello: true} | {interrupt: true}); returns
 * the function that removes it. Replaces the daemon's stopgap of the same name.
 */
export function registerConsoleCommand(
  control: ControlServer,
  makeShell: (write: (text: string) => void) => Shell,
  now: () => number,
  /** Awaited before each request is served (the extension loads the shell's module the first time). */
  prepare?: () => Promise<void>,
): () => void {
  const sessions = new Map<number, Session>();

  const sessionFor = (id: number): Session => {
    let s = sessions.get(id);
    if (!s) {
      // The control server has no close hook: drop sessions unused for long, and the oldest
      // beyond the bound.
      for (const [k, v] of sessions) if (now() - v.lastUsed > SESSION_IDLE_MS) sessions.delete(k);
      if (sessions.size >= MAX_SESSIONS) {
        const oldest = [...sessions.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0];
        if (oldest) sessions.delete(oldest[0]);
      }
      const out: string[] = [];
      s = { shell: makeShell((text) => out.push(text)), out, lastUsed: now() };
      sessions.set(id, s);
    }
    s.lastUsed = now();
    return s;
  };

  const unregister = control.register(
    'console',
    async (args, rctx): Promise<ConsoleAnswer> => {
      await prepare?.();
      const s = sessionFor(rctx.connectionId);
      if (args.hello === true) s.shell.start();
      if (args.interrupt === true) s.shell.interrupt();
      if (args.line !== undefined) {
        if (typeof args.line !== 'string') throw new CommandError("'line' must be a string");
        if (/[\r\n]/.test(args.line)) throw new CommandError('one line per request (no CR or LF inside)');
        if (args.line.length > MAX_LINE_CHARS) throw new CommandError(`line longer than ${MAX_LINE_CHARS} characters`);
        s.shell.feedLine(args.line);
      }
      await s.shell.whenIdle();
      const text = s.out.join('');
      s.out.length = 0;
      return { text, prompt: s.shell.prompt() };
    },
    { summary: 'the diagnostic shell, one line per request {line} | {hello} | {interrupt}', replace: true },
  );
  return () => {
    unregister();
    sessions.clear();
  };
}
