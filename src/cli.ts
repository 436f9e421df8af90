import { VERSION } from './version';
import { runCommand } from './commands/run';
import { checkCommand } from './commands/check';
import { statusCommand } from './commands/status';
import { consoleCommand } from './commands/console';
import { importKeepalivedCommand } from './commands/import-keepalived';
import { demoCommand } from './commands/demo';

const USAGE = `twinvip ${VERSION} — VRRP high availability with dual heartbeat, Nginx control and MQTT

usage:
  twinvip run -c FILE               run the daemon in the foreground
  twinvip check -c FILE             validate a configuration (exit 0, or 1 with every error)
  twinvip status [--json]           ask the running daemon
  twinvip console                   the diagnostic shell of the running daemon
  twinvip import-keepalived FILE    print the equivalent twinvip configuration
  twinvip demo                      two simulated boxes in network namespaces
  twinvip --version
`;

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  run: runCommand,
  check: checkCommand,
  status: statusCommand,
  console: consoleCommand,
  'import-keepalived': importKeepalivedCommand,
  demo: demoCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    (cmd === undefined ? process.stderr : process.stdout).write(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    process.stderr.write(`twinvip: unknown command '${cmd}'\n\n${USAGE}`);
    return 2;
  }
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`twinvip: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 70;
  },
);
