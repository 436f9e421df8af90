// The crypto the pure AH code (src/vrrp/ah.ts) is handed: keepalived's HMAC-MD5 (RFC 2403,
// truncated to 96 bits by the core) over the auth_pass-derived key.
import { createHmac } from 'node:crypto';
import type { HmacMd5 } from '../../vrrp/ah';

/** HMAC-MD5 of `data` under `key`, the full 16-byte digest. */
export const hmacMd5: HmacMd5 = (key, data) => createHmac('md5', key).update(data).digest();
