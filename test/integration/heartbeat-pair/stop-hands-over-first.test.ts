// A graceful stop hands over first (src/ha/vrrp/extension.ts, src/ha/worker/host.ts): the HA
// path gives up its instances as soon as the daemon begins to stop, not after the features that
// stop before it in the reverse order (MQTT's farewell to the broker, the console, the
// diagnosis). Found by arm64-pair.test.ts: with MQTT and Nginx on, a's SIGTERM took 133-485 ms to
// reach the twin over serial, against about 10 ms without them (bench/README.md).
//
// The test makes MQTT's farewell hang: the broker (ours, by its PID) is SIGSTOPped before a gets
// SIGTERM, so a's MQTT stop waits for its publish and disconnect timeouts (2 s each). The twin
// must take the VIP while a is still in that wait, i.e. still running.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab, type LabProcess } from '../helpers/netns';
import { PairLab } from './pair-lab';
import { Mosquitto } from '../mqtt/broker';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

const BROKER = '10.77.0.9';

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('mosquitto')], 'a graceful stop hands over before MQTT says goodbye', () => {
  let p: PairLab;
  let broker: LabProcess;

  beforeAll(async () => {
    if (!NetnsLab.available()) return;
    p = await PairLab.create();
    // The broker's config from the shared helper; the process is ours, so it can be stopped.
    new Mosquitto({ dir: p.dir, port: 1883, host: BROKER, netns: p.c.name });
    broker = p.c.spawn('mosquitto', ['-c', join(p.dir, 'mosquitto.conf')]);
    await p.waitFor(() => / running$/m.test(broker.stdout + broker.stderr), () => `mosquitto running: ${broker.stdout}${broker.stderr}`);
    await p.startPair({ config: () => ({ mqtt: { enabled: true, url: `mqtt://${BROKER}:1883`, telemetry_interval: 3600 } }) });
    await p.masterIs(p.a, p.b);
    await p.waitFor(() => [p.a, p.b].every((b) => /mqtt: connected to/.test(b.log())), () => `both boxes connected to the broker${p.logs()}`);
    await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, () => `serial heartbeat ok${p.logs()}`);
  }, patience(90_000));

  afterAll(async () => {
    if (broker?.running) broker.child.kill('SIGCONT');
    await p?.cleanup();
  }, patience(60_000));

  it("b has the VIP while a's MQTT farewell to a stalled broker is still waiting", async () => {
    broker.child.kill('SIGSTOP');
    try {
      p.a.proc!.child.kill('SIGTERM');
      await p.waitFor(() => p.hasVip(p.b), () => `the VIP on b${p.logs()}`);
      // a is still stopping (its MQTT stop waits up to 2 + 2 s for the stalled broker): the
      // handover did not wait for it.
      expect(p.a.proc!.running, `a had exited before b took the VIP${p.logs()}`).toBe(true);
      // The release line comes through a's main thread, which is busy stopping: it can reach our
      // pipe after b already has the VIP (make test-stress run 2 of d1760eb: b's VIP in 57 ms,
      // the line not yet read). Wait for it; a must still be running then too.
      await p.waitFor(() => /MASTER -> INIT \(shutdown\): release sent to the twin over serial/.test(p.a.log()), () => `a's release line${p.logs()}`);
      expect(p.a.log()).not.toMatch(/stopped \(SIGTERM\)/);
    } finally {
      broker.child.kill('SIGCONT');
    }
    await p.a.proc!.exited;
    expect(p.a.log()).toMatch(/stopped \(SIGTERM\)/);
    expect(await p.state(p.b)).toBe('MASTER');
  }, patience(60_000));
});
