// Builds the demo's world: the LAN (bridge in a switch namespace), two boxes and a client on it,
// the serial cable (socat pty pair), the broker, each box's upstream, twinvip and Nginx, and the
// client agent. Each start waits for an observable sign of life, never for a fixed time.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requestOnce } from '../control';
import { parseAgentLine } from './agents';
import { boxConfig, chooseParts, fallbackNginxConfig, indexHtml, mosquittoConfig, PART_LABEL, PARTS, type BoxPaths, type Part } from './configs';
import { DemoLab, type DemoProcess } from './lab';
import { Observer } from './observe';
import { findTool } from './prereqs';
import {
  BOXES, BRIDGE, CLIENT_ADDR, CLIENT_PORT, LAN_IF, LAN_PREFIX_LEN, SWITCH_ADDR, TLS_NAME, UPSTREAM_PORT, VIP, brokerUrl, whoHttpsUrl, whoUrl, type BoxSpec,
} from './topology';

export interface RunningBox {
  spec: BoxSpec;
  ns: string;
  paths: BoxPaths;
  twinvip: DemoProcess;
  /** Nginx the demo started itself (this build's twinvip does not drive Nginx). */
  ownNginx?: DemoProcess;
}

export interface PartStatus {
  part: Part;
  /** 'active': in the config and running; 'configured': accepted by the schema but not running; 'absent': refused by the schema. */
  status: 'active' | 'configured' | 'absent';
  detail: string;
}

export interface World {
  lab: DemoLab;
  dir: string;
  switchNs: string;
  clientNs: string;
  boxes: RunningBox[];
  client: DemoProcess;
  broker: DemoProcess;
  serial: DemoProcess;
  observer: Observer;
  parts: PartStatus[];
  /** The client also probes over HTTPS (a certificate was made and Nginx control runs). */
  https: boolean;
}

export interface SetupOptions {
  tools: Record<string, string>;
  /** The running bundle (process.argv[1]) and runtime, to start twinvip and the agents. */
  node: string;
  bundle: string;
  say: (line: string) => void;
  signal: AbortSignal;
  /**
   * How long one setup step may take (--step-timeout): on a busy machine starting a daemon can
   * take tens of seconds, and a fixed wait made the demo fail there before its story began.
   */
  stepTimeoutMs: number;
}

