// A twinvip pair WITHOUT the serial heartbeat (plain VRRP, no pair mode) and a third host sending
// crafted VRRPv2 adverts for the pair's VRID (issue 15). What twinvip does then (README
// "Received adverts"):
// - adverts with another address list are dropped (keepalived's rule, the default): the master
//   keeps the VIP, and a backup whose only "master" is such a router does not sit idle — when the
//   real master dies, it takes over at Master_Down_Interval as if the stray adverts were silence;
// - an advert with OUR address list and a higher priority is a legitimate VRRP master for
//   twinvip as for keepalived: without the serial heartbeat nothing tells it from the twin, and
//   the master yields (pair mode is what prevents that).
import { expect, it } from 'vitest';
import { patience } from '../../helpers/patience';
import { describeRequiring } from '../../helpers/prerequisites';
import { RogueSender } from '../helpers/rogue-sender';
import { useVrrpLab, VrrpLab } from './lab';

const VIP = '10.66.0.100';
const lab = useVrrpLab(['a', 'b', 'c']);
const instance = (priority: number) => ({ VI_1: { vrid: 79, priority, vips: [`${VIP}/24`] } });

describeRequiring(VrrpLab.prerequisites, 'stray adverts without the serial heartbeat', () => {
  it('another address list once a second: the master keeps the VIP; when it dies the backup takes over at Master_Down_Interval regardless', async () => {
    const a = await lab().twinvip('a', instance(150));
    await a.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    const b = await lab().twinvip('b', instance(100));
    await b.waitLog(/VI_1: INIT -> BACKUP/);
    await lab().waitHolders(VIP, ['a']);
    const rogue = RogueSender.open(lab().box('c').ns, 'lan', '10.66.0.3');
    const stop = rogue.every(1000, { vrid: 79, priority: 254, addresses: ['10.88.0.200'] });
    try {
      for (const t of [a, b]) {
        await t.waitLog(/VI_1: dropping advert from 10\.66\.0\.3 \(priority 254\): address list \[10\.88\.0\.200\] differs from ours \[10\.66\.0\.100\]/);
        await lab().waitFor(async () => (await t.counter('VI_1.drop.address-list')) >= 3, { what: 'three stray adverts dropped', timeoutMs: 15_000 });
      }
      // More than a Master_Down_Interval of stray adverts: nobody moved.
      expect(await a.state()).toBe('MASTER');
      expect(await b.state()).toBe('BACKUP');
      expect(a.out()).not.toMatch(/VI_1: MASTER -> /);
      await lab().waitHolders(VIP, ['a']);

      // The real master dies (nothing sent); only the stray "master" is left on the LAN.
      await a.sigkill();
      await b.waitLog(/VI_1: BACKUP -> MASTER \(master down, \d+ ms without advert\)/, 10_000);
      expect(await b.state()).toBe('MASTER');
      expect((await lab().holders(VIP)).includes('b')).toBe(true);
    } finally {
      stop();
      rogue.close();
    }
  }, patience(90_000));

  it('our own address list with priority 254: without the serial heartbeat it is a legitimate master, and the master yields (as keepalived does)', async () => {
    const a = await lab().twinvip('a', instance(150));
    await a.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    const b = await lab().twinvip('b', instance(100));
    await b.waitLog(/VI_1: INIT -> BACKUP/);
    const rogue = RogueSender.open(lab().box('c').ns, 'lan', '10.66.0.3');
    try {
      expect(rogue.send({ vrid: 79, priority: 254, addresses: [VIP] })).toBe(true);
      await a.waitLog(/VI_1: MASTER -> BACKUP \(higher priority advert, from 10\.66\.0\.3 \(254\), ours 150\)/);
      // Nobody advertises any more: a takes it back after its Master_Down_Interval.
      await a.waitLog(/VI_1: BACKUP -> MASTER \(master down/, 10_000);
      await lab().waitHolders(VIP, ['a']);
    } finally {
      rogue.close();
    }
  }, patience(60_000));
});
