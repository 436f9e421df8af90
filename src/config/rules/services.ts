import { redactUrlCredentials } from '../../log/redact';
import type { TwinvipConfig } from '../schema/root';
import { pointer, type IssueCollector } from '../../lib/issue-collector';

/** Heartbeat, MQTT and console: fields that depend on each other. */
export function checkServices(config: TwinvipConfig, out: IssueCollector): void {
  const serial = config.heartbeat.serial;
  if (serial) {
    if (serial.key !== undefined && serial.key_file !== undefined) {
      out.error('/heartbeat/serial/key', 'give key or key_file, not both', undefined, 'remove one of them');
    } else if (serial.key === undefined && serial.key_file === undefined) {
      out.error('/heartbeat/serial/key', 'the serial heartbeat is authenticated: key or key_file is required', undefined,
        'key: a shared secret of at least 16 characters, or key_file: "/etc/twinvip/heartbeat.key"');
    }
  } else if (Object.keys(config.instances).length > 0) {
    out.warn('/heartbeat/serial', 'no serial heartbeat: split-brain protection relies on the Ethernet adverts alone');
  }
  if (!serial || serial.enabled === false) {
    for (const [name, inst] of Object.entries(config.instances)) {
      if (inst.mixed_group) {
        out.warn(pointer('instances', name, 'mixed_group'), 'has no effect without the serial heartbeat: every instance then follows the plain RFC/keepalived rules', true);
      }
    }
  }
  if (config.heartbeat.fence && !serial) {
    out.warn('/heartbeat/fence', 'runs only when both heartbeat channels are lost; without heartbeat.serial it is never used');
  }

  if (config.node.twin !== undefined && config.node.twin === config.node.name) {
    out.error('/node/twin', `is this box's own name (${config.node.name}); it names the other box of the pair`, config.node.twin, 'the twin\'s node.name');
  }

  const mqtt = config.mqtt;
  if (mqtt.enabled && mqtt.url === undefined) {
    out.error('/mqtt/url', 'is required when mqtt.enabled is true', undefined, 'a broker URL, e.g. mqtts://broker.example.net:8883');
  }
  if (mqtt.password !== undefined && mqtt.password_file !== undefined) {
    out.error('/mqtt/password', 'give password or password_file, not both', undefined, 'remove one of them');
  }
  if (mqtt.tls && mqtt.url !== undefined && !/^(mqtts|wss):/.test(mqtt.url)) {
    out.warn('/mqtt/tls', `ignored: the URL ${redactUrlCredentials(mqtt.url)} is not mqtts:// or wss://`);
  }
  checkFleetCommands(config, out);

  const email = config.email;
  if (email && email.password !== undefined && email.password_file !== undefined) {
    out.error('/email/password', 'give password or password_file, not both', undefined, 'remove one of them');
  }

  const con = config.console;
  if (con.password !== undefined && con.password_file !== undefined) {
    out.error('/console/password', 'give password or password_file, not both', undefined, 'remove one of them');
  }
  if (con.enabled && con.device === undefined) {
    out.error('/console/device', 'is required when console.enabled is true', undefined, 'the console serial device, e.g. /dev/ttyS0');
  }
  if (con.enabled && serial?.enabled && con.device === serial.device) {
    out.error('/console/device', `is also the serial heartbeat device (${serial.device}); they need separate ports`, con.device, 'another serial port');
  }
}

/** Fleet commands: transport, keys, and settings that would make them useless. */
function checkFleetCommands(config: TwinvipConfig, out: IssueCollector): void {
  const mqtt = config.mqtt;
  const cmds = mqtt.commands;
  const keys = Object.entries(config.trusted_keys);
  const byKey = new Map<string, string>();
  for (const [name, k] of keys) {
    const first = byKey.get(k.public_key);
    if (first !== undefined) {
      out.error(pointer('trusted_keys', name, 'public_key'), `is the same key as trusted_keys.${first}; one key has one role`, undefined, 'list each key once');
    } else byKey.set(k.public_key, name);
  }
  if (!mqtt.enabled || !cmds.enabled) return;
  const plaintext = mqtt.url !== undefined && /^(mqtt|ws):/i.test(mqtt.url);
  if (plaintext && !mqtt.allow_plaintext_commands) {
    out.error('/mqtt/url', `${redactUrlCredentials(mqtt.url!)} is plaintext while mqtt.commands.enabled is true: the broker password, every command and every answer cross the network readable by anyone on the path`, undefined,
      'an mqtts:// or wss:// URL, or mqtt.allow_plaintext_commands: true to accept it knowingly');
  } else if (plaintext) {
    out.warn('/mqtt/allow_plaintext_commands', `commands are accepted over the plaintext broker connection ${redactUrlCredentials(mqtt.url!)}`);
  }
  if (keys.length === 0 && cmds.unsigned.length === 0) {
    out.warn('/mqtt/commands/enabled', 'no trusted_keys and no unsigned commands: every request will be refused');
  }
  if (cmds.config_push && !keys.some(([, k]) => k.role === 'admin')) {
    out.warn('/mqtt/commands/config_push', 'no trusted key has the admin role: every config push will be refused');
  }
}
