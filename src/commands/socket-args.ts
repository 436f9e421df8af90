// The command line of the commands that talk to the running daemon (status, console):
// -s/--socket PATH or -c/--config FILE picks the control socket, -h prints the usage.
import { parseArgs } from 'node:util';
import { chooseSocket } from '../control';
import { EXIT } from '../daemon';

export type SocketArgs =
  | { ok: true; socket: string; /** The boolean options given. */ flags: Set<string> }
  | { ok: false; /** The process exit code: usage printed, or why no socket. */ exit: number };

/** `booleans` are the command's own long boolean options (e.g. 'json'). */
export async function parseSocketArgs(command: string, usage: string, args: string[], booleans: readonly string[] = []): Promise<SocketArgs> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        ...Object.fromEntries(booleans.map((name) => [name, { type: 'boolean' as const }])),
        socket: { type: 'string', short: 's' },
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`twinvip ${command}: ${(err as Error).message}\n${usage}`);
    return { ok: false, exit: EXIT.USAGE };
  }
  if (values.help === true) {
    process.stdout.write(usage);
    return { ok: false, exit: EXIT.OK };
  }
  const choice = await chooseSocket(values.socket as string | undefined, values.config as string | undefined);
  if (!choice.ok) {
    process.stderr.write(`twinvip ${command}: ${choice.message}\n`);
    return { ok: false, exit: EXIT.CONFIG };
  }
  return { ok: true, socket: choice.socket, flags: new Set(booleans.filter((name) => values[name] === true)) };
}
