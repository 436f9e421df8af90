/**
 * Nonces of accepted signed requests, each kept until its request expires (plus the clock-skew
 * allowance): a request seen again inside its validity window is a replay. Bounded: when every
 * slot holds an unexpired nonce, new requests are refused rather than forgetting one that could
 * then be replayed (only correctly signed requests take a slot, so only a trusted key can fill it).
 */
export class NonceCache {
  /** nonce -> epoch ms after which it may be forgotten; insertion order = expiry order, roughly. */
  private readonly nonces = new Map<string, number>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.nonces.size;
  }

  /** 'fresh' (and now remembered), 'replay', or 'full' (refused, not remembered). */
  admit(nonce: string, keepUntil: number, now: number): 'fresh' | 'replay' | 'full' {
    const seen = this.nonces.get(nonce);
    if (seen !== undefined && seen >= now) return 'replay';
    if (this.nonces.size >= this.capacity) this.prune(now);
    if (this.nonces.size >= this.capacity) return 'full';
    this.nonces.delete(nonce);
    this.nonces.set(nonce, keepUntil);
    return 'fresh';
  }

  /** Drops every expired nonce. */
  prune(now: number): void {
    for (const [n, until] of this.nonces) if (until < now) this.nonces.delete(n);
  }

  /** For persistence across restarts: unexpired entries. */
  entries(now: number): [string, number][] {
    return [...this.nonces].filter(([, until]) => until >= now);
  }

  load(entries: Iterable<[string, number]>, now: number): void {
    for (const [n, until] of entries) {
      if (typeof n === 'string' && typeof until === 'number' && until >= now && this.nonces.size < this.capacity) this.nonces.set(n, until);
    }
  }
}
