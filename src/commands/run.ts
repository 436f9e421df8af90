import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatIssues, loadConfigOnBox } from '../config';
import { loadConfigOnBoxOffThread } from '../config/off-thread';
import { DEFAULT_CONFIG_PATH } from '../control';
import { Daemon, EXIT, createNotifier, installSignalHandlers, statusLine, type Extension } from '../daemon';
import { LogOutputs, Logger, stdoutIsJournal, streamId, withJournalPrefix } from '../log';
import { loadAddon } from '../net/native';
import { startMark } from '../lib/start-marks';
import { dropStartBoost } from '../ha/worker/start-boost';
import { HaExtension } from '../ha/worker/host';
import { debugHeap, processMemory, threadMemory } from '../lib/thread-memory';
import { OperatorActions } from '../ha/operator-actions';
// The extensions' own files, not the folders' index: an index re-exports every module of its
// feature, and the bundle would then load Nginx's controller and the console's shell at start-up
// (they are imported when configured or first used; bench/README.md "Lazy features").
import { NginxExtension } from '../nginx/extension';
import { ConsoleExtension } from '../console/extension';
import { PEER_STATUS_REQUEST } from '../console/ports';
import { EmailExtension } from '../notify/email-extension';
import { NotifyExtension } from '../notify/extension';
import { DiagnoseExtension, periodicDiagnosis } from '../diagnose/extension';
import { consoleView, registerMqttState } from './run-views';
import { describePairing as pairText } from './pair';
import { LedExtension } from '../led/extension';
import { backoffMs, clearStartFailures, recordStartFailure, waitUnlessStopped } from '../daemon/start-backoff';

