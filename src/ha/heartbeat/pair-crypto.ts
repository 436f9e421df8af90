// The crypto the pure pairing core (src/heartbeat/pairing.ts) is handed: X25519, SHA-256,
// HKDF-SHA256, HMAC-SHA256 and random bytes, all from node:crypto.
import { createHash, createHmac, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import type { PairingCrypto } from '../../heartbeat/pairing';

/** The DER prefix of an X25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export function rawX25519Public(key: KeyObject): Buffer {
  const der = key.export({ type: 'spki', format: 'der' });
  return Buffer.from(der.subarray(X25519_SPKI_PREFIX.length));
}

export function x25519PublicFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, Buffer.from(raw)]), format: 'der', type: 'spki' });
}

export const nodePairingCrypto: PairingCrypto = {
  keyPair() {
    const { publicKey, privateKey } = generateKeyPairSync('x25519');
    return { publicKey: rawX25519Public(publicKey), privateKey };
  },
  dh(privateKey, peerPublic) {
    try {
      const z = diffieHellman({ privateKey: privateKey as KeyObject, publicKey: x25519PublicFromRaw(peerPublic) });
      // A low-order public key gives the all-zero secret (RFC 7748 §6.1): refuse it.
      return z.every((b) => b === 0) ? null : z;
    } catch {
      return null;
    }
  },
  sha256: (data) => createHash('sha256').update(data).digest(),
  hkdf: (ikm, salt, info, length) => Buffer.from(hkdfSync('sha256', ikm, salt, info, length)),
  hmac: (key, data) => createHmac('sha256', key).update(data).digest(),
  draw: (n) => randomBytes(n),
};
