// Replay protection per peer node: (bootId, seq). A frame whose seq is not above the last one
// accepted for the same bootId is a replay. A new bootId means the peer rebooted and is
// accepted — unless it is a bootId the peer used before (an old recorded frame), which is a
// replay too. The guard is only updated after the HMAC verified, so noise cannot poison it.

const REMEMBERED_BOOTS = 8;

export type ReplayVerdict = 'fresh' | 'new-boot' | 'replayed';

interface PeerSeq {
  bootId: string;
  seq: number;
  retired: string[];
}

export class ReplayGuard {
  private readonly peers = new Map<string, PeerSeq>();

  /** Checks and, when fresh, records the frame. */
  accept(nodeId: string, bootId: string, seq: number): ReplayVerdict {
    const p = this.peers.get(nodeId);
    if (!p) {
      this.peers.set(nodeId, { bootId, seq, retired: [] });
      return 'new-boot';
    }
    if (p.bootId === bootId) {
      if (seq <= p.seq) return 'replayed';
      p.seq = seq;
      return 'fresh';
    }
    if (p.retired.includes(bootId)) return 'replayed';
    p.retired.push(p.bootId);
    if (p.retired.length > REMEMBERED_BOOTS) p.retired.shift();
    p.bootId = bootId;
    p.seq = seq;
    return 'new-boot';
  }

  lastSeen(nodeId: string): { bootId: string; seq: number } | undefined {
    const p = this.peers.get(nodeId);
    return p && { bootId: p.bootId, seq: p.seq };
  }
}
