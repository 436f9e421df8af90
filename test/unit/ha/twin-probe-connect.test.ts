// The twin probe's shell on real UDP sockets: a round whose connected socket cannot connect
// (ENETUNREACH when the box's LAN link is down; EACCES here, for the broadcast address without
// SO_BROADCAST, which the kernel refuses before anything is sent) ends as an unanswered round and
// never throws. Before the fix the connect callback ignored its error, marked the socket ready,
// and the next question's send(datagram, callback) on the unconnected socket threw in a timer
// ("Port should be > 0 and < 65536. Received function"), which stopped the HA thread and the
// daemon (handover.test.ts, under stress-ng).
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { TwinProbe } from '../../../src/ha/heartbeat/twin-probe';
import { freePort } from '../../helpers/ports';

let probe: TwinProbe | undefined;
afterEach(() => probe?.stop());

describe('twin probe: a connect that fails', () => {
  it('the round ends unanswered, the error is logged, nothing throws', async () => {
    const lines: string[] = [];
    probe = new TwinProbe({
      port: await freePort(), key: randomBytes(32), nodeId: '1', tries: 3, intervalMs: 20,
      log: (l) => lines.push(l), instances: () => [],
    });
    await probe.start();
    const v = await probe.round('255.255.255.255', undefined);
    expect(v).toMatchObject({ daemon: false, refused: false, sent: 3 });
    expect(lines.join('\n')).toMatch(/twin probe to 255\.255\.255\.255: .*EACCES/);
    expect(lines.join('\n')).not.toMatch(/Port should be/);
  });
});