export async function buildWorld(lab: DemoLab, opts: SetupOptions): Promise<World> {
  const { say } = opts;
  const dir = await lab.tmpdir();
  say(`lab: namespaces ${lab.prefix}-{sw,a,b,c}, files in ${dir}`);

  const switchNs = await lab.namespace('sw');
  await lab.bridge(switchNs, BRIDGE);
  await lab.addr(switchNs, BRIDGE, `${SWITCH_ADDR}/${LAN_PREFIX_LEN}`);
  const boxNs: string[] = [];
  for (const box of BOXES) {
    const ns = await lab.namespace(box.role);
    await lab.vethToBridge(ns, LAN_IF, switchNs, BRIDGE, box.port);
    await lab.addr(ns, LAN_IF, `${box.address}/${LAN_PREFIX_LEN}`);
    boxNs.push(ns);
  }
  const clientNs = await lab.namespace('c');
  await lab.vethToBridge(clientNs, LAN_IF, switchNs, BRIDGE, CLIENT_PORT);
  await lab.addr(clientNs, LAN_IF, `${CLIENT_ADDR}/${LAN_PREFIX_LEN}`);
  say(`lab: LAN ${SWITCH_ADDR}/${LAN_PREFIX_LEN} on bridge ${BRIDGE}; box-a ${BOXES[0]!.address}, box-b ${BOXES[1]!.address}, client ${CLIENT_ADDR}`);
  checkAbort(opts.signal);

  // The serial cable: a pty pair; the schema wants a /dev path, so each box gets the pty itself.
  const serialA = join(dir, 'serial-a');
  const serialB = join(dir, 'serial-b');
  const serial = lab.spawn('socat', undefined, opts.tools.socat!, ['-d', '-d', `pty,raw,echo=0,link=${serialA}`, `pty,raw,echo=0,link=${serialB}`], join(dir, 'socat.log'));
  await until(() => existsSync(serialA) && existsSync(serialB), opts.stepTimeoutMs, 'the socat pty pair', serial, opts.signal);
  const devices = [await realpath(serialA), await realpath(serialB)];
  say(`serial: socat pty pair ${devices[0]} <-> ${devices[1]}`);

  const mosqConf = join(dir, 'mosquitto.conf');
  await writeFile(mosqConf, mosquittoConfig());
  const broker = lab.spawn('mosquitto', switchNs, opts.tools.mosquitto!, ['-c', mosqConf], join(dir, 'mosquitto.log'));

  const serialKey = randomBytes(16).toString('hex');
  const tls = await demoCertificate(dir, say);
  const boxes: RunningBox[] = [];
  let choice: ReturnType<typeof chooseParts> | undefined;
  for (const [i, spec] of BOXES.entries()) {
    const ns = boxNs[i]!;
    const bdir = join(dir, spec.name);
    const paths: BoxPaths = {
      dir: bdir,
      config: join(bdir, 'twinvip.json'),
      socket: join(bdir, 'control.sock'),
      stateDir: join(bdir, 'state'),
      nginxPrefix: join(bdir, 'nginx'),
      www: join(bdir, 'www'),
      serialDevice: devices[i]!,
    };
    for (const d of [bdir, paths.stateDir, join(paths.nginxPrefix, 'tmp'), paths.www]) await mkdir(d, { recursive: true, mode: 0o755 });
    await writeFile(join(paths.www, 'index.html'), indexHtml(spec), { mode: 0o644 });
    const inputs = { box: spec, paths, serialKey, nginxBinary: opts.tools.nginx, ...(tls ? { tls } : {}) };
    choice = chooseParts(inputs);
    await writeFile(paths.config, `${JSON.stringify(boxConfig(inputs, choice.accepted), null, 2)}\n`);

    const upstream = lab.spawn(`${spec.name} upstream`, ns, opts.node, [opts.bundle, 'demo', '--agent', 'upstream', '--name', spec.name, '--port', String(UPSTREAM_PORT)], join(bdir, 'upstream.log'));
    await untilLine(upstream, (l) => l.includes('"ready"'), opts.stepTimeoutMs, `${spec.name}'s upstream`, opts.signal);
    const twinvip = lab.spawn(`${spec.name} twinvip`, ns, opts.node, [opts.bundle, 'run', '-c', paths.config], join(bdir, 'twinvip.log'));
    boxes.push({ spec, ns, paths, twinvip });
  }
  for (const b of boxes) {
    await until(async () => {
      const r = await requestOnce(b.paths.socket, 'ping', undefined, { timeoutMs: 2000 });
      return r.ok && r.response.status === 'ok';
    }, opts.stepTimeoutMs, `twinvip on ${b.spec.name} to answer on its control socket`, b.twinvip, opts.signal);
  }
  say(`twinvip: running in both boxes (${opts.node} ${opts.bundle} run -c <box>/twinvip.json), logs in ${dir}/box-*/twinvip.log`);

  const observer = new Observer(boxes.map((b) => ({ name: b.spec.name, socket: b.paths.socket })));
  observer.start();
  try {
    return await startServices(lab, opts, { dir, switchNs, clientNs, boxes, broker, serial, observer, choice: choice!, ...(tls ? { tls } : {}) });
  } catch (err) {
    observer.stop();
    throw err;
  }
}

interface Started {
  dir: string;
  switchNs: string;
  clientNs: string;
  boxes: RunningBox[];
  broker: DemoProcess;
  serial: DemoProcess;
  observer: Observer;
  choice: ReturnType<typeof chooseParts>;
  tls?: { certificate: string; key: string };
}

