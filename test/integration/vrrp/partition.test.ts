// The LAN path between the boxes breaks while every link stays up (the switch stops forwarding
// one port): both routers become MASTER for the whole cut (no serial heartbeat here: VRRP
// alone), and when the path heals the election settles deterministically. twinvip, the
// surviving master, hears keepalived's lower-priority advert and re-announces the VIP
// (keepalived's garp_lower_prio_repeat behaviour), which repairs the ARP entry of a client that
// learned the other box's MAC during the split. Whether the winner hears the loser at all is a
// race: if the loser hears the winner first it yields without a word (RFC behaviour) and the
// client keeps the stale MAC until its entry times out; that is so between two keepalived too.
// keepalived's higher_prio_send_advert closes the race (the yielding master sends one advert
// first), so the keepalived here sets it. (twinvip has no such option yet: as the loser it
// yields silently.) With equal priorities the higher primary
// address wins (RFC 3768/5798 6.4.3), so twinvip (10.66.0.1) yields to keepalived (10.66.0.2).
// (VRRPv3 with 0.5 s adverts keeps the waits short; VRRPv2 is covered by the other files.)
import { expect, it } from 'vitest';
import { kaInstance, VrrpLab, useVrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP = '10.66.0.100';

const lab = useVrrpLab(['a', 'b', 'c']);

async function clientMac(): Promise<string | undefined> {
  const n = await lab().box('c').ns.ipJson<{ dst: string; lladdr?: string }[]>(['neigh', 'show', 'to', VIP, 'dev', 'lan']);
  return n.find((e) => e.dst === VIP)?.lladdr;
}

describeRequiring(VrrpLab.prerequisites, 'split-brain by a broken LAN path, and its healing', () => {
  it('twinvip (150) and keepalived (100) both MASTER while cut; on healing keepalived yields and twinvip re-announces, repairing the client', async () => {
    const a = lab().box('a');
    const b = lab().box('b');
    const t = await lab().twinvip('a', { VI_1: { vrid: 73, version: 3, advert_int: 0.5, priority: 150, vips: [`${VIP}/24`] } });
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    const k = await lab().keepalived('b', kaInstance({ vrid: 73, version: 3, advertInt: 0.5, priority: 100, vips: [`${VIP}/24`], higherPrioSendAdvert: true }));
    await k.waitLog(/Entering BACKUP STATE \(init\)/);
    await lab().waitFor(async () => (await t.status())?.instances[0]?.state === 'MASTER', { timeoutMs: 5000 });

    await lab().cut('a');
    await k.waitLog(/Entering MASTER STATE/, 15_000);
    await lab().waitHolders(VIP, ['a', 'b'], 10_000, '(split-brain while cut)');
    expect(await t.state()).toBe('MASTER');
    // The client (on b's side of the cut) learns b's MAC for the VIP: from keepalived's
    // gratuitous ARP, or by asking when its entry for a's MAC (a's announcement before the cut)
    // goes stale. On a busy machine that GARP can come after a first ping went to a's MAC and was
    // lost in the cut, so the client pings until its entry is b's.
    await lab().waitFor(async () => {
      await lab().box('c').ns.tryRun('ping', ['-c', '1', '-W', '1', VIP], 5000);
      return (await clientMac()) === b.mac;
    }, { timeoutMs: 15_000, what: `client's entry for ${VIP} on b (${b.mac})` });

    const cap = await lab().capture(`ether src ${lab().box('c').mac} and arp`);
    const heardBefore = await t.counter('VI_1.lowerPriorityHeard');
    await lab().cut('a', false);
    await k.waitLog(/Master received advert from 10\.66\.0\.1 with higher priority 150, ours 100/, 10_000);
    await lab().waitHolders(VIP, ['a'], 10_000, '(after healing)');
    await lab().waitFor(async () => (await t.counter('VI_1.lowerPriorityHeard')) > heardBefore, { timeoutMs: 10_000, what: 'twinvip heard the lower-priority master' });
    // The alarm carries how long the other master was still heard after our first advert as
    // MASTER (the whole cut here, so far past the one-interval handover allowance).
    expect(t.out()).toMatch(/VI_1: alarm dual-master: lower priority master 10\.66\.0\.2 \(100\) heard \d+ ms after our first advert as MASTER, ours 150; re-announcing/);
    await lab().waitFor(async () => (await clientMac()) === a.mac, { timeoutMs: 10_000, what: `client's entry for ${VIP} repaired to ${a.mac}` });
    // The client never asked for the VIP (its entry was repaired by twinvip's announcement).
    // Only its requests for the VIP count: it also answers ARP for its own address, e.g. when
    // a box's kernel re-checks a stale entry for the client, which comes late on a busy machine.
    const asked = (await lab().readCapture(await cap.stop())).filter((l) => /Request who-has 10\.66\.0\.100\b/.test(l));
    expect(asked).toEqual([]);
    // twinvip never left MASTER.
    expect(t.out()).not.toMatch(/VI_1: MASTER ->/);

    await k.stop();
    await t.stop();
    await lab().waitHolders(VIP, []);
  });

  it('equal priorities (100): after healing the higher address (keepalived, 10.66.0.2) keeps MASTER and twinvip yields', async () => {
    const k = await lab().keepalived('b', kaInstance({ vrid: 74, version: 3, advertInt: 0.5, priority: 100, vips: [`${VIP}/24`] }));
    await k.waitLog(/Entering MASTER STATE/, 15_000);
    await lab().cut('a');
    const t = await lab().twinvip('a', { VI_1: { vrid: 74, version: 3, advert_int: 0.5, priority: 100, vips: [`${VIP}/24`] } });
    await t.waitLog(/VI_1: BACKUP -> MASTER \(master down/, 20_000);
    await lab().waitHolders(VIP, ['a', 'b'], 10_000, '(split-brain while cut)');

    await lab().cut('a', false);
    await t.waitLog(/VI_1: MASTER -> BACKUP \(equal priority, higher address, from 10\.66\.0\.2 \(100\), ours 100\)/, 10_000);
    await lab().waitHolders(VIP, ['b'], 10_000, '(after healing)');
    expect(k.out()).not.toMatch(/Entering BACKUP STATE(?! \(init\))/);

    await t.stop();
    await k.stop();
    await lab().waitHolders(VIP, []);
  });
});
