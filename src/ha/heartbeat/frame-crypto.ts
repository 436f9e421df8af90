// The crypto the pure frame code (src/heartbeat/frame.ts) is handed: HMAC-SHA256 over the shared
// key. The boot identity a sender stamps on its frames comes from boot-id.ts.
import { createHmac } from 'node:crypto';
import type { FrameMac } from '../../heartbeat/frame';

/** HMAC-SHA256 with `key` (the frame keeps the first 16 bytes). */
export function hmacSha256(key: Uint8Array): FrameMac {
  return (data) => createHmac('sha256', key).update(data).digest();
}