async function startServices(lab: DemoLab, opts: SetupOptions, s: Started): Promise<World> {
  const { say } = opts;
  const { dir, switchNs, clientNs, boxes, broker, serial, observer, choice } = s;
  // One status poll tells which parts each daemon runs (its counter groups and commands).
  await until(() => observer.boxes.every((b) => b.activeParts.size > 0), opts.stepTimeoutMs, 'the first status of both boxes', undefined, opts.signal);

  const parts = PARTS.map((part): PartStatus => {
    if (!choice.accepted.has(part)) {
      return { part, status: 'absent', detail: `not in this build yet (schema: ${choice.refused.get(part) ?? 'refused'})` };
    }
    const key = part === 'serial' ? 'heartbeat' : part;
    const running = observer.boxes.every((b) => b.activeParts.has(key));
    return running
      ? { part, status: 'active', detail: 'configured and running' }
      : { part, status: 'configured', detail: 'accepted by the schema, but this build\'s daemon does not run it yet' };
  });
  for (const p of parts) say(`part: ${PART_LABEL[p.part]}: ${p.status === 'active' ? 'active' : `SKIPPED — ${p.detail}`}`);

  const nginx = parts.find((p) => p.part === 'nginx')!;
  if (nginx.status !== 'active') {
    for (const b of boxes) {
      const conf = join(b.paths.nginxPrefix, 'demo-nginx.conf');
      await writeFile(conf, fallbackNginxConfig(b.paths));
      b.ownNginx = lab.spawn(`${b.spec.name} nginx`, b.ns, opts.tools.nginx!, ['-e', join(b.paths.nginxPrefix, 'error.log'), '-p', b.paths.nginxPrefix, '-c', conf], join(b.paths.dir, 'nginx.log'));
      await until(() => existsSync(join(b.paths.nginxPrefix, 'nginx.pid')), opts.stepTimeoutMs, `Nginx on ${b.spec.name}`, b.ownNginx, opts.signal);
    }
    say('nginx: started by the demo in both boxes (static page + /who proxied to the box\'s upstream), since twinvip does not drive Nginx in this build');
  } else {
    say('nginx: driven by twinvip in both boxes (static page + /who proxied to the box\'s upstream)');
  }

  // HTTPS only where twinvip renders it (the fallback Nginx of an older build has no TLS).
  const https = s.tls && nginx.status === 'active' ? ['--https-url', whoHttpsUrl(), '--ca', s.tls.certificate] : [];
  const client = lab.spawn('client agent', clientNs, opts.node, [opts.bundle, 'demo', '--agent', 'client', '--url', whoUrl(), '--broker', brokerUrl(), ...https], join(dir, 'client.log'));
  client.onLine((line) => {
    const parsed = parseAgentLine(line);
    if (parsed) observer.onAgentLine(parsed);
  });
  await untilLine(client, (l) => l.includes('"ready"'), opts.stepTimeoutMs, 'the client agent', opts.signal);
  // The broker's sign of life is the client's subscription (the host cannot reach the LAN).
  await until(() => observer.mqttUp, opts.stepTimeoutMs, 'the client to connect to mosquitto', broker, opts.signal);
  say(`mqtt: mosquitto in the switch namespace on ${brokerUrl()}`);
  say(`client: probing ${whoUrl()} every 100 ms from ${CLIENT_ADDR}, subscribed to twinvip/+/event`);
  if (https.length) say(`client: also probing ${whoHttpsUrl()} every 100 ms, a fresh TLS handshake each time (certificate verified, no session reuse)`);

  return { lab, dir, switchNs, clientNs, boxes, client, broker, serial, observer, parts, https: https.length > 0 };
}

/**
 * The VIP's certificate, self-signed and made by openssl for this run (both boxes serve it, as a
 * pair behind one name does); undefined, and HTTPS left out, when openssl is not installed.
 */
async function demoCertificate(dir: string, say: (s: string) => void): Promise<{ certificate: string; key: string } | undefined> {
  const openssl = findTool('openssl');
  if (!openssl) {
    say('https: skipped — openssl is not installed (apt-get install openssl)');
    return undefined;
  }
  const tlsDir = join(dir, 'tls');
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  const certificate = join(tlsDir, 'vip.crt');
  const key = join(tlsDir, 'vip.key');
  await new Promise<void>((resolve, reject) =>
    execFile(openssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', certificate, '-days', '30', '-subj', `/CN=${TLS_NAME}`, '-addext', `subjectAltName=DNS:${TLS_NAME},IP:${VIP}`], (err, _o, stderr) =>
      err ? reject(new Error(`openssl could not make the demo certificate: ${String(stderr).trim() || err.message}`)) : resolve(),
    ),
  );
  await chmod(key, 0o600);
  say(`https: self-signed certificate for ${TLS_NAME} and ${VIP} made in ${tlsDir}`);
  return { certificate, key };
}

export function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('interrupted');
}

/** Polls an observable condition; fails early when the process it waits on has died. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  proc: DemoProcess | undefined,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    checkAbort(signal);
    if (await cond()) return;
    if (proc && !proc.running) throw new Error(`${proc.label} exited while waiting for ${what}: ${proc.lastLines(6).join(' | ')}`);
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${proc ? `; last output: ${proc.lastLines(6).join(' | ')}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function untilLine(proc: DemoProcess, pred: (line: string) => boolean, timeoutMs: number, what: string, signal: AbortSignal): Promise<void> {
  if (proc.lastLines(40).some(pred)) return Promise.resolve();
  let seen = false;
  const off = proc.onLine((l) => {
    if (pred(l)) seen = true;
  });
  return until(() => seen, timeoutMs, what, proc, signal).finally(off);
}
