// Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery):
// this box as one device, with a sensor per instance for its state and one for its effective
// priority (both read from the retained instance/<name>/state), a binary sensor (device class
// problem) per alarm this box can raise, and one (connectivity) for the serial heartbeat channel,
// all available while the retained status says "online" (the last will says "offline"). Nothing
// that acts: a plain Home Assistant button must never become an unsigned failover, so commands
// stay with `twinvip request` and signed keys. Pure: the extension publishes what this returns.
import type { Topics } from './topics';

export interface DiscoveryMessage {
  topic: string;
  payload: Record<string, unknown>;
}

/** Alarms a box raises (daemon bus `alarm` ids), each a binary sensor. */
export const DISCOVERY_ALARMS: readonly string[] = [
  'dual-master', 'split-brain-detected', 'serial-heartbeat-lost', 'ethernet-heartbeat-lost', 'heartbeat-release',
  'fence-failed', 'vrid-conflict', 'ha-stall', 'mqtt-request-flood',
];

const safeId = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');

export function discoveryMessages(opts: { prefix: string; node: string; version: string; pair: string; topics: Topics; instances: string[] }): DiscoveryMessage[] {
  const nodeId = safeId(`twinvip_${opts.node}`);
  const t = opts.topics;
  const device = { identifiers: [nodeId], name: opts.node, manufacturer: 'twinvip', model: `twinvip (pair ${opts.pair})`, sw_version: opts.version };
  const common = {
    availability_topic: t.status,
    payload_available: 'online',
    payload_not_available: 'offline',
    device,
    origin: { name: 'twinvip', sw_version: opts.version },
  };
  const out: DiscoveryMessage[] = [];
  const add = (component: 'sensor' | 'binary_sensor', objectId: string, payload: Record<string, unknown>) => {
    const oid = safeId(objectId);
    out.push({ topic: `${opts.prefix}${component}/${nodeId}/${oid}/config`, payload: { ...payload, unique_id: `${nodeId}_${oid}`, ...common } });
  };
  for (const name of opts.instances) {
    const stateTopic = t.instanceState(name);
    add('sensor', `${name}_state`, { name: `${name} state`, state_topic: stateTopic, value_template: '{{ value_json.state }}', icon: 'mdi:ip-network' });
    add('sensor', `${name}_priority`, { name: `${name} priority`, state_topic: stateTopic, value_template: '{{ value_json.priority }}', state_class: 'measurement', entity_category: 'diagnostic' });
  }
  for (const id of DISCOVERY_ALARMS) {
    add('binary_sensor', `alarm_${id}`, {
      name: `alarm ${id}`,
      state_topic: t.state,
      value_template: `{{ 'ON' if (value_json.alarms | selectattr('id', 'equalto', '${id}') | list | length) > 0 else 'OFF' }}`,
      payload_on: 'ON',
      payload_off: 'OFF',
      device_class: 'problem',
      entity_category: 'diagnostic',
    });
  }
  add('binary_sensor', 'serial_heartbeat', {
    name: 'serial heartbeat',
    state_topic: t.state,
    value_template: "{{ 'ON' if (value_json.heartbeat and value_json.heartbeat.serial and value_json.heartbeat.serial.ok) else 'OFF' }}",
    payload_on: 'ON',
    payload_off: 'OFF',
    device_class: 'connectivity',
    entity_category: 'diagnostic',
  });
  return out;
}
