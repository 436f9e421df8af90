// The crypto the pure frame code (src/heartbeat/frame.ts) is handed: HMAC-SHA256 over the shared
// key, and the random boot identity a sender stamps on its frames.
import { createHmac, randomBytes } from 'node:crypto';
import type { FrameMac } from '../../heartbeat/frame';

/** HMAC-SHA256 with `key` (the frame keeps the first 16 bytes). */
export function hmacSha256(key: Uint8Array): FrameMac {
  return (data) => createHmac('sha256', key).update(data).digest();
}

/** 8 random bytes as 16 hex digits: a new one each boot (and when the 32-bit seq would wrap). */
export function randomBootId(): string {
  return randomBytes(8).toString('hex');
}
