/** Fixed-capacity buffer keeping the newest `capacity` items (for `log [n]` and MQTT diagnostics). */
export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The newest `n` items (all when n is omitted), oldest first. */
  last(n = this.count): T[] {
    const take = Math.max(0, Math.min(Math.floor(n), this.count));
    const out: T[] = [];
    for (let i = take; i > 0; i--) {
      out.push(this.items[(this.next - i + this.capacity) % this.capacity] as T);
    }
    return out;
  }
}
