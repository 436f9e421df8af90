import { VERSION } from './version';
import { markNodeBootstrap, startMark } from './lib/start-marks';

markNodeBootstrap('main');
startMark('main-entry');

const USAGE = `twinvip ${VERSION} — VRRP high availability with dual heartbeat, Nginx control and MQTT

usage:
  twinvip run -c FILE               run the daemon in the foreground
  twinvip check -c FILE             validate a configuration (exit 0, or 1 with every error)
  twinvip selftest -c FILE          try on this machine what run needs (sockets, serial, nginx): OK/FAIL + errno
  twinvip status [--json]           ask the running daemon
  twinvip diagnose [--json]         split-brain diagnosis: causes, evidence, fix (exit 0 healthy)
  twinvip cleanup -c FILE           remove the configured VIPs (systemd ExecStopPost=, after a crash)
  twinvip console                   the diagnostic shell of the running daemon
  twinvip import-keepalived FILE    print the equivalent twinvip configuration
  twinvip demo                      two simulated boxes in network namespaces
  twinvip pair [--confirm CODE | --status]
                                    pair the twins over the serial cable (heartbeat key)
  twinvip keygen [-o FILE]          a key pair for signed fleet requests
  twinvip request NODE COMMAND [ARGS] --key FILE --broker URL
                                    send a signed fleet request over MQTT, print the answer
  twinvip fleet status|watch|maintenance --broker URL
                                    the fleet's pairs from outside: split-brain, offline, drift
  twinvip --version
`;

type Command = (args: string[]) => Promise<number>;

// Each command's module is loaded when it runs (a split chunk of the bundle): the daemon never
// parses the demo, the importer or the client commands, which keeps its resident memory down.
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run')).runCommand,
  check: async () => (await import('./commands/check')).checkCommand,
  selftest: async () => (await import('./commands/selftest')).selftestCommand,
  status: async () => (await import('./commands/status')).statusCommand,
  diagnose: async () => (await import('./commands/diagnose')).diagnoseCommand,
  cleanup: async () => (await import('./commands/cleanup')).cleanupCommand,
  console: async () => (await import('./commands/console')).consoleCommand,
  'import-keepalived': async () => (await import('./commands/import-keepalived')).importKeepalivedCommand,
  // Not in the appliance tarball (scripts/rootfs.mjs leaves the demo's chunks out): a clear word
  // instead of a module-not-found stack.
  demo: async () => {
    try {
      return (await import('./commands/demo')).demoCommand;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
      return async () => {
        process.stderr.write('twinvip: the demo is not part of the appliance image; run `make demo` in the source tree\n');
        return 2;
      };
    }
  },
  pair: async () => (await import('./commands/pair')).pairCommand,
  keygen: async () => (await import('./commands/keygen')).keygenCommand,
  request: async () => (await import('./commands/request')).requestCommand,
  fleet: async () => (await import('./commands/fleet')).fleetCommand,
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
  const load = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!load) {
    process.stderr.write(`twinvip: unknown command '${cmd}'\n\n${USAGE}`);
    return 2;
  }
  // The HA thread loads its bundle while the daemon loads its own and the configuration.
  // With real-time priority until the HA side has the configuration (start-boost.ts).
  if (cmd === 'run' && !rest.includes('-h') && !rest.includes('--help')) {
    const ha = await import('./ha/worker/prewarm');
    ha.startBoost();
    ha.prewarmHaWorker();
  } else {
    // Started real-time by the unit (its ExecStopPost= cleanup, a reload's helper): only the
    // daemon's start is meant to run so.
    (await import('./ha/worker/start-boost')).dropInheritedRealtime();
  }
  const command = await load();
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`twinvip: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 70;
  },
);
