import { VERSION } from './version';

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

export async function main(argv: string[]): Promise<number> {
  const [cmd] = argv;
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  process.stderr.write(`twinvip: '${cmd}' is not available yet in this build\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`twinvip: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 70;
  },
);
