// The twin probe's destination for an IPv6 link-local twin (a VRRPv3 instance's source address):
// with its interface as the scope, else the kernel refuses the round's connect() (EINVAL) and
// routes the datagrams by whichever fe80::/64 route comes first.
import { describe, expect, it } from 'vitest';
import { scoped } from '../../../src/ha/heartbeat/twin-probe';

describe('twin probe: the scope of a link-local twin', () => {
  it('adds the interface to fe80::/10 addresses only, once', () => {
    expect(scoped('fe80::1', 'eth0')).toBe('fe80::1%eth0');
    expect(scoped('FE80::a:b', 'lan0')).toBe('FE80::a:b%lan0');
    expect(scoped('febf::1', 'eth0')).toBe('febf::1%eth0');
    expect(scoped('fe80::1%eth1', 'eth0')).toBe('fe80::1%eth1');
    expect(scoped('fe80::1', undefined)).toBe('fe80::1');
    for (const a of ['fd00::1', 'fec0::1', '2001:db8::1', '10.0.0.1', 'fe8::1']) expect(scoped(a, 'eth0')).toBe(a);
  });
});
