// Certificates as a fleet operator sees them (issue 27, "Certificates in operation"): `twinvip run`
// (the bundle) in a namespace, terminating TLS with a certificate that expires in 10 days, and a
// real mosquitto in a second namespace. What reaches MQTT, read by mosquitto_sub beside the broker:
// the certificate-expiring alarm as an event, the days to expiry in every telemetry message and in
// the retained state; the daemon's log names it; renewal (a new pair renamed over the files)
// clears it on MQTT too.
import { join } from 'node:path';
import { patience } from '../../helpers/patience';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { type LabProcess } from '../helpers/netns';
import { Mosquitto } from '../mqtt/broker';
import { useVrrpLab, VrrpLab, type Twinvip } from '../vrrp/lab';
import { installPair, makeCert, type Cert } from './tls-env';

const BROKER_HOST = '10.66.0.2';
const BROKER = `mqtt://${BROKER_HOST}:1883`;
const lab = useVrrpLab(['a', 'c']);
let broker: Mosquitto;

interface Message { topic: string; payload: Record<string, any> }

/** mosquitto_sub in the broker's namespace: every message under the box's prefix, parsed. */
function subscribe(): { proc: LabProcess; messages(): Message[] } {
  // -d: debug lines (SUBACK) on stdout too; only "topic {json}" lines are messages. stdbuf: a
  // line at a time, as it arrives (stdout is a pipe).
  const proc = lab().box('c').ns.spawn('stdbuf', ['-oL', 'mosquitto_sub', '-d', '-h', BROKER_HOST, '-p', '1883', '-t', 'twinvip/box-a/#', '-v']);
  return {
    proc,
    messages: () =>
      proc.stdout
        .split('\n')
        .map((l) => /^(\S+) (\{.*\})$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ topic: m[1]!, payload: JSON.parse(m[2]!) as Record<string, any> })),
  };
}

beforeAll(async () => {
  if (!VrrpLab.available()) return;
  broker = new Mosquitto({ dir: lab().dir, port: 1883, host: BROKER_HOST, netns: lab().box('c').ns.name });
  await broker.start();
}, patience(60_000));

afterAll(async () => {
  await broker?.stop();
});

describeRequiring([...VrrpLab.prerequisites, needsProgram('nginx'), needsProgram('openssl'), needsProgram('mosquitto'), needsProgram('mosquitto_sub', 'mosquitto-clients')], 'certificate expiry on MQTT, from a running daemon', () => {
  it('an expiring certificate: the alarm event on MQTT (raised before MQTT started), days left in telemetry and state; renewal clears it', async () => {
    const dir = lab().dir;
    const soon: Cert = await makeCert(dir, 'shop', ['shop.example.net'], 10);
    const renewed: Cert = await makeCert(dir, 'shop-renewed', ['shop.example.net'], 400);
    const sub = subscribe();
    await lab().waitFor(() => /received SUBACK/.test(sub.proc.stdout) || (!sub.proc.running && Promise.reject(new Error(sub.proc.stderr))), { what: () => `mosquitto_sub subscribed\n${sub.proc.stdout}${sub.proc.stderr}` });
    let t: Twinvip | undefined;
    try {
      t = await lab().twinvip('a', { VI_1: { vrid: 72, priority: 150, vips: ['10.66.0.100/24'] } }, {
        mqtt: { enabled: true, url: BROKER, telemetry_interval: 1, reconnect_min: 0.2, reconnect_max: 2 },
        nginx: {
          enabled: true,
          prefix: join(dir, 'nginx-a'),
          reload: { min_interval: 0.1 },
          certificates: { alarm_days: 30, poll_interval: 1 },
          http: [{ listen: [{ address: '127.0.0.1', port: 8443 }], server_names: ['shop.example.net'], tls: { certificate_file: soon.certificate, key_file: soon.key }, locations: [{ type: 'static', path: '/', root: dir }] }],
        },
      });
      await t.waitLog(/connected to mqtt:/, 20_000);
      const id = `certificate-expiring:${soon.certificate}`;

      // The alarm as an event (QoS 1, not retained), with the days in its message.
      const event = await lab().waitFor(() => sub.messages().find((m) => m.topic === 'twinvip/box-a/event' && m.payload.type === 'alarm' && m.payload.id === id), {
        timeoutMs: 30_000,
        what: () => `certificate-expiring event on MQTT\n${sub.proc.stdout}\n${t!.out()}`,
      });
      expect(event.payload).toMatchObject({ active: true, severity: 'warning' });
      expect(event.payload.message).toMatch(/expires in 9 days/);

      // Days to expiry in every telemetry message, and in the retained state's nginx section.
      const telemetry = await lab().waitFor(() => sub.messages().find((m) => m.topic === 'twinvip/box-a/telemetry' && Array.isArray(m.payload.certificates) && m.payload.certificates.length > 0), {
        timeoutMs: 30_000,
        what: () => `telemetry with certificates\n${sub.proc.stdout}`,
      });
      expect(telemetry.payload.certificates).toEqual([expect.objectContaining({ file: soon.certificate, state: 'expiring', days_left: 9, names: ['shop.example.net'] })]);
      const state = sub.messages().filter((m) => m.topic === 'twinvip/box-a/state').at(-1);
      expect(state?.payload.alarms).toEqual(expect.arrayContaining([expect.objectContaining({ id, severity: 'warning' })]));

      // The daemon's log names it (the console's nginx view shows the days: extension.test.ts).
      expect(t.out()).toContain(`alarm ${id} raised: certificate ${soon.certificate}`);

      // Renewal: a new pair renamed over the files is picked up, and the alarm clears on MQTT.
      const cleared = sub.messages().length;
      installPair(renewed, soon);
      const clear = await lab().waitFor(() => sub.messages().slice(cleared).find((m) => m.topic === 'twinvip/box-a/event' && m.payload.type === 'alarm' && m.payload.id === id && m.payload.active === false), {
        timeoutMs: 30_000,
        what: () => `alarm cleared on MQTT\n${sub.proc.stdout}\n${t!.out()}`,
      });
      expect(clear).toBeDefined();
      await lab().waitFor(
        () => sub.messages().slice(cleared).find((m) => m.topic === 'twinvip/box-a/telemetry' && m.payload.certificates?.[0]?.days_left === 399),
        { timeoutMs: 30_000, what: () => `telemetry with the renewed certificate's 399 days\n${sub.proc.stdout.slice(-4000)}` },
      );
    } finally {
      await t?.stop();
      await sub.proc.kill();
    }
  }, patience(120_000));
});
