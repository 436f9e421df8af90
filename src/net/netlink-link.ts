// Decodes rtnetlink RTM_NEWLINK / RTM_DELLINK datagrams (linux/rtnetlink.h, if_link.h),
// without I/O. Netlink uses host byte order.
import { endianness } from 'node:os';

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
const NLMSG_ERROR = 2;
const IFLA_IFNAME = 3;
const IFLA_OPERSTATE = 16;
const IFLA_CARRIER = 33;
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
export const IFF_LOWER_UP = 0x10000;

const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];

export interface LinkEvent {
  kind: 'new' | 'del';
  ifindex: number;
  ifname?: string;
  flags: number;
  operstate?: string;
  carrier?: boolean;
  /** keepalived's test for a usable link: IFF_UP and IFF_RUNNING. */
  up: boolean;
}

export interface NetlinkDecode {
  events: LinkEvent[];
  /** Messages that were not whole or not understood (counted, never thrown). */
  malformed: number;
}

const LE = endianness() === 'LE';

export function decodeLinkMessages(buf: Uint8Array, littleEndian: boolean = LE): NetlinkDecode {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const events: LinkEvent[] = [];
  let malformed = 0;
  let off = 0;
  while (off + 16 <= buf.length) {
    const len = v.getUint32(off, littleEndian);
    const type = v.getUint16(off + 4, littleEndian);
    if (len < 16 || off + len > buf.length) {
      malformed++;
      break;
    }
    if ((type === RTM_NEWLINK || type === RTM_DELLINK) && len >= 32) {
      const body = off + 16;
      const ifindex = v.getInt32(body + 4, littleEndian);
      const flags = v.getUint32(body + 8, littleEndian);
      const ev: LinkEvent = {
        kind: type === RTM_NEWLINK ? 'new' : 'del',
        ifindex,
        flags,
        up: type === RTM_NEWLINK && (flags & IFF_UP) !== 0 && (flags & IFF_RUNNING) !== 0,
      };
      let a = body + 16;
      while (a + 4 <= off + len) {
        const alen = v.getUint16(a, littleEndian);
        const atype = v.getUint16(a + 2, littleEndian) & 0x3fff;
        if (alen < 4 || a + alen > off + len) {
          malformed++;
          break;
        }
        const data = buf.subarray(a + 4, a + alen);
        if (atype === IFLA_IFNAME) {
          const nul = data.indexOf(0);
          ev.ifname = Buffer.from(data.subarray(0, nul < 0 ? data.length : nul)).toString('utf8');
        } else if (atype === IFLA_OPERSTATE && data.length >= 1) {
          ev.operstate = OPERSTATES[data[0]!] ?? `STATE${data[0]}`;
        } else if (atype === IFLA_CARRIER && data.length >= 1) {
          ev.carrier = data[0] !== 0;
        }
        a += (alen + 3) & ~3;
      }
      events.push(ev);
    } else if (type === NLMSG_ERROR) {
      malformed++;
    }
    off += (len + 3) & ~3;
  }
  return { events, malformed };
}
