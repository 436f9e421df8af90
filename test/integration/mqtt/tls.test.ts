// The MQTT extension over TLS against a real mosquitto on loopback: a throwaway PKI made with the
// real openssl at test start (certs.ts), one broker that only authenticates itself and one that
// also requires a client certificate. Waits are on received messages or counters (poll with
// timeout), never fixed sleeps.
import { mkdirSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { waitFor } from '../../helpers/wait';
import { freePort, Mosquitto, Recorder } from './broker';
import { makePki, type Pki } from './certs';
import { startDaemon, type Harness } from './harness';

let dir: TempDir;
let pki: Pki;
/** Server certificate only (what most fleets run). */
let tlsBroker: Mosquitto;
/** Also `require_certificate true`: no client certificate, no connection. */
let mtlsBroker: Mosquitto;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = makeTempDir('tvmqtls-');
  pki = makePki(dir.path);
  const tls = { cafile: pki.ca.cert, certfile: pki.server.cert, keyfile: pki.server.key };
  tlsBroker = new Mosquitto({ dir: makeSubdir('tls'), port: await freePort(), tls });
  mtlsBroker = new Mosquitto({ dir: makeSubdir('mtls'), port: await freePort(), tls: { ...tls, requireCertificate: true } });
  await tlsBroker.start();
  await mtlsBroker.start();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

afterAll(async () => {
  await tlsBroker?.stop();
  await mtlsBroker?.stop();
  dir?.remove();
});

function makeSubdir(name: string): string {
  const d = dir.file(name);
  mkdirSync(d);
  return d;
}

async function daemon(name: string, broker: Mosquitto, tls: Record<string, unknown>): Promise<Harness> {
  const h = await startDaemon(dir.path, name, { url: broker.url, tls });
  cleanups.push(() => h.stop());
  return h;
}

async function recorder(broker: Mosquitto, filter: string, withClientCert: boolean): Promise<Recorder> {
  const r = await Recorder.open(broker.url, filter, {
    ca: readFileSync(pki.ca.cert),
    ...(withClientCert ? { cert: readFileSync(pki.client.cert), key: readFileSync(pki.client.key) } : {}),
  });
  cleanups.push(() => r.close());
  return r;
}

const mqttCounters = (h: Harness) => h.daemon.status().counters.mqtt!;
const mqttLog = (h: Harness) => h.sink.lines.filter((l) => l.includes('mqtt'));

/**
 * The refusal is logged at error level once (not on every retry), each refused attempt counted
 * once: as many cause lines (error + debug repeats) as failures, at most one per closed attempt.
 */
function expectOneErrorPerCause(h: Harness, cause: RegExp): void {
  const lines = mqttLog(h);
  const failures = mqttCounters(h).connect_failures!;
  const errors = lines.filter((l) => / error +mqtt: /.test(l));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(cause);
  const causeLines = lines.filter((l) => cause.test(l));
  expect(causeLines).toHaveLength(failures);
  const closes = lines.filter((l) => l.includes('unreachable; retrying')).length;
  expect(failures).toBeLessThanOrEqual(closes + 1);
}

/** The daemon is alive and its extension still queues: nothing crashed behind the refused link. */
async function expectStillRunning(h: Harness): Promise<void> {
  const settled = await Promise.race([h.daemon.stopped.then(() => true), new Promise<false>((r) => setImmediate(() => r(false)))]);
  expect(settled).toBe(false);
  h.daemon.bus.emit('transition', { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'test', at: Date.now() });
  expect(h.ext.pendingEvents()).toEqual([expect.objectContaining({ type: 'transition', seq: 1 })]);
}

describe('server certificate (mqtts:// + CA file)', () => {
  it('connects and publishes the retained status online and state', async () => {
    const h = await daemon('box-tls', tlsBroker, { ca: pki.ca.cert });
    await waitFor(() => h.ext.connected, { what: 'extension connected over TLS', timeoutMs: 20_000 });
    expect(h.ext.connected).toBe(true);
    const sub = await recorder(tlsBroker, 'twinvip/box-tls/#', false);
    const status = await sub.wait((m) => m.topic === 'twinvip/box-tls/status', 'retained status');
    expect(status).toMatchObject({ text: 'online', retain: true });
    const state = await sub.wait((m) => m.topic === 'twinvip/box-tls/state', 'retained state');
    expect(state.retain).toBe(true);
    expect(JSON.parse(state.text)).toMatchObject({ node: 'box-tls', config_hash: h.daemon.configHash });
    expect(mqttCounters(h)).toMatchObject({ connected: 1, connects: 1, connect_failures: 0 });
  });

  it('a broker certificate from another CA is refused with a certificate error, never connected', async () => {
    const h = await daemon('box-wrongca', tlsBroker, { ca: pki.otherCa.cert });
    // Two failures: the refusal is retried on the back-off, and every attempt is refused again.
    await waitFor(() => mqttCounters(h).connect_failures! >= 2, { what: '2 refused TLS handshakes', timeoutMs: 20_000 });
    expectOneErrorPerCause(h, /certificate not trusted, certificate verification failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\b.*check mqtt\.tls\.ca/);
    expect(mqttCounters(h)).toMatchObject({ connected: 0, connects: 0 });
    expect(h.ext.connected).toBe(false);
    // Nothing of this node reached the broker: no retained status for it. A marker published after
    // the SUBSCRIBE arrives after any retained message the broker would send for it.
    const sub = await recorder(tlsBroker, 'twinvip/+/status', false);
    sub.client.publish('twinvip/marker/status', 'x', { qos: 1 });
    await sub.wait((m) => m.topic === 'twinvip/marker/status', 'marker');
    expect(sub.on('twinvip/box-wrongca/status')).toEqual([]);
    await expectStillRunning(h);
  });
});

describe('client certificate (require_certificate)', () => {
  it('the certificate and key from the config are presented and accepted', async () => {
    const h = await daemon('box-mtls', mtlsBroker, { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key });
    await waitFor(() => h.ext.connected, { what: 'extension connected with its client certificate', timeoutMs: 20_000 });
    const sub = await recorder(mtlsBroker, 'twinvip/box-mtls/#', true);
    const status = await sub.wait((m) => m.topic === 'twinvip/box-mtls/status', 'retained status');
    expect(status).toMatchObject({ text: 'online', retain: true });
    await sub.wait((m) => m.topic === 'twinvip/box-mtls/state', 'retained state');
    // use_identity_as_username: mosquitto names the certificate's CN as the user of our client.
    await waitFor(() => mtlsBroker.log.includes(`as twinvip-box-mtls`) && mtlsBroker.log.includes(`u'${pki.clientCn}'`), {
      what: `mosquitto logging the client as u'${pki.clientCn}'`,
    });
  });

  it('without a client certificate the connection is refused, counted and logged; the daemon keeps running', async () => {
    const h = await daemon('box-nocert', mtlsBroker, { ca: pki.ca.cert });
    await waitFor(() => mqttCounters(h).connect_failures! >= 2, { what: '2 refused connections', timeoutMs: 20_000 }).catch((err) => {
      throw new Error(`${(err as Error).message}\n${mqttLog(h).join('\n')}\nbroker: ${mtlsBroker.log}`);
    });
    expect(mqttCounters(h)).toMatchObject({ connected: 0, connects: 0 });
    expect(h.ext.connected).toBe(false);
    expectOneErrorPerCause(h, /requires a client certificate: set mqtt\.tls\.cert and mqtt\.tls\.key/);
    await expectStillRunning(h);
  });
});
