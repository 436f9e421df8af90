import type { ResponseEnvelope } from '../envelope';

/**
 * Request ids seen recently, with their answer once known. Commands arrive at-least-once (QoS 1
 * redelivery, a fleet tool retrying): a repeated id gets the first answer again instead of
 * running twice. Bounded: the oldest ids are forgotten first.
 */
export class RecentRequests {
  private readonly seen = new Map<string, ResponseEnvelope | 'pending'>();

  constructor(private readonly max = 1024) {}

  /** 'pending' while the first copy runs, its answer once done, undefined for a new id. */
  lookup(id: string): ResponseEnvelope | 'pending' | undefined {
    return this.seen.get(id);
  }

  begin(id: string): void {
    this.set(id, 'pending');
  }

  finish(id: string, response: ResponseEnvelope): void {
    this.set(id, response);
  }

  get size(): number {
    return this.seen.size;
  }

  private set(id: string, value: ResponseEnvelope | 'pending'): void {
    this.seen.delete(id);
    this.seen.set(id, value);
    while (this.seen.size > this.max) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
  }
}
