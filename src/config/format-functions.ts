import { fullFormats } from 'ajv-formats/dist/formats';
import { isUpstreamHost } from './nginx/values';
import { addressFamily, parseAddress } from '../lib/ip';

// Linux dev_valid_name(): shorter than IFNAMSIZ (16), not "." or "..", no "/", ":" or space.
const IFNAME = /^(?!\.\.?$)[^/:\s]{1,15}$/;
const IF_LABEL = /^\S{1,15}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function isInterfaceName(s: string): boolean {
  return IFNAME.test(s);
}

/**
 * Every format the config schema uses, by name. No ajv here: the validator generated at build
 * time (scripts/build.mjs, ajv standalone code) imports this object and calls these entries, so
 * the daemon carries the format checks but not ajv's compiler. A format's kind (regular
 * expression, function, object) is baked into that code: keep each entry's kind stable.
 */
export const TWINVIP_FORMATS = {
  ipv4: fullFormats.ipv4,
  ipv6: fullFormats.ipv6,
  email: fullFormats.email,
  uri: fullFormats.uri,
  hostname: fullFormats.hostname,
  ip: (s: string) => addressFamily(s) !== undefined,
  'ipv4-cidr': (s: string) => parseAddress(s, true)?.family === 'ipv4',
  'ipv6-cidr': (s: string) => parseAddress(s, true)?.family === 'ipv6',
  vip: (s: string) => parseAddress(s) !== undefined,
  ifname: (s: string) => IFNAME.test(s),
  'if-label': (s: string) => IF_LABEL.test(s),
  'host-or-ip': (s: string) => addressFamily(s) !== undefined || HOSTNAME.test(s),
  // What reaches nginx.conf: the renderer's own rule, so the schema never accepts what it refuses.
  'upstream-host': isUpstreamHost,
};
