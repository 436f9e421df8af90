import { createInterface } from 'node:readline';
import { ControlClient, type ClientResult } from '../control';
import { EXIT } from '../daemon';
import { parseSocketArgs } from './socket-args';

const USAGE = `usage: twinvip console [-s SOCKET | -c FILE]

The running daemon's diagnostic shell, over its control socket: the same shell as on the serial
console (status, vrrp, heartbeat, peer, nginx, mqtt, counters, log, config check, and the guarded
actions maintenance/failover/reload, which ask y/N first). Type 'help' for the list.
In a terminal: line editing and history, Ctrl-C abandons the line or a question, Ctrl-D or
'quit' leaves. Without a terminal it reads lines from stdin and prints only the answers:
  echo status | twinvip console
  printf 'reload\\ny\\n' | twinvip console
Exit codes: 0 done, 1 config unreadable, 2 usage, 3 no daemon answers, 5 connection lost.
`;

/** The answer of the daemon's `console` command; older daemons sent only `text`. */
interface Answer {
  text: string;
  prompt?: string;
}

const REQUEST_TIMEOUT_MS = 60_000;

export async function consoleCommand(args: string[]): Promise<number> {
  const parsed = await parseSocketArgs('console', USAGE, args);
  if (!parsed.ok) return parsed.exit;
  const conn = await ControlClient.connect(parsed.socket, { timeoutMs: 5000 });
  if (!conn.ok) {
    process.stderr.write(`twinvip console: ${conn.message}\n`);
    return conn.reason === 'unreachable' ? EXIT.NO_DAEMON : EXIT.DAEMON_ERROR;
  }
  const client = conn.client;
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive, historySize: interactive ? 100 : 0 });
  let lost: string | undefined;

  const show = (r: ClientResult): boolean => {
    if (!r.ok) {
      lost = r.message;
      return false;
    }
    if (r.response.status === 'error') {
      process.stdout.write(`error: ${r.response.error}\n`);
      return true;
    }
    const data = r.response.data as Partial<Answer> | undefined;
    const text = typeof data?.text === 'string' ? data.text : JSON.stringify(data, null, 2);
    if (text !== '') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    if (typeof data?.prompt === 'string') rl.setPrompt(data.prompt);
    return true;
  };
  const prompt = () => {
    if (interactive && lost === undefined) rl.prompt();
  };

  rl.setPrompt('twinvip> ');
  if (interactive) {
    // The banner and the prompt (node name, state) come from the daemon.
    if (!show(await client.request('console', { hello: true }, { timeoutMs: REQUEST_TIMEOUT_MS }))) return fail(lost, rl, client);
    // Ctrl-C: abandon the line, a pending question, or the wait for a slow answer (peer).
    rl.on('SIGINT', () => {
      rl.write(null, { ctrl: true, name: 'u' });
      process.stdout.write('^C\n');
      void client.request('console', { interrupt: true }, { timeoutMs: REQUEST_TIMEOUT_MS }).then((r) => {
        show(r);
        prompt();
      });
    });
  }
  prompt();
  try {
    for await (const line of rl) {
      const trimmed = line.trim();
      if (trimmed === 'quit' || trimmed === 'exit') break;
      if (!show(await client.request('console', { line }, { timeoutMs: REQUEST_TIMEOUT_MS }))) break;
      prompt();
    }
  } finally {
    rl.close();
    client.close();
  }
  if (lost !== undefined) {
    process.stderr.write(`twinvip console: ${lost}\n`);
    return EXIT.DAEMON_ERROR;
  }
  return EXIT.OK;
}

function fail(message: string | undefined, rl: ReturnType<typeof createInterface>, client: ControlClient): number {
  rl.close();
  client.close();
  process.stderr.write(`twinvip console: ${message ?? 'connection lost'}\n`);
  return EXIT.DAEMON_ERROR;
}
