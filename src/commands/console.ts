import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ControlClient, chooseSocket } from '../control';
import { EXIT } from '../daemon';

const USAGE = `usage: twinvip console [-s SOCKET | -c FILE]

A line client to the running daemon's diagnostic shell over the control socket: each line you
type is sent as {cmd:"console", args:{line}} and the answer printed. Type 'help' for commands,
'quit' or Ctrl-D to leave. Reads stdin, so it also works in scripts: echo status | twinvip console.
(The full shell — instances, heartbeat channels, peer view, guarded actions — comes with the
console part; until then it answers status, log [n], ping, reload, help.)
Exit codes: 0 done, 1 config unreadable, 2 usage, 3 no daemon answers, 5 connection lost.
`;

export async function consoleCommand(args: string[]): Promise<number> {
  let values: { socket?: string; config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args, options: { socket: { type: 'string', short: 's' }, config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`twinvip console: ${(err as Error).message}\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT.OK;
  }
  const choice = await chooseSocket(values.socket, values.config);
  if (!choice.ok) {
    process.stderr.write(`twinvip console: ${choice.message}\n`);
    return EXIT.CONFIG;
  }
  const conn = await ControlClient.connect(choice.socket, { timeoutMs: 5000 });
  if (!conn.ok) {
    process.stderr.write(`twinvip console: ${conn.message}\n`);
    return conn.reason === 'unreachable' ? EXIT.NO_DAEMON : EXIT.DAEMON_ERROR;
  }
  const client = conn.client;
  const interactive = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
  const prompt = () => {
    if (interactive) rl.prompt();
  };
  rl.setPrompt('twinvip> ');
  prompt();
  let code: number = EXIT.OK;
  try {
    for await (const line of rl) {
      const trimmed = line.trim();
      if (trimmed === 'quit' || trimmed === 'exit') break;
      if (trimmed === '') {
        prompt();
        continue;
      }
      const r = await client.request('console', { line: trimmed }, { timeoutMs: 30_000 });
      if (!r.ok) {
        process.stderr.write(`twinvip console: ${r.message}\n`);
        code = EXIT.DAEMON_ERROR;
        break;
      }
      if (r.response.status === 'error') process.stdout.write(`error: ${r.response.error}\n`);
      else {
        const data = r.response.data as { text?: unknown } | undefined;
        const text = typeof data?.text === 'string' ? data.text : JSON.stringify(data, null, 2);
        if (text !== '') process.stdout.write(`${text}\n`);
      }
      prompt();
    }
  } finally {
    rl.close();
    client.close();
  }
  return code;
}
