import { describe, expect, it } from 'vitest';
import { heartbeatStatus } from '../../../../src/ha/heartbeat/status';
import type { HeartbeatFrame } from '../../../../src/heartbeat';

const frame: HeartbeatFrame = {
  kind: 'heartbeat', nodeId: '2', bootId: '0123456789abcdef', seq: 7, uptimeMs: 99_000, configHash: 'aaaa', health: { uplink: true, gateway: true, nginx: false },
  instances: [{ vrid: 51, family: 4, state: 'BACKUP', effectivePriority: 100, advertIntervalCs: 100, address: '10.0.0.2', hearsPeerAdverts: false }],
};

describe('heartbeat status', () => {
  it('gives ages against now, the peer view and whether the configs match', () => {
    const s = heartbeatStatus({
      now: 10_000, device: '/dev/ttyS1', nodeId: '1', open: true, periodMs: 100, deadMs: 500,
      view: {
        serialOk: true, lastFrameAt: 9_950, peerNodeId: '2', peerHealth: frame.health,
        instances: [{ vrid: 51, family: 4, local: 'MASTER', ethernetOk: false, lastAdvertAt: null, peer: frame.instances[0]!, splitBrain: false, alarms: [], decision: 'MASTER; the twin is alive over serial' }],
      },
      names: () => 'VI_1', peerFrame: frame, peerFrameAt: 9_950.4, ownConfigHash: 'aaaa',
      health: { uplink: true, gateway: true, nginx: true }, releasing: [], alarms: [],
    });
    expect(s.serial).toEqual({ device: '/dev/ttyS1', port_open: true, ok: true, period_ms: 100, dead_ms: 500, last_heard_ms_ago: 50 });
    expect(s.ethernet).toEqual([{ instance: 'VI_1', vrid: 51, family: 4, ok: false, last_advert_ms_ago: null, split_brain: false, decision: 'MASTER; the twin is alive over serial' }]);
    expect(s.peer).toMatchObject({ node_id: '2', heard_ms_ago: 50, config_matches: true, instances: [{ state: 'BACKUP', priority: 100, hears_our_adverts: false, releasing: false }] });
  });

  it('no peer frame yet: peer is null and the serial age is null', () => {
    const s = heartbeatStatus({
      now: 10, device: '/dev/ttyS1', nodeId: '1', open: false, periodMs: 100, deadMs: 500,
      view: { serialOk: false, lastFrameAt: null, peerNodeId: null, peerHealth: null, instances: [] },
      names: () => '', peerFrame: undefined, peerFrameAt: undefined, ownConfigHash: 'x',
      health: { uplink: true, gateway: true, nginx: true }, releasing: [], alarms: [],
    });
    expect(s.peer).toBeNull();
    expect(s.serial.last_heard_ms_ago).toBeNull();
    expect(s.serial.port_open).toBe(false);
  });
});
