/**
 * Named counters shown by `status`, the console and MQTT. Each part creates its group once and
 * increments plain properties; the daemon only reads the snapshot.
 */
export class CounterRegistry {
  private readonly groups = new Map<string, () => Record<string, number>>();

  /** Registers a group read live at snapshot time (e.g. the control server's counters object). */
  add(group: string, read: () => Record<string, number>): () => void {
    if (this.groups.has(group)) throw new Error(`counter group '${group}' registered twice`);
    this.groups.set(group, read);
    return () => this.groups.delete(group);
  }

  snapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [group, read] of this.groups) out[group] = { ...read() };
    return out;
  }
}
