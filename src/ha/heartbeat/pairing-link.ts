// The shell of first-boot pairing (the protocol is src/heartbeat/pairing.ts): while the box has
// no heartbeat key it owns the serial port instead of the SerialLink, reads pairing frames (and
// nothing else: a heartbeat of a paired twin is ignored, counted), runs the core's resends and
// time-outs on a timer, and stores the agreed key atomically with mode 0600. The heartbeat
// extension then closes this link and starts the authenticated one with the key.

import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FrameDecoder, encodeFrame } from '../../heartbeat/framing';
import { isPairingBody, Pairing, formatCode, type PairingOutput, type PairingStatus } from '../../heartbeat/pairing';
import { writeFileAtomic } from '../../lib/atomic-file';
import { ReopeningSerialPort, type FirstOpen } from '../../lib/serial-port';
import { nodePairingCrypto } from './pair-crypto';
import { loopSafeSerialBinding } from './serial-binding';

export interface PairingLinkOptions {
  path: string;
  baudRate: number;
  /** Our name as the twin shows it (node.name). */
  name: string;
  /** Where the agreed key is written (heartbeat.serial.key_file). */
  keyFile: string;
  log: (level: 'info' | 'warn', line: string) => void;
  /** The key is stored: the caller switches to the authenticated heartbeat. */
  onPaired: (key: Buffer, peer: string) => void;
}

export interface PairingLinkStatus extends PairingStatus {
  device: string;
  port_open: boolean;
  key_file: string;
  /** Frames on the line that were not pairing frames (a paired twin's heartbeats): ignored. */
  other_frames: number;
}

const now = (): number => performance.now();

export class PairingLink {
  private readonly core: Pairing;
  private readonly decoder = new FrameDecoder();
  private readonly serial: ReopeningSerialPort;
  private timer: NodeJS.Timeout | undefined;
  private otherFrames = 0;
  private stopped = false;
  /** Settles when a key store ends (a stop waits for it: a half-written key is never left). */
  private storing: Promise<void> | undefined;

  constructor(private readonly opts: PairingLinkOptions) {
    this.core = new Pairing({ crypto: nodePairingCrypto, name: opts.name, accepting: true }, now());
    this.serial = new ReopeningSerialPort({
      path: opts.path,
      binding: loopSafeSerialBinding,
      baudRate: opts.baudRate,
      reopen: { initialMs: 100, maxMs: 5000 },
      unrefReopenTimer: false,
      onOpen: (port) => {
        port.flush();
        opts.log('info', `serial ${opts.path}: open for pairing (no heartbeat key yet: plain VRRP until paired)`);
      },
      onData: (chunk) => this.onData(chunk),
      onOpenFailure: () => undefined,
      onLost: (reason) => opts.log('warn', `serial ${opts.path}: port lost (${reason})`),
      onRetry: (why, delayMs) => opts.log('info', `serial ${opts.path}: ${why}; reopening in ${delayMs} ms`),
      onError: (err) => opts.log('warn', `serial ${opts.path}: ${err.message}`),
    });
  }

  get firstOpen(): Promise<FirstOpen> {
    return this.serial.firstOpen;
  }

  start(): void {
    this.serial.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.storing;
    await this.serial.stop();
  }

  status(): PairingLinkStatus {
    return { ...this.core.status(), device: this.opts.path, port_open: this.serial.isOpen, key_file: this.opts.keyFile, other_frames: this.otherFrames };
  }

  /** `twinvip pair` here: start as initiator; resolves once the code is known or the attempt failed. */
  async begin(timeoutMs: number): Promise<PairingLinkStatus> {
    if (!this.serial.isOpen) throw new Error(`serial ${this.opts.path} is not open: check the device and the cable`);
    this.perform(this.core.start(now()));
    const until = now() + timeoutMs;
    while (now() < until) {
      const s = this.core.status();
      if (s.phase !== 'committed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.status();
  }

  /** `twinvip pair --confirm CODE` here. */
  async confirm(code: string): Promise<{ ok: boolean; message: string; status: PairingLinkStatus }> {
    const r = this.core.enterCode(code, now());
    this.perform(r.out);
    await this.storing;
    const s = this.status();
    if (r.ok && s.phase !== 'paired') return { ok: false, message: s.error ?? 'the key was not stored', status: s };
    return { ok: r.ok, message: r.ok ? `paired with ${s.peer}: key written to ${this.opts.keyFile} (mode 0600); authenticated heartbeat starting` : r.message, status: s };
  }

  cancel(): PairingLinkStatus {
    this.perform(this.core.cancel(now()));
    return this.status();
  }

  private onData(chunk: Buffer): void {
    if (this.stopped) return;
    const t = now();
    for (const d of this.decoder.push(chunk)) {
      if (!d.ok) continue;
      if (!isPairingBody(d.body)) {
        this.otherFrames++;
        continue;
      }
      this.perform(this.core.receive(d.body, t));
    }
  }

  private perform(outs: PairingOutput[]): void {
    for (const o of outs) {
      switch (o.type) {
        case 'log':
          this.opts.log(o.level, o.message);
          break;
        case 'send': {
          const port = this.serial.current;
          if (port?.isOpen) port.write(encodeFrame(o.body));
          break;
        }
        case 'store-key':
          this.storing = this.store(Buffer.from(o.key), o.peer);
          break;
      }
    }
    this.schedule();
  }

  private async store(key: Buffer, peer: string): Promise<void> {
    try {
      await mkdir(dirname(this.opts.keyFile), { recursive: true, mode: 0o700 });
      // Hex on one line: the key file format every box reads (first line, at least 16 bytes).
      await writeFileAtomic(this.opts.keyFile, `${key.toString('hex')}\n`, { mode: 0o600 });
    } catch (err) {
      this.perform(this.core.stored(false, now(), (err as Error).message));
      return;
    }
    this.perform(this.core.stored(true, now()));
    const code = this.core.status().code;
    this.opts.log('info', `paired with ${peer}${code ? ` (code ${formatCode(code)})` : ''}: heartbeat key written to ${this.opts.keyFile}`);
    // Let the confirm frame reach the kernel before the port changes hands.
    await new Promise((r) => setTimeout(r, 20));
    if (!this.stopped) this.opts.onPaired(Buffer.from(key.toString('hex'), 'utf8'), peer);
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const at = this.core.nextDeadline();
    if (at === null || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.perform(this.core.tick(now()));
    }, Math.max(0, at - now()) + 1);
  }
}
