/**
 * A third host on the test LAN that sends crafted VRRP adverts: well formed (correct checksum,
 * TTL 255, from the project's codec) with whatever VRID, priority and address list a test wants.
 * The raw socket is opened by the project's addon INSIDE the given namespace (the test's own), so
 * nothing leaves the lab.
 *
 *   const r = RogueSender.open(ns, 'lc', '10.77.0.50');   // the source must be an address of ns
 *   r.send({ vrid: 77, priority: 254, addresses: ['10.88.0.200'] });
 *   const stop = r.every(1000, advert);                   // once a second until stop()
 *   const sent = await r.flood(20_000, advert);           // as fast as the send buffer allows
 *   r.close();
 */
import { encodeAdvert } from '../../../src/vrrp/packet';
import { VrrpSocket } from '../../../src/net/vrrp-socket';
import type { Netns } from './netns';

export interface RogueAdvert {
  vrid: number;
  priority: number;
  addresses: string[];
  /** Default 100 (1 s); VRRPv2 whole seconds. */
  advertIntervalCs?: number;
}

export class RogueSender {
  /** Adverts the kernel accepted for sending (sendmsg succeeded). */
  sent = 0;
  /** Sends refused (EAGAIN on a full send buffer during a flood, retried). */
  refused = 0;
  private timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly sock: VrrpSocket,
    readonly source: string,
  ) {}

  static open(ns: Netns, ifname: string, source: string, group = '224.0.0.18'): RogueSender {
    // It never needs to read: a minimal buffer, and whatever arrives is ignored.
    const sock = VrrpSocket.open({ family: 4, ifname, netns: ns.name, group, source, receiveBufferBytes: 0, onPacket: () => undefined });
    return new RogueSender(sock, source);
  }

  private bytes(a: RogueAdvert): Uint8Array {
    return encodeAdvert({
      version: 2,
      family: 4,
      vrid: a.vrid,
      priority: a.priority,
      advertIntervalCs: a.advertIntervalCs ?? 100,
      addresses: a.addresses,
      authType: 0,
      source: this.source,
      destination: '224.0.0.18',
    });
  }

  /** One advert; true when the kernel took it. */
  send(a: RogueAdvert): boolean {
    const err = this.sock.sendTo(this.bytes(a), '224.0.0.18');
    if (err) {
      this.refused++;
      return false;
    }
    this.sent++;
    return true;
  }

  /** Sends now and then every `ms` until the returned function is called (or close()). */
  every(ms: number, a: RogueAdvert): () => void {
    this.send(a);
    const t = setInterval(() => this.send(a), ms);
    this.timers.add(t);
    return () => {
      clearInterval(t);
      this.timers.delete(t);
    };
  }

  /**
   * `count` adverts as fast as the send buffer allows, in batches with a turn of the event loop
   * between them (a full buffer is retried, never counted as sent). Resolves with the number
   * the kernel accepted, which is `count`.
   */
  async flood(count: number, a: RogueAdvert, batch = 250): Promise<number> {
    const bytes = this.bytes(a);
    let done = 0;
    while (done < count) {
      for (let i = 0; i < batch && done < count; i++) {
        if (this.sock.sendTo(bytes, '224.0.0.18') === null) {
          this.sent++;
          done++;
        } else {
          this.refused++;
          break;
        }
      }
      await new Promise((r) => setImmediate(r));
    }
    return done;
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    this.sock.close();
  }
}
