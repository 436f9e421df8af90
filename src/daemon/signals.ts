import type { SubsystemLogger } from '../log';
import type { Daemon } from './daemon';

/** How long a clean shutdown may take before the process gives up on it. */
const STOP_DEADLINE_MS = 10_000;

/**
 * SIGTERM/SIGINT stop the daemon cleanly (systemd sends SIGTERM; Ctrl-C sends SIGINT);
 * SIGHUP reloads the configuration (keepalived's convention too). Returns an uninstaller.
 */
export function installSignalHandlers(daemon: Daemon, log: SubsystemLogger): () => void {
  const onStop = (signal: NodeJS.Signals) => {
    log.info(`received ${signal}`);
    const deadline = setTimeout(() => {
      log.error(`shutdown did not finish within ${STOP_DEADLINE_MS} ms; exiting anyway`);
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    void daemon.stop(signal).finally(() => clearTimeout(deadline));
  };
  const onHup = () => {
    void daemon.reload('SIGHUP');
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  return () => {
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('SIGHUP', onHup);
  };
}
