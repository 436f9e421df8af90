import { hmacSha256 } from '../../../src/ha/heartbeat/frame-crypto';
import type { FrameMac, HeartbeatBody, InstanceReport } from '../../../src/heartbeat/frame';

export const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
export const OTHER_KEY = Buffer.from('fedcba9876543210fedcba9876543210');
/** The frame code is handed the shell's HMAC function, as SerialLink does. */
export const MAC: FrameMac = hmacSha256(KEY);
export const OTHER_MAC: FrameMac = hmacSha256(OTHER_KEY);

export function inst(over: Partial<InstanceReport> = {}): InstanceReport {
  return {
    vrid: 51, family: 4, state: 'MASTER', effectivePriority: 150, advertIntervalCs: 100,
    address: '192.168.10.2', releasing: false, hearsPeerAdverts: true, ...over,
  };
}

export function hb(over: Partial<HeartbeatBody> = {}): HeartbeatBody {
  return {
    uptimeMs: 123_456_789, configHash: 'sha256:9f86d081884c7d65',
    health: { uplink: true, gateway: true, nginx: true }, instances: [inst()], addresses: ['192.168.10.2'], ...over,
  };
}
