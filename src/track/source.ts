/** A change of a tracked object (a check, the local Nginx): what VRRP tracking consumes. */
export interface TrackEvent {
  /** The check's name, or 'nginx'. */
  name: string;
  up: boolean;
  /** Why, for the log line: "tcp 10.0.0.5:80: connect ECONNREFUSED (3 failures)". */
  cause: string;
  /** Epoch ms. */
  at: number;
}

export type TrackListener = (event: TrackEvent) => void;

/**
 * Something VRRP can track. `up` is undefined until the first result. Listeners hear every
 * transition (unknown -> up/down included) and nothing else.
 */
export interface TrackSource {
  readonly name: string;
  readonly up: boolean | undefined;
  on(listener: TrackListener): () => void;
}

/** A small listener set shared by the sources; a throwing listener never stops the others. */
export class TrackEmitter {
  private readonly listeners = new Set<TrackListener>();

  on(listener: TrackListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: TrackEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // A broken consumer must not break the check or its other consumers.
      }
    }
  }
}
