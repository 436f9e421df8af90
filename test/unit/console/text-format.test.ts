import { describe, expect, it } from 'vitest';
import { flow } from '../../../src/console/text-format';

describe('flow', () => {
  it('keeps short facts on one line, three spaces apart', () => {
    expect(flow(['peer box-b', 'alarms: none'])).toBe('peer box-b   alarms: none');
  });

  it('starts a new line when the next fact would pass the width, and cuts a fact too long alone', () => {
    expect(flow(['a'.repeat(30), 'b'.repeat(30), 'c'.repeat(30)], 70)).toBe(`${'a'.repeat(30)}   ${'b'.repeat(30)}\n${'c'.repeat(30)}`);
    expect(flow(['x'.repeat(90)], 80)).toBe(`${'x'.repeat(78)}..`);
    for (const l of flow(['peer node 1', 'decision: stay BACKUP: the twin is MASTER over serial, Ethernet path broken', 'alarms: ethernet-heartbeat-lost']).split('\n')) {
      expect(l.length).toBeLessThanOrEqual(80);
    }
  });
});