const USAGE = `usage: twinvip run [-c FILE]

Runs the daemon in the foreground, logging to stdout (the journal under systemd).
  -c, --config FILE   configuration (default ${DEFAULT_CONFIG_PATH})

Signals: SIGTERM/SIGINT stop cleanly; SIGHUP reloads the configuration (a bad file is refused
and the running configuration kept).
Exit codes: 0 clean shutdown, 1 configuration invalid or a secret file it names missing or
unfit (as twinvip check reports them), 2 usage, 4 cannot start (control socket busy or not
creatable), 6 a configured feature cannot start (one line names the feature, the call and the
errno: an interface that does not exist, a VRRP socket option refused, the serial port, Nginx;
READY=1 is never sent then), 70 internal error. \`twinvip selftest\` tries those calls first.
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

  // The secret files too: a box with an unreadable or short heartbeat key must not start as plain
  // VRRP (a key file that does not exist yet is an unpaired box: it says so, see `twinvip pair`).
  startMark('main-run-loaded');
  const loaded = await loadConfigOnBox(configPath);
  startMark('main-config-done');
  if (!loaded.ok) {
    // No logging section to go by: the journal prefix whenever stdout is the journal.
    const text = `twinvip: configuration ${configPath} refused (${loaded.errors.length} error(s)):\n${formatIssues(loaded.errors, configPath)}\n`;
    process.stderr.write(stdoutIsJournal(process.env, streamId(2)) ? withJournalPrefix(text, 'error') : text);
    return EXIT.CONFIG;
  }
  const { config, hash } = loaded;
  // stdout lines carry their syslog priority when stdout is the journal; the optional syslog
  // datagrams go through the addon (Node has no unix datagram socket).
  const outputs = new LogOutputs({
    stdout: process.stdout,
    settings: config.logging,
    send: (socket, payload) => {
      loadAddon().sendUnixDatagram(socket, payload);
    },
  });
  const logger = new Logger({ level: config.logging.level, format: config.logging.format, sink: outputs.sink });
  const log = logger.for('daemon');
  for (const w of loaded.warnings) log.warn(formatIssues([w], configPath));

  // Nginx first: it is up (hot standby) before any instance can become MASTER, and its health
  // is a tracked object of the instances that say track_nginx.
  const nginx = new NginxExtension();
  // VRRP and the serial heartbeat run in their own thread (src/ha/worker/): nothing the other
  // features do on the main thread can delay an advert or a serial frame.
  const haPath = new HaExtension(nginx);
  const heartbeat = haPath.heartbeat;
  // Maintenance and failover, one action at a time for the console and MQTT alike.
  const ha = new OperatorActions(() => haPath.vrrp);
  // Notify scripts and e-mail only listen to the bus: they start first and stop last, so the
  // instances' first notify (BACKUP at start-up) and their last (STOP) reach them, as keepalived
  // runs notify_backup at start and notify_stop at stop.
  // The status LED follows the instances (node.status_led, by default the board's LED).
  const extensions: Extension[] = [new NotifyExtension(), new EmailExtension(), nginx, haPath, new LedExtension()];
  // MQTT (mqtt.js, its command schemas, telemetry) is loaded only when configured; a reload
  // cannot turn it on (the extension is created at start-up only), so nothing is lost.
  const mqtt = config.mqtt.enabled ? new (await import('../mqtt/extension')).MqttExtension({ ha, twinNode: () => diagnosis.twinNode() }) : undefined;
  if (mqtt) {
    extensions.push(mqtt);
    // The retained state lists each instance's demotions: republish when the operator changes them.
    ha.onDemotionsChanged(() => mqtt.stateChanged());
  }
  // Split-brain diagnosis on the main thread: asks the twin over serial, reads NICs and nft.
  const diagnosis = new DiagnoseExtension(haPath, periodicDiagnosis());
  extensions.push(diagnosis);
  haPath.setAlarmCause((instance) => diagnosis.causeFor(instance));
  // Issue 24: without node.twin the pair id comes from the twin's name learned over serial.
  diagnosis.onTwinNode(() => mqtt?.stateChanged());
  // Paired or unpaired (issue 25): the retained state says so at once.
  if (mqtt) haPath.onPairingChanged(() => mqtt.stateChanged());
  const parts = { vrrp: haPath, heartbeat, nginx, mqtt, configuredInstances: () => Object.keys(daemon.config.instances).length };
  registerMqttState(parts);
  const consoleExt = new ConsoleExtension({
    view: consoleView(parts),
    // `peer` asks the twin over the serial link, so it works with the Ethernet path cut.
    peer: { request: (what, timeoutMs) => heartbeat.requestPeer(what, timeoutMs) },
    diagnose: () => diagnosis.text(),
    actions: {
      maintenance: async (on) => consoleResult(await ha.maintenance(on), on ? 'maintenance on: priority 0, VIPs handed over' : 'maintenance off'),
      failover: async (instance) =>
        consoleResult(await ha.failover(instance), `${instance === undefined ? 'VIPs' : `${instance}'s VIPs`} handed to the peer; demoted until maintenance off`),
      reload: (cause) =>
        ha.exclusive('reload', async () => {
          const r = await daemon.reload(cause);
          if (!r.ok) return { ok: false, error: `config refused, running config ${r.keptHash} kept:\n${r.errors.join('\n')}` };
          return { ok: true, message: r.changed ? `config ${r.oldHash} -> ${r.newHash}` : `config unchanged (${r.newHash})` };
        }),
      pair: async (action, code) => {
        try {
          const d = (await heartbeat.pair({ action, ...(code === undefined ? {} : { code }) })) as Record<string, unknown>;
          return { ok: true, message: pairText(d) };
        } catch (err) {
          return { ok: false, error: (err as Error).message };
        }
      },
      // An MQTT action in progress makes the console refuse a new one, and the reverse.
      inProgress: () => ha.inProgress(),
    },
  });
  heartbeat.answerWith(PEER_STATUS_REQUEST, () => consoleExt.answerPeerRequest(PEER_STATUS_REQUEST));
  extensions.push(consoleExt);
  // Reloads (SIGHUP, MQTT reload and config push) validate in a worker thread: tens of ms of
  // parsing and rules must not delay adverts.
  const daemon = new Daemon({ configPath, config, configHash: hash, logger, extensions, loadConfig: loadConfigOnBoxOffThread });
  daemon.addStatusRefresher(() => haPath.refresh());
  daemon.addStatusSection('diagnosis', () => diagnosis.section());
  mqtt?.addStateProvider('diagnosis', () => diagnosis.section());
  registerDebugCommands(daemon);
  registerMemoryCommand(daemon, haPath);
  const notifier = createNotifier(process.env, (msg) => log.warn(msg));
  // Signals are installed before the socket exists, so a SIGTERM during start-up is a clean stop.
  const uninstall = installSignalHandlers(daemon, log);
  try {
    // Before start: a SIGTERM right after READY=1 (while clearStartFailures is still awaited) must
    // still send STOPPING=1 (sd-notify.test.ts caught it missing).
    daemon.bus.on('stopping', (e) => notifier.stopping(`stopping (${e.cause})`));
    const started = await daemon.start();
    // Normal scheduling whatever way the start ended (host.ts drops it once the HA side has its config).
    dropStartBoost();
    if (!started.ok) {
      if (started.feature) {
        // The daemon logged the line already (journal); stderr gets it too for a shell user.
        process.stderr.write(outputs.forStderr(`twinvip: ${started.error}\n`));
        notifier.status(started.error);
        if (notifier.enabled) {
          // Under systemd: a growing restart delay (start-backoff.ts); a shell user is not kept waiting.
          const n = await recordStartFailure(config.node.state_dir);
          const ms = backoffMs(n);
          log.info(`restart back-off: start failure ${n} in a row, exiting in ${ms} ms`);
          notifier.status(`${started.error} (start failure ${n} in a row; exiting in ${Math.round(ms / 1000)} s)`);
          await waitUnlessStopped(ms);
        }
        return EXIT.FEATURE;
      }
      log.error(`cannot start: ${started.error}`);
      process.stderr.write(outputs.forStderr(`twinvip: cannot start: ${started.error}\n`));
      return EXIT.STARTUP;
    }
    // daemon.start() resolved: the control socket answers and the instances have started
    // (stale VIPs were removed first, inside the VRRP part). Only now is the unit "active".
    const summary = () => statusLine(daemon.status());
    notifier.ready(summary());
    await clearStartFailures(config.node.state_dir);
    const stopWatchdog = notifier.startWatchdog();
    daemon.bus.on('transition', () => notifier.status(summary()));
    daemon.bus.on('config-reloaded', () => notifier.status(summary()));
    daemon.bus.on('config-reloaded', () => outputs.configure(daemon.config.logging));
    daemon.onFaultsChanged(() => notifier.status(summary()));
    await daemon.stopped;
    stopWatchdog();
    // The HA thread died (an exception escaped it): a bug, not a clean stop.
    return haPath.died ? EXIT.INTERNAL : EXIT.OK;
  } finally {
    uninstall();
  }
}

/**
 * TWINVIP_DEBUG_BUSY=1 only (tests and benchmarks): `debug-busy {ms}` keeps the main thread busy
 * for ms (at most 60 s), to show that the HA path keeps its timing whatever the main thread does.
 */
function registerDebugCommands(daemon: Daemon): void {
  if (process.env.TWINVIP_DEBUG_BUSY !== '1') return;
  daemon.control.register('debug-busy', (args) => {
    const ms = typeof args.ms === 'number' && args.ms > 0 ? Math.min(args.ms, 60_000) : 1000;
    const start = performance.now();
    let spins = 0;
    while (performance.now() - start < ms) spins++;
    return { busy_ms: Math.round(performance.now() - start), spins };
  }, { summary: 'debug: keep the main thread busy for {ms} (TWINVIP_DEBUG_BUSY=1)' });
}

/**
 * `memory`: where the daemon's memory is (bench/README.md "Memory breakdown"): the process
 * (smaps_rollup: anonymous = the isolates' heaps and malloc, shared_clean = the node binary's
 * pages), the main thread's isolate and, when the HA path runs in its own thread, that isolate.
 */
function registerMemoryCommand(daemon: Daemon, haPath: HaExtension): void {
  daemon.control.register(
    'memory',
    async () => ({
      process: processMemory(),
      main_thread: threadMemory(),
      ha_thread: haPath.thread === 'worker' ? await haPath.command('ha-memory', {}).catch((err: Error) => ({ error: err.message })) : 'runs on the main thread',
    }),
    { summary: 'memory in MB: the process (smaps_rollup) and each thread\'s V8 heap' },
  );
  // TWINVIP_DEBUG_HEAP=1 only (bench/soak.mjs): a full GC and/or a heap snapshot of one thread.
  if (process.env.TWINVIP_DEBUG_HEAP === '1') {
    daemon.control.register(
      'debug-heap',
      async (args) => (args.thread === 'ha' && haPath.thread === 'worker' ? haPath.command('debug-ha-heap', args) : debugHeap(args)),
      { summary: "debug: {thread: 'main'|'ha', gc: true, snapshot: dir} (TWINVIP_DEBUG_HEAP=1)" },
    );
  }
}

function consoleResult(r: { ok: true; data?: unknown } | { ok: false; error: string }, message: string): { ok: true; message: string } | { ok: false; error: string } {
  return r.ok ? { ok: true, message } : { ok: false, error: r.error };
}
