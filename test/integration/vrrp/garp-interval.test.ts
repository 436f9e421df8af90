// garp.interval (keepalived's vrrp_garp_interval) on the wire: the gratuitous ARPs of one burst
// leave that far apart, measured by tcpdump on the LAN bridge; without it they leave back to back.
import { expect, it } from 'vitest';
import { VrrpLab, useVrrpLab } from './lab';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';

const VIP = '10.66.0.120';
const lab = useVrrpLab(['a']);

/** Seconds since midnight of every gratuitous ARP for VIP in the capture (tcpdump's HH:MM:SS.us). */
async function garpTimes(file: string): Promise<number[]> {
  const lines = await lab().readCapture(file, 'arp');
  const garp = new RegExp(`who-has ${VIP.replaceAll('.', '\\.')}\\b.*tell ${VIP.replaceAll('.', '\\.')}\\b`);
  return lines
    .filter((l) => garp.test(l))
    .map((l) => {
      const [h, m, s] = l.split(' ')[0]!.split(':').map(Number);
      return h! * 3600 + m! * 60 + s!;
    });
}

const gapsMs = (t: number[]) => t.slice(1).map((x, i) => Math.round((x - t[i]!) * 1000));

describeRequiring([...VrrpLab.prerequisites, needsProgram('tcpdump')], 'gratuitous ARP pacing (garp.interval)', () => {
  it('interval 0.25 s: the 4 packets of the burst on becoming MASTER leave at least 250 ms apart', async () => {
    const cap = await lab().capture('arp');
    const t = await lab().twinvip('a', {
      VI_1: { vrid: 81, priority: 150, state: 'MASTER', vips: [`${VIP}/24`], garp: { master_repeat: 4, master_delay: 0, interval: 0.25 } },
    });
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    await lab().waitHolders(VIP, ['a']);
    // The burst takes 3 x 250 ms; wait on the capture, not on a clock.
    let times: number[] = [];
    await lab().waitFor(async () => (times = await garpTimes(cap.file)).length >= 4, { timeoutMs: 15_000, what: '4 gratuitous ARPs' });
    await cap.stop();
    times = await garpTimes(cap.file);
    expect(times.length).toBe(4);
    const gaps = gapsMs(times);
    // Timers never fire early; 1 ms of slack for the capture's timestamps.
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(249);
    process.stdout.write(`garp.interval 0.25 s, gaps on the wire (ms): ${gaps.join(', ')}\n`);
    await t.stop();
  });

  it('interval 0 (default): the burst leaves back to back', async () => {
    const cap = await lab().capture('arp');
    const t = await lab().twinvip('a', {
      VI_1: { vrid: 81, priority: 150, state: 'MASTER', vips: [`${VIP}/24`], garp: { master_repeat: 4, master_delay: 0 } },
    });
    await t.waitLog(/VI_1: BACKUP -> MASTER/, 20_000);
    let times: number[] = [];
    await lab().waitFor(async () => (times = await garpTimes(cap.file)).length >= 4, { timeoutMs: 15_000, what: '4 gratuitous ARPs' });
    await cap.stop();
    times = await garpTimes(cap.file);
    expect(times.length).toBe(4);
    // One synchronous loop of sends: the whole burst within a few ms even on a loaded machine.
    expect(times.at(-1)! - times[0]!).toBeLessThan(0.1);
    process.stdout.write(`garp.interval 0, gaps on the wire (ms): ${gapsMs(times).join(', ')}\n`);
    await t.stop();
  });
});
