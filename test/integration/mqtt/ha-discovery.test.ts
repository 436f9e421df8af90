// Home Assistant MQTT discovery against a real mosquitto: off by default; when on, every discovery
// payload is checked against Home Assistant's documented options for its component
// (https://www.home-assistant.io/integrations/sensor.mqtt/ and /binary_sensor.mqtt/: the keys,
// the required state_topic, device classes, entity categories, availability), its templates read
// fields the box really publishes, no component acts (no button, switch, select...), and
// entities of an instance removed by a reload are cleared.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { waitFor } from '../../helpers/wait';
import { freePort, Mosquitto, Recorder } from './broker';
import { startDaemon, type Harness } from './harness';

let dir: TempDir;
let broker: Mosquitto;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  dir = makeTempDir('tvhad-');
  broker = new Mosquitto({ dir: dir.path, port: await freePort() });
  await broker.start();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
afterAll(async () => {
  await broker?.stop();
  dir?.remove();
});

// Home Assistant's documented configuration variables (full names; abbreviations unused here).
const COMMON = ['availability', 'availability_mode', 'availability_template', 'availability_topic', 'device', 'device_class', 'enabled_by_default', 'encoding', 'entity_category', 'entity_picture', 'expire_after', 'force_update', 'icon', 'json_attributes_template', 'json_attributes_topic', 'name', 'object_id', 'default_entity_id', 'origin', 'payload_available', 'payload_not_available', 'platform', 'qos', 'state_topic', 'unique_id', 'value_template'];
const DOC_KEYS: Record<string, string[]> = {
  sensor: [...COMMON, 'last_reset_value_template', 'options', 'suggested_display_precision', 'state_class', 'unit_of_measurement'],
  binary_sensor: [...COMMON, 'off_delay', 'payload_off', 'payload_on'],
};
const BINARY_DEVICE_CLASSES = ['battery', 'battery_charging', 'carbon_monoxide', 'cold', 'connectivity', 'door', 'garage_door', 'gas', 'heat', 'light', 'lock', 'moisture', 'motion', 'moving', 'occupancy', 'opening', 'plug', 'power', 'presence', 'problem', 'running', 'safety', 'smoke', 'sound', 'tamper', 'update', 'vibration', 'window'];
const DEVICE_KEYS = ['configuration_url', 'connections', 'hw_version', 'identifiers', 'manufacturer', 'model', 'model_id', 'name', 'serial_number', 'suggested_area', 'sw_version', 'via_device'];
const ORIGIN_KEYS = ['name', 'sw_version', 'support_url'];

