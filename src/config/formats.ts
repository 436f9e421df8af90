
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

export { isInterfaceName } from './format-functions';
