// An in-process daemon with the MQTT extension, configured through the real config loader.
import { writeFileSync } from 'node:fs';
import { parseConfigText } from '../../../src/config';
import { Daemon } from '../../../src/daemon';
import { Logger, memorySink } from '../../../src/log';
import { MqttExtension, type MqttExtensionOptions } from '../../../src/mqtt';

export interface Harness {
  daemon: Daemon;
  ext: MqttExtension;
  sink: ReturnType<typeof memorySink>;
  configPath: string;
  stop(): Promise<void>;
}

/** `extra`: more top-level sections (trusted_keys...). */
export function configText(dir: string, name: string, mqtt: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(
    {
      node: { name, state_dir: `${dir}/state-${name}` },
      control: { socket: `${dir}/${name}.sock` },
      logging: { level: 'debug' },
      instances: {
        VI_1: { interface: 'eth0', vrid: 51, priority: 150, vips: ['192.0.2.10/24'] },
      },
      mqtt: { enabled: true, reconnect_min: 0.2, reconnect_max: 1, ...mqtt },
      ...extra,
    },
    null,
    2,
  );
}

export async function startDaemon(dir: string, name: string, mqtt: Record<string, unknown>, opts: MqttExtensionOptions = {}, extra: Record<string, unknown> = {}): Promise<Harness> {
  const text = configText(dir, name, mqtt, extra);
  const parsed = parseConfigText(text);
  if (!parsed.ok) throw new Error(`test config invalid: ${JSON.stringify(parsed.errors)}`);
  const configPath = `${dir}/${name}.json`;
  writeFileSync(configPath, text);
  const sink = memorySink();
  const logger = new Logger({ level: 'debug', sink });
  const ext = new MqttExtension({ inventory: false, ...opts });
  const daemon = new Daemon({ configPath, config: parsed.config, configHash: parsed.hash, logger, extensions: [ext] });
  const r = await daemon.start();
  if (!r.ok) throw new Error(r.error);
  return { daemon, ext, sink, configPath, stop: () => daemon.stop('test end') };
}
