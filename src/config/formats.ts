import type Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { isUpstreamHost } from './nginx/values';
import { addressFamily, parseAddress } from '../lib/ip';

/** What each format means, in the words error messages and the reference use. */
export const FORMAT_DESCRIPTIONS: Record<string, string> = {
  ipv4: 'an IPv4 address, e.g. 192.0.2.10',
  ipv6: 'an IPv6 address, e.g. 2001:db8::10',
  ip: 'an IPv4 or IPv6 address, e.g. 192.0.2.10 or 2001:db8::10',
  'ipv4-cidr': 'an IPv4 address with prefix length, e.g. 192.0.2.10/24',
  'ipv6-cidr': 'an IPv6 address with prefix length, e.g. 2001:db8::10/64',
  vip: 'an IPv4 or IPv6 address, optionally with /prefix, e.g. 192.0.2.10/24 or 2001:db8::10/64',
  ifname: 'a Linux interface name: 1-15 characters, no "/", ":" or whitespace, e.g. lan0',
  'if-label': 'an address label: 1-15 characters without whitespace, e.g. lan0:vip',
  hostname: 'a host name, e.g. gw.example.net',
  'host-or-ip': 'a host name or an IP address',
  'upstream-host': 'a host name without a trailing dot, or an IP address',
  email: 'an e-mail address, e.g. ops@example.net',
  uri: 'a URI, e.g. mqtts://broker.example.net:8883',
};

// Linux dev_valid_name(): shorter than IFNAMSIZ (16), not "." or "..", no "/", ":" or space.
const IFNAME = /^(?!\.\.?$)[^/:\s]{1,15}$/;
const IF_LABEL = /^\S{1,15}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function isInterfaceName(s: string): boolean {
  return IFNAME.test(s);
}

export function addTwinvipFormats(ajv: Ajv): void {
  addFormats(ajv, ['ipv4', 'ipv6', 'email', 'uri', 'hostname']);
  ajv.addFormat('ip', (s: string) => addressFamily(s) !== undefined);
  ajv.addFormat('ipv4-cidr', (s: string) => parseAddress(s, true)?.family === 'ipv4');
  ajv.addFormat('ipv6-cidr', (s: string) => parseAddress(s, true)?.family === 'ipv6');
  ajv.addFormat('vip', (s: string) => parseAddress(s) !== undefined);
  ajv.addFormat('ifname', (s: string) => IFNAME.test(s));
  ajv.addFormat('if-label', (s: string) => IF_LABEL.test(s));
  ajv.addFormat('host-or-ip', (s: string) => addressFamily(s) !== undefined || HOSTNAME.test(s));
  // What reaches nginx.conf: the renderer's own rule, so the schema never accepts what it refuses.
  ajv.addFormat('upstream-host', isUpstreamHost);
}
