// The HA thread dies (an uncaught error, as a bug in the HA path would throw): the daemon logs it
// and exits at once with status 70 so that its service manager restarts it and the unit's
// `twinvip cleanup` removes the VIPs. It must not wait for an answer from the dead thread: before,
// its stop asked the thread to stop and waited until the daemon's shutdown limit
// ('shutdown did not finish within 10000 ms; exiting anyway'), 10 s in which the box kept VIPs
// that nothing defended (found by bench/soak.mjs, issue 22). No instance is configured, so
// nothing leaves the machine: the control socket is in a temp dir.
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requestOnce } from '../../../src/control';
import type { OutputLine } from '../../helpers/bundle';
import { useSpawnedDaemons } from '../helpers/daemon-hooks';

const h = useSpawnedDaemons();
const msg = (re: RegExp) => (l: OutputLine) => typeof l.json?.msg === 'string' && re.test(l.json.msg);

describe('the HA thread dies', () => {
  it('the daemon logs why and exits with status 70 without waiting for the dead thread', async () => {
    const cfg = h.dir.file('twinvip.json');
    const sock = h.dir.file('control.sock');
    writeFileSync(cfg, JSON.stringify({ node: { name: 'box-a', state_dir: h.dir.file('state') }, control: { socket: sock }, logging: { level: 'info', format: 'json' }, instances: {} }));
    const p = h.twinvip(['run', '-c', cfg], { env: { ...process.env, TWINVIP_DEBUG_BUSY: '1' } });
    await p.waitForLine(msg(/^started: node box-a/), { what: 'the started line' });
    expect(p.lines.some(msg(/HA path \(VRRP, serial heartbeat\) runs in its own thread/))).toBe(true);

    const r = await requestOnce(sock, 'debug-ha-crash', undefined, { timeoutMs: 10_000 });
    // The thread answers {crashing: true} and throws a moment later. The main thread may take the
    // thread's death before that answer (a busy machine: both wait in its event loop, and the
    // worker's 'error' came first in a stress run); the call then fails with the death's cause.
    // Either way the command reached the thread, which is what this step means.
    if (!r.ok) throw new Error(`no answer to debug-ha-crash: ${r.reason}: ${r.message}`);
    if (r.response.status === 'ok') expect(r.response.data).toEqual({ crashing: true });
    else expect(r.response.error).toMatch(/HA thread uncaught error: debug-ha-crash: thrown on purpose$/);
    const exit = await p.exited;
    const text = p.lines.map((l) => l.text).join('\n');
    expect(exit.code, text).toBe(70);
    expect(text).toMatch(/HA thread uncaught error: debug-ha-crash: thrown on purpose/);
    expect(text).not.toMatch(/shutdown did not finish/);
  });
});
