import type { KeyObject } from 'node:crypto';
import type { TwinvipConfig } from '../../config';
import { keyFingerprint, parsePublicKey } from '../../fleet/keys';
import type { Role } from '../../fleet/roles';

export interface TrustedSigner {
  /** The key's name in trusted_keys. */
  name: string;
  role: Role;
  fingerprint: string;
  key: KeyObject;
}

/** The trusted_keys of the running config, looked up by the public key a request names. */
export class TrustStore {
  private readonly byKey = new Map<string, TrustedSigner>();

  constructor(keys: TwinvipConfig['trusted_keys']) {
    for (const [name, k] of Object.entries(keys)) {
      const parsed = parsePublicKey(k.public_key);
      // The config rules refuse an unusable key; skipping here only guards against a bug there.
      if (!parsed.ok) continue;
      this.byKey.set(k.public_key, { name, role: k.role, fingerprint: keyFingerprint(k.public_key), key: parsed.key });
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  lookup(publicKey: string): TrustedSigner | undefined {
    return this.byKey.get(publicKey);
  }
}
