import { http } from '../lib/http-builtins';
import { CheckRunner, type Probe, type TrackListener, type TrackSource } from '../track';
import { parseStubStatus, type StubStatus } from './stub-status';
import { STATUS_PATH } from './render';
import type { NginxSettings } from './settings';

/**
 * The local Nginx as a VRRP track object named 'nginx': up while its master lives and the
 * loopback status endpoint answers. The master check matters: orphaned workers of a killed master
 * keep answering on the old sockets (measured), so HTTP alone would call a dead Nginx healthy.
 */
export class NginxHealth implements TrackSource {
  readonly name = 'nginx';
  private runner: CheckRunner;
  private lastStub: StubStatus | undefined;

  constructor(
    private settings: NginxSettings,
    private readonly masterAlive: () => boolean,
  ) {
    this.runner = this.build();
  }

  private build(): CheckRunner {
    const s = this.settings.supervise;
    return new CheckRunner({ name: 'nginx', probe: this.probe(), intervalMs: s.healthIntervalMs, timeoutMs: s.healthTimeoutMs, rise: s.rise, fall: s.fall });
  }

  private probe(): Probe {
    const { address, port } = this.settings.status;
    return (signal) =>
      new Promise((resolve) => {
        if (!this.masterAlive()) return resolve({ ok: false, detail: 'Nginx master not running' });
        const req = http.request({ host: address, port, path: STATUS_PATH, agent: false, signal, headers: { connection: 'close' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            if (res.statusCode !== 200) return resolve({ ok: false, detail: `status endpoint answered ${res.statusCode}` });
            this.lastStub = parseStubStatus(body);
            resolve({ ok: true, detail: 'status endpoint answers' });
          });
          res.on('error', (err) => resolve({ ok: false, detail: `status endpoint: ${err.message}` }));
        });
        req.on('error', (err) => resolve({ ok: false, detail: `status endpoint ${address}:${port}: ${(err as NodeJS.ErrnoException).code ?? err.message}` }));
        req.end();
      });
  }

  get up(): boolean | undefined {
    return this.runner.up;
  }

  get stubStatus(): StubStatus | undefined {
    return this.lastStub;
  }

  get lastResult() {
    return this.runner.lastResult;
  }

  on(listener: TrackListener): () => void {
    return this.runner.on(listener);
  }

  start(): void {
    this.runner.start();
  }

  stop(): void {
    this.runner.stop();
  }
}
