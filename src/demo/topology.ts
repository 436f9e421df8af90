// The demo's fixed picture: one LAN (10.88.0.0/24) on a bridge in a "switch" namespace, two
// boxes and a client on it, the broker on the switch's own address, and the VIP the boxes share.

export const LAN_PREFIX_LEN = 24;
export const SWITCH_ADDR = '10.88.0.1';
export const VIP = '10.88.0.100';
export const CLIENT_ADDR = '10.88.0.50';
export const BROKER_PORT = 1883;
/** The tiny upstream behind each box's Nginx answers on loopback inside the box. */
export const UPSTREAM_PORT = 8081;
export const HTTP_PORT = 80;
export const HTTPS_PORT = 443;
/** The name on the demo's self-signed certificate (with the VIP as an IP SAN). */
export const TLS_NAME = 'gw.twinvip.demo';
export const WHO_PATH = '/who';
export const VRID = 51;
export const INSTANCE = 'VI_LAN';
export const LAN_IF = 'lan0';
export const BRIDGE = 'br0';

export interface BoxSpec {
  /** Short role in namespace names and bridge port names. */
  role: 'a' | 'b';
  name: 'box-a' | 'box-b';
  address: string;
  priority: number;
  state: 'MASTER' | 'BACKUP';
  nodeId: number;
  /** The switch-side end of the box's LAN veth. */
  port: string;
}

export const BOXES: readonly BoxSpec[] = [
  { role: 'a', name: 'box-a', address: '10.88.0.11', priority: 150, state: 'MASTER', nodeId: 1, port: 'pa' },
  { role: 'b', name: 'box-b', address: '10.88.0.12', priority: 100, state: 'BACKUP', nodeId: 2, port: 'pb' },
];

export const CLIENT_PORT = 'pc';

export const brokerUrl = (): string => `mqtt://${SWITCH_ADDR}:${BROKER_PORT}`;
export const whoUrl = (): string => `http://${VIP}${WHO_PATH}`;
export const whoHttpsUrl = (): string => `https://${VIP}${WHO_PATH}`;