function schemaProblems(topic: string, p: Record<string, any>): string[] {
  const out: string[] = [];
  const m = /^homeassistant\/([a-z_]+)\/([a-zA-Z0-9_-]+)\/([a-zA-Z0-9_-]+)\/config$/.exec(topic);
  if (!m) return [`${topic}: not <prefix>/<component>/<node_id>/<object_id>/config`];
  const component = m[1]!;
  const keys = DOC_KEYS[component];
  if (!keys) return [`${topic}: component ${component} (only read-only sensor and binary_sensor are expected)`];
  for (const k of Object.keys(p)) if (!keys.includes(k)) out.push(`${topic}: ${k} is not a documented ${component} option`);
  if (typeof p.state_topic !== 'string' || /[+#]/.test(p.state_topic)) out.push(`${topic}: state_topic (required) must be a topic`);
  if (typeof p.unique_id !== 'string' || p.unique_id === '') out.push(`${topic}: unique_id`);
  if (typeof p.availability_topic !== 'string') out.push(`${topic}: availability_topic`);
  if (!Array.isArray(p.device?.identifiers) || p.device.identifiers.length === 0) out.push(`${topic}: device.identifiers`);
  for (const k of Object.keys(p.device ?? {})) if (!DEVICE_KEYS.includes(k)) out.push(`${topic}: device.${k}`);
  if (typeof p.origin?.name !== 'string') out.push(`${topic}: origin.name is required when origin is given`);
  for (const k of Object.keys(p.origin ?? {})) if (!ORIGIN_KEYS.includes(k)) out.push(`${topic}: origin.${k}`);
  if (p.entity_category !== undefined && !['config', 'diagnostic'].includes(p.entity_category)) out.push(`${topic}: entity_category`);
  if (component === 'binary_sensor' && p.device_class !== undefined && !BINARY_DEVICE_CLASSES.includes(p.device_class)) out.push(`${topic}: device_class ${p.device_class}`);
  if (component === 'sensor' && p.state_class !== undefined && !['measurement', 'total', 'total_increasing', 'measurement_angle'].includes(p.state_class)) out.push(`${topic}: state_class`);
  return out;
}

async function daemon(name: string, mqtt: Record<string, unknown>): Promise<Harness> {
  const h = await startDaemon(dir.path, name, { url: broker.url, ...mqtt }, { inventory: false }, { node: { name, state_dir: `${dir.path}/state-${name}`, pair: 'site-h' } });
  cleanups.push(() => h.stop());
  await waitFor(() => h.ext.connected, { what: `${name} connected`, timeoutMs: 20_000 });
  return h;
}

/** Every retained message under filter, up to a marker published after subscribing. */
async function retained(filter: string): Promise<{ topic: string; text: string }[]> {
  const r = await Recorder.open(broker.url, [filter, 'tvhad/marker']);
  cleanups.push(() => r.close());
  // QoS 1 like the subscription: it queues behind the retained messages instead of overtaking them.
  r.client.publish('tvhad/marker', 'x', { qos: 1 });
  await r.wait((m) => m.topic === 'tvhad/marker', 'marker');
  return r.messages.filter((m) => m.topic !== 'tvhad/marker' && m.text !== '');
}

describe('Home Assistant discovery', () => {
  it('is off by default: nothing under homeassistant/', async () => {
    await daemon('box-off', {});
    const sub = await Recorder.open(broker.url, ['twinvip/box-off/state', 'homeassistant/#']);
    cleanups.push(() => sub.close());
    await sub.wait((m) => m.topic === 'twinvip/box-off/state', 'the box publishing');
    expect((await retained('homeassistant/#')).filter((m) => m.topic.includes('box-off'))).toEqual([]);
  });

  it('when on: a device with sensors and binary sensors that match the documented schema, read-only, and follow reloads', async () => {
    const h = await daemon('box-ha', { home_assistant: { enabled: true } });
    await waitFor(async () => (await retained('homeassistant/+/twinvip_box-ha/+/config')).length >= 12, { what: 'discovery published (2 sensors per instance, 9 alarms, the serial channel)' });
    const msgs = await retained('homeassistant/+/twinvip_box-ha/+/config');
    const problems = msgs.flatMap((m) => schemaProblems(m.topic, JSON.parse(m.text)));
    expect(problems).toEqual([]);
    const byTopic = new Map(msgs.map((m) => [m.topic, JSON.parse(m.text) as Record<string, any>]));
    const components = new Set(msgs.map((m) => m.topic.split('/')[1]));
    expect([...components].sort()).toEqual(['binary_sensor', 'sensor']);
    const state = byTopic.get('homeassistant/sensor/twinvip_box-ha/VI_1_state/config')!;
    expect(state).toMatchObject({ state_topic: 'twinvip/box-ha/instance/VI_1/state', value_template: '{{ value_json.state }}', availability_topic: 'twinvip/box-ha/status', payload_available: 'online', payload_not_available: 'offline', device: { identifiers: ['twinvip_box-ha'], name: 'box-ha', model: 'twinvip (pair site-h)' } });
    expect(byTopic.get('homeassistant/sensor/twinvip_box-ha/VI_1_priority/config')).toMatchObject({ value_template: '{{ value_json.priority }}' });
    expect(byTopic.get('homeassistant/binary_sensor/twinvip_box-ha/alarm_serial-heartbeat-lost/config')).toMatchObject({ device_class: 'problem', state_topic: 'twinvip/box-ha/state' });
    expect(byTopic.get('homeassistant/binary_sensor/twinvip_box-ha/serial_heartbeat/config')).toMatchObject({ device_class: 'connectivity' });
    // Unique ids are unique; all entities belong to one device.
    expect(new Set([...byTopic.values()].map((p) => p.unique_id)).size).toBe(byTopic.size);
    expect(new Set([...byTopic.values()].map((p) => p.device.identifiers[0])).size).toBe(1);

    // What the templates read is what the box publishes on their state topics.
    const live = await Recorder.open(broker.url, ['twinvip/box-ha/#']);
    cleanups.push(() => live.close());
    const inst = JSON.parse((await live.wait((m) => m.topic === 'twinvip/box-ha/instance/VI_1/state', 'instance state')).text);
    expect(typeof inst.state).toBe('string');
    expect(typeof inst.priority).toBe('number');
    h.daemon.bus.emit('alarm', { id: 'serial-heartbeat-lost', active: true, severity: 'warning', message: 'no frame', at: Date.now() });
    const st = await live.wait((m) => m.topic === 'twinvip/box-ha/state' && JSON.parse(m.text).alarms.length === 1, 'state with the alarm');
    expect(JSON.parse(st.text).alarms[0].id).toBe('serial-heartbeat-lost');
    expect((await live.wait((m) => m.topic === 'twinvip/box-ha/status', 'availability')).text).toBe('online');

    // A reload renaming the instance: its entities go (empty retained), the new ones come.
    const cfg = JSON.parse(readFileSync(h.configPath, 'utf8'));
    cfg.instances = { VI_9: cfg.instances.VI_1 };
    writeFileSync(h.configPath, JSON.stringify(cfg));
    await h.daemon.reload('test');
    await waitFor(async () => {
      const now = (await retained('homeassistant/+/twinvip_box-ha/+/config')).map((m) => m.topic);
      return now.includes('homeassistant/sensor/twinvip_box-ha/VI_9_state/config') && !now.includes('homeassistant/sensor/twinvip_box-ha/VI_1_state/config');
    }, { what: 'VI_1 entities cleared, VI_9 published' });
  });
});
