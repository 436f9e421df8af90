// A daemon process with the MQTT extension, for the last-will test: it is killed with SIGKILL.
// Bundled by the test with esbuild and run by the pinned Node.
import { loadConfigFile } from '../../../src/config';
import { Daemon } from '../../../src/daemon';
import { Logger, streamSink } from '../../../src/log';
import { MqttExtension } from '../../../src/mqtt';

const path = process.argv[2]!;
const loaded = await loadConfigFile(path);
if (!loaded.ok) {
  process.stderr.write(`${JSON.stringify(loaded.errors)}\n`);
  process.exit(1);
}
const logger = new Logger({ level: 'info', sink: streamSink(process.stdout) });
const ext = new MqttExtension({ inventory: false });
const daemon = new Daemon({ configPath: path, config: loaded.config, configHash: loaded.hash, logger, extensions: [ext] });
await daemon.start();
process.on('SIGTERM', () => void daemon.stop('SIGTERM').then(() => process.exit(0)));
