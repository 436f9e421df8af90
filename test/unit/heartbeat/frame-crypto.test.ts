// The heartbeat's HMAC-SHA256 (issue 22: pads hashed once, states copied per frame) is RFC 2104's:
// equal to node's createHmac for keys shorter than, equal to and longer than the block, and for
// RFC 4231's test case 2.
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacSha256 } from '../../../src/ha/heartbeat/frame-crypto';

describe('hmacSha256', () => {
  it('equals createHmac for keys of 0, 16, 27, 64, 65 and 131 bytes and several messages, call after call', () => {
    for (const n of [0, 16, 27, 64, 65, 131]) {
      const key = randomBytes(n);
      const mac = hmacSha256(key);
      for (const m of [0, 1, 60, 64, 200, 4096]) {
        const data = randomBytes(m);
        expect(Buffer.from(mac(data)).toString('hex')).toBe(createHmac('sha256', key).update(data).digest('hex'));
      }
    }
  });
  it('RFC 4231 test case 2', () => {
    const mac = hmacSha256(Buffer.from('Jefe'));
    expect(Buffer.from(mac(Buffer.from('what do ya want for nothing?'))).toString('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });
});
