// The nft JSON reader: what `nft -j list ruleset` (nftables 1.0.6, recorded in the fixture) says
// about VRRP. The fixture's ruleset is in the test's comments.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vrrpDroppingRules } from '../../../src/diagnose/nft';

// table inet f {
//   chain sub { meta l4proto 112 reject; ip daddr 224.0.0.18 drop }
//   chain input { hook input; iifname "eth0" ip protocol vrrp counter drop; ip protocol != vrrp drop; tcp dport 22 drop; jump sub }
//   chain output { hook output; ip protocol { tcp, vrrp } drop; oifname "eth1" drop }
// }
const RULESET = readFileSync(resolve(import.meta.dirname, '../../fixtures/diagnose/nft-ruleset.json'), 'utf8');

describe('vrrpDroppingRules', () => {
  it('finds every rule that drops VRRP, with its chain, direction and interface', () => {
    const rules = vrrpDroppingRules(RULESET);
    expect(rules.map((r) => [r.chain, r.direction, r.verdict, r.interface ?? '*', r.text])).toEqual([
      ['inet f sub', 'input', 'reject', '*', 'meta l4proto vrrp reject (handle 4)'],
      ['inet f sub', 'input', 'drop', '*', 'ip daddr 224.0.0.18 drop (handle 5)'],
      ['inet f input', 'input', 'drop', 'eth0', 'iifname "eth0" ip protocol vrrp counter packets 0 drop (handle 6)'],
      ['inet f output', 'output', 'drop', '*', 'ip protocol { tcp, vrrp } drop (handle 11)'],
      ['inet f output', 'output', 'drop', 'eth1', 'oifname "eth1" drop (handle 12)'],
    ]);
  });

  it('an empty ruleset drops nothing; text that is not nft JSON is an error', () => {
    expect(vrrpDroppingRules('{"nftables":[{"metainfo":{"version":"1.0.6"}}]}')).toEqual([]);
    expect(() => vrrpDroppingRules('Error: ...')).toThrow();
    expect(() => vrrpDroppingRules('{"x":1}')).toThrow(/not nft JSON/);
  });
});
