// twinvip and real keepalived in one VRRP group, each in its own network namespace on the lab's
// bridge: the election with matching PASS authentication, graceful handover (priority 0) both
// ways, the master named in `twinvip status`, and FAULT on link loss.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { kaInstance, VrrpLab } from './lab';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP = '10.66.0.100';

let lab: VrrpLab;

const tv = (priority: number) => ({
  VI_1: { vrid: 66, priority, advert_int: 1, vips: [`${VIP}/24`], authentication: { type: 'PASS', password: 'tw1n' } },
});
const ka = (priority: number, state: 'MASTER' | 'BACKUP') => kaInstance({ vrid: 66, priority, state, vips: [`${VIP}/24`], password: 'tw1n' });

beforeAll(async () => {
  lab = await VrrpLab.create(['a', 'b']);
});

afterEach(async () => {
  await lab?.stopAll();
});
afterAll(async () => {
  await lab?.cleanup();
});

describeRequiring(VrrpLab.prerequisites, 'twinvip with keepalived as the VRRP peer', () => {
  it('twinvip (150) wins over keepalived (100); on SIGTERM it sends priority 0 and keepalived takes over at once', async () => {
    // twinvip first, so keepalived joins a group that already has a master: it must accept our
    // adverts (auth, interval, address list) from the start and never become MASTER itself.
    const t = await lab.twinvip('a', tv(150));
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    await lab.waitHolders(VIP, ['a'], 5000);
    const k = await lab.keepalived('b', ka(100, 'BACKUP'));
    // keepalived heard our adverts (auth, interval, address list all accepted) and stays BACKUP.
    await k.waitLog(/Entering BACKUP STATE/, 10_000);
    // Past keepalived's own Master_Down_Interval (3.6 s): it still hears us and stays BACKUP.
    const sentAtJoin = await t.counter('VI_1.advertsSent');
    await lab.waitFor(async () => (await t.counter('VI_1.advertsSent')) >= sentAtJoin + 5, { timeoutMs: 20_000, what: 'five more adverts sent' });
    expect(k.out()).not.toMatch(/Entering MASTER STATE/);
    expect(await lab.holders(VIP)).toEqual(['a']);

    expect(await t.stop()).toBe(0);
    await k.waitLog(/Entering MASTER STATE/, 10_000);
    // keepalived took over because of our priority-0 advert (after skew time), not because
    // its Master_Down_Interval ran out.
    expect(k.out()).toMatch(/priority 0/i);
    await lab.waitHolders(VIP, ['b'], 5000);
    await k.stop();
  });

  it('keepalived (200) as MASTER keeps twinvip (150) BACKUP; keepalived stopping hands over to twinvip; link down puts twinvip in FAULT', async () => {
    const k = await lab.keepalived('b', ka(200, 'MASTER'));
    await lab.waitHolders(VIP, ['b'], 10_000);
    const t = await lab.twinvip('a', tv(150));
    await t.waitLog(/VI_1: INIT -> BACKUP/, 20_000);
    // Status over the control socket names the master twinvip hears.
    await lab.waitFor(
      async () => {
        const s = (await t.status())?.instances[0];
        return s?.state === 'BACKUP' && s.master?.address === '10.66.0.2' && s.master.priority === 200;
      },
      { timeoutMs: 10_000, what: 'status shows BACKUP with master 10.66.0.2 (200)' },
    );
    expect(await lab.holders(VIP)).toEqual(['b']);

    await k.stop();
    await t.waitLog(/VI_1: BACKUP -> MASTER \(priority 0 from master/, 10_000);
    await lab.waitHolders(VIP, ['a'], 5000);

    const a = lab.box('a').ns;
    await a.run('ip', ['link', 'set', 'dev', 'lan', 'down']);
    await t.waitLog(/VI_1: MASTER -> FAULT/, 10_000);
    await a.run('ip', ['link', 'set', 'dev', 'lan', 'up']);
    await t.waitLog(/VI_1: FAULT -> (BACKUP|MASTER)/, 10_000);
    await t.stop();
  });
});
