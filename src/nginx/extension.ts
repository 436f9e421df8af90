import type { DaemonContext, Extension, FeatureStatus } from '../daemon';
import { TrackEmitter, type TrackListener, type TrackSource } from '../track';
import { scriptPolicyFromConfig } from '../exec';
// The controller (rendering, apply, supervision, checks, TLS store) is imported the first time
// Nginx control is enabled (at start or by a reload): a box without it never loads that code.
import type { NginxController } from './controller';

/**
 * Nginx control as a daemon feature: starts the controller when nginx.enabled, follows config
 * reloads, registers the `nginx` control command and the `nginx` counters, and exposes the
 * Nginx health as a track source (`track`) that outlives enable/disable switches, so the VRRP
 * wiring can subscribe once.
 */
/** The fault (and critical alarm) id while the local Nginx does not serve. */
export const NGINX_FAULT = 'nginx-not-serving';

export class NginxExtension implements Extension, TrackSource {
  readonly name = 'nginx';
  private controller: NginxController | undefined;
  private readonly emitter = new TrackEmitter();
  private offHealth: (() => void) | undefined;
  private unregister: (() => void)[] = [];
  private ctx: DaemonContext | undefined;

  constructor(private readonly opts: { modulesDir?: string } = {}) {}

  /** up/down of the local Nginx; undefined while unknown or when Nginx control is disabled. */
  get up(): boolean | undefined {
    return this.controller?.health.up;
  }

  on(listener: TrackListener): () => void {
    return this.emitter.on(listener);
  }

  /** Synchronous snapshot for the console and MQTT state; undefined while Nginx control is off. */
  snapshot(): ReturnType<NginxController['snapshot']> | undefined {
    return this.controller?.snapshot();
  }

  /** Days to expiry of every certificate (MQTT telemetry, console); empty while Nginx control is off. */
  certificates(): ReturnType<NginxController['certificateFigures']> {
    return this.controller?.certificateFigures() ?? [];
  }

  get track(): TrackSource {
    return this;
  }

  async start(ctx: DaemonContext): Promise<void> {
    this.ctx = ctx;
    this.unregister.push(
      ctx.control.register('nginx', () => this.statusData(), { summary: 'Nginx: master pid, generation, last apply, upstream server states' }),
      ctx.counters.add('nginx', () => this.controller?.counters() ?? {}),
    );
    if (ctx.config.nginx.enabled) await this.startController(ctx);
  }

  private async startController(ctx: DaemonContext): Promise<void> {
    const log = ctx.logger.for('nginx');
    const { NginxController } = await import('./controller');
    if (this.ctx === undefined) return; // stopped while the module loaded
    const c = new NginxController({
      model: ctx.config.nginx,
      log,
      scriptPolicy: () => scriptPolicyFromConfig(this.ctx?.config.notify ?? ctx.config.notify),
      ...(this.opts.modulesDir ? { modulesDir: this.opts.modulesDir } : {}),
      onAlarm: (a) => ctx.bus.emit('alarm', { ...a, at: Date.now() }),
    });
    this.controller = c;
    this.offHealth = c.health.on((ev) => {
      log[ev.up ? 'info' : 'error'](`nginx track ${ev.up ? 'up' : 'down'} (${ev.cause})`);
      this.emitter.emit(ev);
      // Fail loudly: Nginx control broken is a fault (degraded, critical alarm) for as long as it
      // lasts; the instances with track_nginx go to FAULT through the tracked object above (the
      // others do not depend on Nginx), and the supervisor keeps restarting it.
      if (ev.up) {
        ctx.clearFault(NGINX_FAULT, `Nginx serving again (${ev.cause})`);
        return;
      }
      const tracking = Object.entries(ctx.config.instances).filter(([, i]) => i.track_nginx === true || (typeof i.track_nginx === 'object' && i.track_nginx.weight === undefined)).map(([n]) => n);
      const weighted = Object.entries(ctx.config.instances).filter(([, i]) => typeof i.track_nginx === 'object' && i.track_nginx.weight !== undefined).map(([n]) => n);
      const held = [tracking.length ? `${tracking.join(', ')} in FAULT` : '', weighted.length ? `${weighted.join(', ')} demoted` : ''].filter(Boolean).join(', ');
      ctx.reportFault({
        id: NGINX_FAULT,
        feature: 'nginx',
        reason: `Nginx not serving (${ev.cause}); ${held || 'no instance tracks it'}; the supervisor keeps restarting it`,
        instances: tracking,
      });
    });
    const r = await c.start();
    if (!r.ok) log.error(`initial apply failed at ${r.stage}: ${r.reason}`);
  }

  private async statusData(): Promise<unknown> {
    if (!this.controller) return { enabled: false };
    return this.controller.status();
  }

  async onConfigReloaded(ctx: DaemonContext): Promise<void> {
    const enabled = ctx.config.nginx.enabled;
    if (enabled && this.controller) {
      await this.controller.update(ctx.config.nginx);
    } else if (enabled) {
      await this.startController(ctx);
    } else if (this.controller) {
      await this.stopController();
      this.emitter.emit({ name: 'nginx', up: true, cause: 'Nginx control disabled', at: Date.now() });
    }
  }

  private async stopController(): Promise<void> {
    this.offHealth?.();
    this.offHealth = undefined;
    const c = this.controller;
    this.controller = undefined;
    await c?.stop();
  }

  featureStatus(): FeatureStatus | undefined {
    return this.controller ? { state: 'running' } : undefined;
  }

  async stop(): Promise<void> {
    await this.stopController();
    for (const u of this.unregister.splice(0)) u();
    this.ctx = undefined;
  }
}
