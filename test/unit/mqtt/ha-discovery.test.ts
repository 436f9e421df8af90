import { describe, expect, it } from 'vitest';
import { discoveryMessages, DISCOVERY_ALARMS } from '../../../src/mqtt/ha-discovery';
import { topicsFor } from '../../../src/mqtt/topics';

describe('Home Assistant discovery messages', () => {
  const msgs = discoveryMessages({ prefix: 'homeassistant/', node: 'gw.a', version: '1.2.3', pair: 'site-1', topics: topicsFor('twinvip/gw.a/'), instances: ['VI_1', 'VI_2'] });

  it('two sensors per instance, a binary sensor per alarm and one for the serial channel; ids safe for topics', () => {
    expect(msgs).toHaveLength(2 * 2 + DISCOVERY_ALARMS.length + 1);
    expect(msgs[0]!.topic).toBe('homeassistant/sensor/twinvip_gw_a/VI_1_state/config');
    for (const m of msgs) expect(m.topic).toMatch(/^homeassistant\/(sensor|binary_sensor)\/twinvip_gw_a\/[A-Za-z0-9_-]+\/config$/);
    expect(new Set(msgs.map((m) => m.payload.unique_id)).size).toBe(msgs.length);
  });

  it('read-only: no component that acts, no command topic', () => {
    for (const m of msgs) {
      expect(m.topic.split('/')[1]).toMatch(/^(sensor|binary_sensor)$/);
      expect(Object.keys(m.payload).filter((k) => k.startsWith('command'))).toEqual([]);
    }
  });
});
