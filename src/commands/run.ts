import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatIssues, loadConfigFile } from '../config';
import { DEFAULT_CONFIG_PATH } from '../control';
import { Daemon, EXIT, createNotifier, installSignalHandlers } from '../daemon';
import { Logger, streamSink } from '../log';
import { VrrpExtension } from '../daemon/vrrp/extension';
import { HeartbeatExtension } from '../daemon/heartbeat/extension';

const USAGE = `usage: twinvip run [-c FILE]

Runs the daemon in the foreground, logging to stdout (the journal under systemd).
  -c, --config FILE   configuration (default ${DEFAULT_CONFIG_PATH})

Signals: SIGTERM/SIGINT stop cleanly; SIGHUP reloads the configuration (a bad file is refused
and the running configuration kept).
Exit codes: 0 clean shutdown, 1 configuration invalid, 2 usage, 4 cannot start (control socket
busy or not creatable), 70 internal error.
`;

export async function runCommand(args: string[]): Promise<number> {
  let configPath: string;
  try {
    const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) {
      process.stdout.write(USAGE);
      return EXIT.OK;
    }
    // Absolute, so status shows where it came from and a reload finds it whatever the cwd becomes.
    configPath = resolve(values.config ?? DEFAULT_CONFIG_PATH);
  } catch (err) {
    process.stderr.write(`twinvip run: ${(err as Error).message}\n${USAGE}`);
    return EXIT.USAGE;
  }

  const loaded = await loadConfigFile(configPath);
  if (!loaded.ok) {
    process.stderr.write(`twinvip: configuration ${configPath} refused (${loaded.errors.length} error(s)):\n${formatIssues(loaded.errors, configPath)}\n`);
    return EXIT.CONFIG;
  }
  const { config, hash } = loaded;
  const logger = new Logger({ level: config.logging.level, format: config.logging.format, sink: streamSink(process.stdout) });
  const log = logger.for('daemon');
  for (const w of loaded.warnings) log.warn(formatIssues([w], configPath));

  const vrrp = new VrrpExtension();
  const daemon = new Daemon({ configPath, config, configHash: hash, logger, extensions: [vrrp, new HeartbeatExtension(() => vrrp.vrrp)] });
  const notifier = createNotifier(process.env, (msg) => log.warn(msg));
  // Signals are installed before the socket exists, so a SIGTERM during start-up is a clean stop.
  const uninstall = installSignalHandlers(daemon, log);
  try {
    const started = await daemon.start();
    if (!started.ok) {
      log.error(`cannot start: ${started.error}`);
      process.stderr.write(`twinvip: cannot start: ${started.error}\n`);
      return EXIT.STARTUP;
    }
    notifier.ready(`node ${config.node.name}, config ${hash}`);
    daemon.bus.on('config-reloaded', (e) => notifier.status(`config ${e.newHash}`));
    await daemon.stopped;
    notifier.stopping('stopped');
    return EXIT.OK;
  } finally {
    uninstall();
  }
}
