import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssues, loadConfigFile } from '../../../src/config/index';

const DIR = join(import.meta.dirname, '../../fixtures/config/broken');

interface Expected {
  path: string;
  /** Parts the message must contain. */
  message: string[];
  /** Part the "valid: ..." hint must contain. */
  hint?: string;
  line?: number;
  column?: number;
}

// Every broken fixture and the error(s) it must produce. A fixture without an entry fails the
// suite, so the corpus cannot grow untested.
const EXPECTED: Record<string, Expected[]> = {
  'unknown-key-typo': [{ path: '/instances/VI_1/priorty', message: ['unknown key "priorty"', 'did you mean "priority"'], hint: 'vrid' }],
  'priority-too-high': [{ path: '/instances/VI_1/priority', message: ['must be <= 255', '(got 300)'], hint: '255 for an address owner' }],
  'priority-255-not-owner': [{ path: '/instances/VI_1/priority', message: ['255 is reserved for the address owner'], hint: 'address_owner: true' }],
  'owner-without-255': [{ path: '/instances/VI_1/address_owner', message: ['priority 255', 'got priority 200'] }],
  'bad-vip': [{ path: '/instances/VI_1/vips/0', message: ['IPv4 or IPv6 address', '"192.0.2.300/24"'] }],
  'mixed-family-vips': [{ path: '/instances/VI_1/vips/1', message: ['IPv6 VIP in an IPv4 instance'] }],
  'v2-ipv6': [{ path: '/instances/VI_1/version', message: ['VRRPv2 carries IPv4 only'], hint: '3' }],
  'v2-fractional-advert': [{ path: '/instances/VI_1/advert_int', message: ['whole seconds 1..255 with version 2', '(got 0.5)'] }],
  'v3-advert-too-long': [{ path: '/instances/VI_1/advert_int', message: ['0.01..40.95', '(got 41)'] }],
  'v3-advert-not-centiseconds': [{ path: '/instances/VI_1/advert_int', message: ['steps of 0.01', '(got 0.015)'] }],
  'duplicate-vrid': [{ path: '/instances/VI_2/vrid', message: ['VRID 51 on lan0 (IPv4)', 'instance VI_1'] }],
  'overlapping-vips': [{ path: '/instances/VI_2/vips/0', message: ['192.0.2.10 is also a VIP of instance VI_1'] }],
  'unknown-check': [{ path: '/instances/VI_1/track_checks/0', message: ['no check named "gw_pnig"', 'did you mean "gw_ping"'], hint: 'gw_ping' }],
  'sync-group-missing-member': [{ path: '/sync_groups/G/instances/1', message: ['no instance named "VI_3"'], hint: 'VI_1, VI_2' }],
  'instance-in-two-groups': [{ path: '/sync_groups/G2/instances/0', message: ['already in sync group G1'] }],
  'nopreempt-master': [{ path: '/instances/VI_1/preempt', message: ['requires state BACKUP'] }],
  'password-too-long': [{ path: '/instances/VI_1/authentication/password', message: ['at most 8 characters'], hint: '1 to 8 characters' }],
  'auth-with-v3': [{ path: '/instances/VI_1/authentication', message: ['VRRPv3 has no authentication'] }],
  'unicast-peer-family': [{ path: '/instances/VI_1/unicast_peers/0', message: ['IPv6 peer in an IPv4 instance'] }],
  'unicast-src-family': [{ path: '/instances/VI_1/unicast_src_ip', message: ['IPv4 address in an IPv6 instance'] }],
  'check-type-typo': [{ path: '/checks/c/type', message: ['must be one of script, tcp, http, ping', '(got "tpc")', 'did you mean "tcp"'] }],
  'wrong-types': [
    { path: '/instances/VI_1/vrid', message: ['must be an integer', '(got "51")'], hint: '1..255' },
    { path: '/instances/VI_1/preempt', message: ['must be true or false', '(got "yes")'] },
  ],
  'bad-interface-name': [{ path: '/instances/VI_1/interface', message: ['Linux interface name', '"lan0/eth"'] }],
  'bad-instance-name': [{ path: '/instances/VI 1', message: ['"VI 1" is not a valid name'], hint: 'letters, digits' }],
  'missing-required': [{ path: '/instances/VI_1/vrid', message: ['is required'], hint: '1..255' }],
  'not-an-object': [{ path: '', message: ['must be a JSON object'] }],
  'serial-no-key': [{ path: '/heartbeat/serial/key', message: ['key or key_file is required'] }],
  'mqtt-enabled-no-url': [{ path: '/mqtt/url', message: ['required when mqtt.enabled'] }],
  'bad-log-level': [{ path: '/logging/level', message: ['must be one of "debug", "info", "warn", "error"', '(got "verbose")'] }],
  'unknown-section': [{ path: '/heartbeats', message: ['unknown key "heartbeats"', 'did you mean "heartbeat"'] }],
  'check-timeout-over-interval': [{ path: '/checks/c/timeout', message: ['must not exceed interval'] }],
  'vip-object-bad-key': [{ path: '/instances/VI_1/vips/0/dve', message: ['unknown key "dve"', 'did you mean "dev"'] }],
  'smtp-alert-without-email': [{ path: '/instances/VI_1/smtp_alert', message: ['needs the email section'] }],
  'vip-listed-twice': [{ path: '/instances/VI_1/excluded_vips/0', message: ['192.0.2.10 is listed twice'] }],
  'mcast-group-not-multicast': [{ path: '/instances/VI_1/mcast_group', message: ['not a multicast address'] }],
  'syntax-missing-comma': [{ path: '/node', message: ['invalid JSON', "expected ',' or '}'"], line: 3, column: 3 }],
  'syntax-trailing-comma': [{ path: '/instances/VI_1', message: ['invalid JSON', 'trailing comma'], line: 3, column: 48 }],
  'duplicate-key': [{ path: '/instances/VI_1', message: ['duplicate key "VI_1"', 'first at line 3'], line: 4, column: 5 }],
  empty: [{ path: '', message: ['empty'] }],
  comment: [{ path: '', message: ['comments are not allowed'], line: 2, column: 3 }],
};

const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

describe('broken configuration corpus', () => {
  it('has an expectation for every fixture and a fixture for every expectation', () => {
    expect(files.map((f) => f.slice(0, -5))).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const file of files) {
    const name = file.slice(0, -5);
    it(`${name}: refused with the path, message and hint of each error`, async () => {
      const result = await loadConfigFile(join(DIR, file));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      for (const want of EXPECTED[name] ?? []) {
        const issue = result.errors.find((e) => e.path === want.path);
        expect(issue, `no error at ${want.path}; got:\n${formatIssues(result.errors, file)}`).toBeDefined();
        for (const part of want.message) expect(issue?.message).toContain(part);
        if (want.hint !== undefined) expect(issue?.hint).toContain(want.hint);
        if (want.line !== undefined) expect({ line: issue?.line, column: issue?.column }).toEqual({ line: want.line, column: want.column });
      }
      // One problem, one error: no echo from alternatives or from rules further down.
      expect(result.errors.map((e) => e.path)).toEqual((EXPECTED[name] ?? []).map((w) => w.path));
      // Every error names where it is, and the formatted text carries path and file.
      for (const e of result.errors) {
        expect(typeof e.path).toBe('string');
        expect(e.message.length).toBeGreaterThan(0);
      }
      const text = formatIssues(result.errors, file);
      for (const want of EXPECTED[name] ?? []) expect(text).toContain(`: ${want.path || '/'}: `);
    });
  }
});
