// The demo's box configurations against the real loader (schema + semantic rules): a config the
// schema refuses is a demo bug. Fast, no namespaces; it lives beside the demo's end-to-end test.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config';
import { boxConfig, chooseParts, PARTS, type BoxPaths } from '../../../src/demo/configs';
import { describeMqtt } from '../../../src/demo/observe';
import { BOXES, VIP } from '../../../src/demo/topology';

function paths(name: string): BoxPaths {
  const dir = `/tmp/tvd0000-x/${name}`;
  return {
    dir,
    config: `${dir}/twinvip.json`,
    socket: `${dir}/control.sock`,
    stateDir: `${dir}/state`,
    nginxPrefix: `${dir}/nginx`,
    www: `${dir}/www`,
    serialDevice: name === 'box-a' ? '/dev/pts/7' : '/dev/pts/8',
  };
}

describe('demo box configurations', () => {
  for (const box of BOXES) {
    it(`${box.name}: every part (serial heartbeat, Nginx, MQTT) passes the loader`, () => {
      const inputs = { box, paths: paths(box.name), serialKey: '0123456789abcdef0123456789abcdef' };
      const choice = chooseParts(inputs);
      expect([...choice.refused.entries()]).toEqual([]);
      expect([...choice.accepted].sort()).toEqual([...PARTS].sort());
      const r = parseConfigText(JSON.stringify(boxConfig(inputs, choice.accepted)));
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      const inst = r.config.instances.VI_LAN!;
      expect(inst.priority).toBe(box.priority);
      expect(inst.version).toBe(3);
      expect(r.config.heartbeat.serial?.node_id).toBe(box.nodeId);
      expect(r.config.mqtt.enabled).toBe(true);
      expect(JSON.stringify(inst.vips)).toContain(VIP);
    });
  }

  it('a refused part is reported with the loader\'s path, not thrown', () => {
    // A relative serial device is what the schema refuses; the part must come back as refused.
    const inputs = { box: BOXES[0]!, paths: { ...paths('box-a'), serialDevice: 'ttyS1' }, serialKey: '0123456789abcdef0123456789abcdef' };
    const choice = chooseParts(inputs);
    expect(choice.accepted.has('serial')).toBe(false);
    expect(choice.refused.get('serial')).toMatch(/^\/heartbeat\/serial\/device: /);
  });
});

describe('MQTT lines in the demo view', () => {
  it('a transition event names the instance, the states and the cause', () => {
    const ev = describeMqtt(1, 'twinvip/box-b/event', JSON.stringify({ type: 'transition', instance: 'VI_LAN', from: 'BACKUP', to: 'MASTER', cause: 'master down' }));
    expect(ev).toEqual({ t: 1, node: 'box-b', kind: 'transition', text: 'VI_LAN: BACKUP -> MASTER (master down)' });
  });

  it('an alarm shows its id; other topics are ignored; non-JSON is shown as is', () => {
    expect(describeMqtt(1, 'twinvip/box-a/event', JSON.stringify({ type: 'alarm', id: 'dual-master', active: true, instance: 'VI_LAN', message: 'x' }))?.text).toBe('VI_LAN: dual-master raised');
    expect(describeMqtt(1, 'twinvip/box-a/telemetry', '{}')).toBeUndefined();
    expect(describeMqtt(1, 'twinvip/box-a/event', 'not json')?.text).toBe('not json');
  });
});
