// What happens after this node released an instance to its twin on the gateway rule (arbiter
// 'send-release': we are MASTER, the Ethernet path between the boxes is broken, the twin reaches
// the LAN gateway and we do not). The instance is demoted with a priority override of 0 (it
// sends priority 0 and drops its VIPs, exactly like maintenance) and stays demoted until one of:
//   - our own gateway is reachable again: the reason is gone, plain VRRP (with preempt) decides;
//   - the serial channel is lost: without the twin's view we cannot know it serves, and a box
//     held in maintenance by a stale decision would leave nobody MASTER;
//   - the twin has not reported MASTER for the instance within `takeoverGraceMs` of the release
//     (it could not take over after all).
// Pure; the extension calls review() every heartbeat period and un-demotes what it returns.

export interface ReleaseReviewInputs {
  gatewayOk: boolean;
  serialOk: boolean;
  /** The twin's last heartbeat says MASTER for this instance. */
  peerMaster: (instance: string) => boolean;
}

export type RestoreReason = 'gateway reachable again' | 'serial heartbeat lost' | 'twin did not take over';

export const DEFAULT_TAKEOVER_GRACE_MS = 5000;

export class ReleaseTracker {
  private readonly released = new Map<string, { at: number; peerTookOver: boolean }>();

  constructor(private readonly takeoverGraceMs = DEFAULT_TAKEOVER_GRACE_MS) {}

  release(instance: string, now: number): void {
    this.released.set(instance, { at: now, peerTookOver: false });
  }

  has(instance: string): boolean {
    return this.released.has(instance);
  }

  names(): ReadonlySet<string> {
    return new Set(this.released.keys());
  }

  review(now: number, i: ReleaseReviewInputs): { instance: string; reason: RestoreReason }[] {
    const out: { instance: string; reason: RestoreReason }[] = [];
    for (const [instance, r] of this.released) {
      if (i.peerMaster(instance)) r.peerTookOver = true;
      let reason: RestoreReason | undefined;
      if (i.gatewayOk) reason = 'gateway reachable again';
      else if (!i.serialOk) reason = 'serial heartbeat lost';
      else if (!r.peerTookOver && now - r.at >= this.takeoverGraceMs) reason = 'twin did not take over';
      if (reason) {
        this.released.delete(instance);
        out.push({ instance, reason });
      }
    }
    return out;
  }
}
