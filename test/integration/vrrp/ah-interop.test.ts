// VRRPv2 with IPsec AH (keepalived `auth_type AH`) between twinvip and keepalived 2.2.7, in
// both roles, with the same key and with different keys; the AH datagrams on the wire decoded
// by tshark (IP protocol 51, AH, then VRRP) without expert warnings.
//
// keepalived's AH keeps one sequence counter per instance for what it sends and what it
// accepts; a router that restarts starts again from 1 and its peer drops those numbers as
// replays until the counters meet. The restart case below is the one that exercises it.
import { expect, it } from 'vitest';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';

const VIP = '10.66.0.110';
const lab = useVrrpLab(['a', 'b']);

const ah = (password: string, extra: Record<string, unknown> = {}) => ({
  vrid: 71,
  state: 'BACKUP',
  vips: [`${VIP}/24`],
  authentication: { type: 'AH', password },
  ...extra,
});

describeRequiring([...VrrpLab.prerequisites, needsProgram('tshark'), needsProgram('tcpdump')], 'IPsec AH authentication with keepalived', () => {
  it('twinvip BACKUP follows a keepalived AH master (same key) and takes over when it stops', async () => {
    const k = await lab().keepalived('b', kaInstance({ vrid: 71, priority: 150, vips: [`${VIP}/24`], password: 'tw1nAH', ah: true }));
    await k.waitLog(/Entering MASTER STATE/, 20_000);
    await lab().waitHolders(VIP, ['b']);

    const t = await lab().twinvip('a', { VI_1: ah('tw1nAH', { priority: 100 }) });
    // Past twinvip's own Master_Down_Interval (3.6 s) with adverts accepted all along.
    await lab().waitFor(async () => (await t.counter('VI_1.advertsReceived')) >= 5, { timeoutMs: 20_000, what: `5 AH adverts accepted\n${t.out()}` });
    expect(await t.state()).toBe('BACKUP');
    for (const c of ['auth', 'auth-replay', 'auth-type-mismatch', 'ah']) expect(await t.counter(`VI_1.drop.${c}`), c).toBe(0);
    await lab().waitHolders(VIP, ['b']);

    // keepalived's priority-0 advert is authenticated too: twinvip takes over at skew time.
    await k.stop();
    await t.waitLog(/VI_1: BACKUP -> MASTER \(/, 10_000);
    await lab().waitHolders(VIP, ['a']);
    expect(await t.counter('VI_1.drop.auth')).toBe(0);
    await t.stop();
  });

  it('keepalived BACKUP follows a twinvip AH master, takes over when it stops, and yields again when twinvip restarts with its counter back at 1', async () => {
    const cap = await lab().capture('ip proto 51');
    const t = await lab().twinvip('a', { VI_1: ah('tw1nAH', { priority: 150 }) });
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    await lab().waitHolders(VIP, ['a']);

    const k = await lab().keepalived('b', kaInstance({ vrid: 71, priority: 100, vips: [`${VIP}/24`], password: 'tw1nAH', ah: true }));
    await k.waitLog(/Entering BACKUP STATE/);
    // Five of our adverts after keepalived started: longer than its Master_Down_Interval.
    const sent = await t.counter('VI_1.advertsSent');
    await lab().waitFor(async () => (await t.counter('VI_1.advertsSent')) >= sent + 5, { timeoutMs: 20_000, what: 'five more adverts' });
    expect(k.out()).not.toMatch(/Entering MASTER STATE|IPSEC-AH|IPSEC AH/);
    await lab().waitHolders(VIP, ['a']);

    await t.stop();
    await k.waitLog(/Entering MASTER STATE/, 10_000);
    await lab().waitHolders(VIP, ['b']);

    // A new twinvip starts at sequence 1; it hears keepalived's higher numbers first (BACKUP),
    // takes them over, and preempts with numbers keepalived accepts.
    const t2 = await lab().twinvip('a', { VI_1: ah('tw1nAH', { priority: 150 }) });
    await t2.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    await k.waitLog(/Entering BACKUP STATE/, 15_000, 2);
    await lab().waitHolders(VIP, ['a']);
    expect(k.out()).not.toMatch(/IPSEC-AH : invalid/);
    await t2.stop();
    await k.stop();

    const file = await cap.stop();
    const FIELDS = ['eth.src', 'ip.proto', 'ip.src', 'ip.ttl', 'ip.dsfield', 'ah.next_header', 'ah.spi', 'ah.sequence', 'vrrp.version', 'vrrp.auth_type', 'vrrp.checksum.status', 'vrrp.prio', '_ws.expert', '_ws.malformed'];
    const out = await lab().switchNs.run('tshark', ['-n', '-r', file, '-T', 'fields', '-E', 'separator=|', ...FIELDS.flatMap((f) => ['-e', f])]);
    const rows = out.split('\n').filter((l) => l.trim() !== '').map((l) => Object.fromEntries(l.split('|').map((v, i) => [FIELDS[i], v])) as Record<string, string>);
    const ours = rows.filter((r) => r['eth.src'] === lab().box('a').mac);
    const theirs = rows.filter((r) => r['eth.src'] === lab().box('b').mac);
    expect(ours.length).toBeGreaterThan(5);
    expect(theirs.length).toBeGreaterThan(1);
    for (const r of [...ours, ...theirs]) {
      expect(r).toMatchObject({ 'ip.proto': '51', 'ip.ttl': '255', 'ah.next_header': '112', 'vrrp.version': '2', 'vrrp.auth_type': '2', 'vrrp.checksum.status': '1', '_ws.expert': '', '_ws.malformed': '' });
      expect(Number(r['ip.dsfield'])).toBe(0xc0);
    }
    expect(new Set(ours.map((r) => r['ah.spi']))).toEqual(new Set(['0x0a420001']));
    // Sequence numbers rise within each run of twinvip (the second run continues above keepalived's).
    const seqs = ours.map((r) => Number(r['ah.sequence']));
    const drops = seqs.filter((s, i) => i > 0 && s <= seqs[i - 1]!);
    expect(drops.length).toBeLessThanOrEqual(1);
    expect(ours.some((r) => r['vrrp.prio'] === '0')).toBe(true);
  });

  it('unicast AH (the TTL left out of the ICV): keepalived stays BACKUP under twinvip', async () => {
    const a = lab().box('a');
    const b = lab().box('b');
    const t = await lab().twinvip('a', { VI_1: ah('uni', { priority: 150, unicast_src_ip: a.v4, unicast_peers: [b.v4] }) });
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    const k = await lab().keepalived('b', kaInstance({ vrid: 71, priority: 100, vips: [`${VIP}/24`], password: 'uni', ah: true, unicastSrc: b.v4, unicastPeers: [a.v4] }));
    await k.waitLog(/Entering BACKUP STATE/);
    const sent = await t.counter('VI_1.advertsSent');
    await lab().waitFor(async () => (await t.counter('VI_1.advertsSent')) >= sent + 5, { timeoutMs: 20_000, what: 'five more adverts' });
    expect(k.out()).not.toMatch(/Entering MASTER STATE|IPSEC-AH/);
    await lab().waitHolders(VIP, ['a']);
    await t.stop();
    await k.waitLog(/Entering MASTER STATE/, 10_000);
    await k.stop();
  });

  it('different keys: each side drops the other (counted, one alarm, keepalived logs an invalid HMAC) and both become MASTER', async () => {
    const k = await lab().keepalived('b', kaInstance({ vrid: 71, priority: 100, vips: [`${VIP}/24`], password: 'theirs', ah: true }));
    await k.waitLog(/Entering MASTER STATE/, 20_000);
    const t = await lab().twinvip('a', { VI_1: ah('ours', { priority: 150 }) });
    await t.waitLog(/VI_1: dropping advert from 10\.66\.0\.2 \(priority 100\): IPsec AH HMAC-MD5-96 does not verify/, 20_000);
    await lab().waitFor(async () => (await t.counter('VI_1.drop.auth')) >= 2, { timeoutMs: 15_000, what: 'VI_1.drop.auth >= 2' });
    await t.waitLog(/VI_1: BACKUP -> MASTER \(master down/, 15_000);
    await k.waitLog(/IPSEC-AH : invalid IPSEC HMAC-MD5 value/, 15_000);
    await lab().waitHolders(VIP, ['a', 'b']);
    expect(await t.counter('VI_1.advertsReceived')).toBe(0);
    expect(t.out().match(/dropping advert from 10\.66\.0\.2/g)?.length).toBe(1);
    await t.stop();
    await k.stop();
  });

  it('AH on one side, PASS on the other: counted as an auth type mismatch', async () => {
    const k = await lab().keepalived('b', kaInstance({ vrid: 71, priority: 100, vips: [`${VIP}/24`], password: 'tw1nAH' }));
    await k.waitLog(/Entering MASTER STATE/, 20_000);
    const t = await lab().twinvip('a', { VI_1: ah('tw1nAH', { priority: 150 }) });
    await lab().waitFor(async () => (await t.counter('VI_1.drop.auth-type-mismatch')) >= 2, { timeoutMs: 15_000, what: 'VI_1.drop.auth-type-mismatch >= 2' });
    await t.waitLog(/advert without IPsec AH, instance expects auth type AH/);
    await t.stop();
    await k.stop();
  });
});
