// Fail loudly while running (#18): the serial heartbeat's ports vanish (socat killed: with a pty
// pair both ends go, as with a shared USB hub) and stay gone. After heartbeat.serial.port_gone_s
// (30 s by default; 5 s here, so the test does not wait out 30 s of a fixed timer to check the
// same rule) each box is degraded with the critical alarm serial-port-gone and the reason; the
// instances stay as they are (VRRP still defends them over Ethernet: exactly one MASTER). The
// ports back, the fault clears.
import { expect, it } from 'vitest';
import { requestOnce } from '../../../src/control';
import { NetnsLab } from '../helpers/netns';
import { PairLab, pairLabHooks } from '../heartbeat-pair/pair-lab';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';
import { buildBundle } from '../../helpers/bundle';

let p: PairLab;
const GONE_S = 5;

interface Status {
  health: { state: string; reasons: string[] };
  alarms?: { id: string; severity: string }[];
}

async function status(box: PairLab['a']): Promise<Status | null> {
  const r = await requestOnce(box.socket, 'status', undefined, { timeoutMs: 3000 });
  return r.ok && r.response.status === 'ok' ? (r.response.data as Status) : null;
}

// The boxes open socat's link paths (the default), so the restarted socat (new ptys, same
// links) is found by the reopen.
pairLabHooks(() => {
  buildBundle();
  return PairLab.startPair({ options: () => ({ serial: { port_gone_s: GONE_S } }) });
}, (lab) => (p = lab));

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat')], 'the serial heartbeat port gone while running', () => {
  it('degraded with a critical alarm after port_gone_s, instances unchanged (one MASTER); healthy once the port reopens', async () => {
    await p.masterIs(p.a, p.b);
    const gone = Date.now();
    await p.serial!.kill();
    await p.waitFor(async () => (await status(p.a))?.health.state === 'degraded', () => `a degraded${p.logs()}`, 60_000);
    // Not before port_gone_s: a port that comes back within it is a hiccup, not a fault.
    expect(Date.now() - gone).toBeGreaterThanOrEqual(GONE_S * 1000 - 1000);
    const s = (await status(p.a))!;
    expect(s.health.reasons).toEqual([expect.stringMatching(new RegExp(`^serial heartbeat \\S+/a: port lost \\(.*\\) and not reopened within ${GONE_S} s; split-brain protection rests on the Ethernet adverts alone$`))]);
    expect(s.alarms).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'serial-port-gone', severity: 'critical' })]));
    expect(await p.state(p.a)).toBe('MASTER');
    expect(await p.state(p.b)).toBe('BACKUP');
    expect(await p.hasVip(p.a)).toBe(true);

    await p.serial!.start();
    await p.waitFor(async () => (await status(p.a))?.health.state === 'ok' && (await status(p.b))?.health.state === 'ok', () => `both healthy again${p.logs()}`, 60_000);
    expect(p.a.log()).toMatch(/fault cleared: serial heartbeat \S+: port open again/);
  }, patience(150_000));
});
