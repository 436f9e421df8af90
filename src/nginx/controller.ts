import { FeatureError } from '../lib/feature-failure';
import type { SubsystemLogger } from '../log';
import type { TrackEvent } from '../track';
import type { PolicySource } from '../exec';
import { NginxApplier, type ApplyResult } from './apply';
import { NginxHealth } from './health';
import { probeGeneration } from './proc';
import { ReloadScheduler } from './reload-scheduler';
import { pairKey, renderNginxConf } from './render';
import type { NginxConfig } from '../config/nginx/schema';
import { resolveSettings, type NginxSettings } from './settings';
import { NginxSupervisor } from './supervisor';
import { UpstreamChecks, type ServerCheckState } from './upstream-checks';
import { certificateAlarms, type CertificateAlarm } from './certificate-alarms';
import { FileWatch } from './file-watch';
import { tlsPairs } from '../config/nginx/local-files';
import { TlsStore, type CertificateFigure } from './tls-store';

export interface NginxControllerOptions {
  model: NginxConfig;
  log: SubsystemLogger;
  /** Script policy for upstream script checks (notify.enable_script_security, script_user). */
  scriptPolicy?: PolicySource;
  /** Where `<prefix>/modules` points (Debian: /usr/lib/nginx/modules). */
  modulesDir?: string;
  /** Certificate alarms raised and cleared (certificate-alarms.ts); the daemon puts them on its bus. */
  onAlarm?: (alarm: CertificateAlarm) => void;
}

export interface NginxStatus {
  enabled: true;
  pid: number | null;
  adopted: boolean;
  healthy: boolean | null;
  generation: string | null;
  serving: string | null;
  last_apply: ApplyResult | null;
  down: string[];
  fail_open: string[];
  upstreams: ServerCheckState[];
  stub_status: Record<string, number> | null;
  last_death: { pid: number; cause: string; at: number } | null;
  certificates: CertificateFigure[];
}

/**
 * Nginx control without the daemon around it: render -> safe apply (coalesced, rate-limited) ->
 * supervise -> health track, and active upstream checks feeding `down` marks back through the
 * same apply path. The daemon Extension (extension.ts) and the integration tests drive this.
 */
export class NginxController {
  readonly health: NginxHealth;
  readonly applier: NginxApplier;
  readonly supervisor: NginxSupervisor;
  private readonly checks: UpstreamChecks;
  private readonly scheduler: ReloadScheduler<ApplyResult>;
  private model: NginxConfig;
  private settings: NginxSettings;
  private readonly log: SubsystemLogger;
  private lastDown: string[] = [];
  private lastFailOpen: string[] = [];
  private stopped = false;
  private readonly tls: TlsStore;
  private readonly fileWatch: FileWatch;
  private pollTimer: NodeJS.Timeout | undefined;
  private certChain: Promise<unknown> = Promise.resolve();
  private readonly activeAlarms = new Map<string, CertificateAlarm>();
  private readonly onAlarm: ((a: CertificateAlarm) => void) | undefined;
  readonly certificateCounters = { looks: 0, rotations: 0, refused: 0 };

  constructor(opts: NginxControllerOptions) {
    this.model = opts.model;
    this.settings = resolveSettings(opts.model);
    this.log = opts.log;
    this.applier = new NginxApplier({ settings: this.settings, log: opts.log, ...(opts.modulesDir ? { modulesDir: opts.modulesDir } : {}) });
    this.supervisor = new NginxSupervisor({ settings: this.settings, paths: this.applier.paths, log: opts.log });
    this.health = new NginxHealth(this.settings, () => this.supervisor.alive);
    this.checks = new UpstreamChecks((ev, group) => this.onServerCheck(ev, group), opts.scriptPolicy);
    this.scheduler = new ReloadScheduler((reasons) => this.applyNow(reasons), this.settings.reload.minIntervalMs, (r) => r.ok && r.reloaded);
    this.tls = new TlsStore(this.applier.paths.tlsDir);
    this.fileWatch = new FileWatch(() => void this.lookAtCertificates('certificate files changed'));
    this.onAlarm = opts.onAlarm;
  }

  /**
   * Re-reads every certificate/key pair; a rotated pair that passes the checks is applied through
   * the safe path, and one `nginx -t` refuses is reverted to the last good copy. Serialised: one
   * look (and its apply) at a time.
   */
  lookAtCertificates(cause: string): Promise<ApplyResult | undefined> {
    return this.serialCertificates(async () => {
      this.certificateCounters.looks++;
      const { changed, invalid } = await this.tls.refresh(this.model);
      for (const key of invalid) {
        const f = this.certificateFigures().find((x) => pairKey(x.certificate_file, x.key_file) === key);
        this.log.error(`certificate ${f?.certificate_file ?? key} refused (${cause}), the last good pair keeps serving: ${f?.error ?? ''}`);
      }
      if (changed.length === 0) return undefined;
      const files = changed.map((k) => k.split('\n')[0]).join(', ');
      return this.applyTracking(changed, `${cause}: ${files}`);
    });
  }

  private serialCertificates<T>(body: () => Promise<T>): Promise<T | undefined> {
    const run = this.certChain.then(async () => {
      if (this.stopped) return undefined;
      try {
        return await body();
      } finally {
        this.raiseAlarms();
      }
    });
    this.certChain = run.catch(() => {});
    return run;
  }

  /**
   * Applies after the certificate copies of `changed` were renewed. When `nginx -t` (or the
   * reload) names one of the new copies, that content is reverted to the last good copy and not
   * tried again until the files change; a failure that names none of them leaves them alone.
   */
  private async applyTracking(changed: string[], reason: string): Promise<ApplyResult> {
    const result = await this.scheduler.request(reason);
    if (result.ok) {
      this.certificateCounters.rotations += changed.length;
      await this.tls.prune();
      return result;
    }
    const copies = this.tls.copies();
    const blamed = changed.filter((k) => {
      const c = copies.get(k);
      return c !== undefined && (result.reason.includes(c.certificate) || result.reason.includes(c.key));
    });
    if (blamed.length > 0) {
      this.certificateCounters.refused += blamed.length;
      this.tls.revert(blamed, `refused at ${result.stage}: ${result.reason.split('\n')[0]}`);
      this.log.error(`new certificate ${blamed.map((k) => k.split('\n')[0]).join(', ')} refused at ${result.stage}; the last good pair keeps serving`);
      // The good generation still serves (nginx -t refused, or the applier rolled back); this
      // renders it again, so it reloads nothing unless Nginx needs it.
      await this.scheduler.request('certificates reverted');
    }
    return result;
  }

  private raiseAlarms(): void {
    for (const a of certificateAlarms(this.activeAlarms, this.certificateFigures(), this.settings.certificates.alarmDays)) {
      (a.active ? this.log.warn : this.log.info).call(this.log, `alarm ${a.id} ${a.active ? 'raised' : 'cleared'}: ${a.message}`);
      this.onAlarm?.(a);
    }
  }

  /** Days to expiry and state of every certificate of the model. */
  certificateFigures(): CertificateFigure[] {
    return this.tls.figures(this.settings.certificates.alarmDays);
  }

  private watchCertificates(): void {
    this.fileWatch.watch(tlsPairs(this.model).flatMap(({ tls }) => [tls.certificate_file, tls.key_file]));
    clearInterval(this.pollTimer);
    this.pollTimer = setInterval(() => void this.lookAtCertificates('periodic look'), this.settings.certificates.pollIntervalMs);
    this.pollTimer.unref();
  }

  /** Renders and applies, starts (or adopts) Nginx, then the health track and the upstream checks. */
  async start(): Promise<ApplyResult> {
    await this.applier.preparePrefix();
    await this.applier.adoptServing();
    await this.tls.refresh(this.model);
    const first = await this.scheduler.request('start');
    this.raiseAlarms();
    this.watchCertificates();
    const started = await this.supervisor.start();
    if (started.ok && !started.adopted && first.ok) {
      const seen = await this.waitServing(first.generation, this.settings.reload.verifyTimeoutMs);
      if (!seen) this.log.warn(`Nginx ${started.pid} started but generation ${first.generation} is not answering on the status endpoint yet`);
    } else if (!started.ok) {
      // Fail loudly: Nginx control configured and no Nginx running is not a start (the daemon
      // exits with the reason; "spawn /usr/sbin/nginx ENOENT" names the call and the errno).
      throw new FeatureError(started.error);
    }
    this.health.start();
    this.checks.sync(this.model.upstreams ?? {});
    return first;
  }

  private async waitServing(generation: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await probeGeneration(this.settings.status.address, this.settings.status.port, 1000)) === generation) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  /** A new model (config reload): re-render and apply through the same safe path. */
  async update(model: NginxConfig): Promise<ApplyResult> {
    const next = resolveSettings(model);
    if (next.prefix !== this.settings.prefix || next.binary !== this.settings.binary) {
      this.log.warn(`nginx.prefix/binary changed; keeps ${this.settings.prefix} with ${this.settings.binary} until twinvip restarts`);
      next.prefix = this.settings.prefix;
      next.binary = this.settings.binary;
    }
    this.model = model;
    this.settings = next;
    this.applier.updateSettings(next);
    this.supervisor.updateSettings(next);
    this.scheduler.setMinInterval(next.reload.minIntervalMs);
    this.checks.sync(model.upstreams ?? {});
    this.watchCertificates();
    const result = await this.serialCertificates(async () => {
      const { changed } = await this.tls.refresh(model);
      return changed.length > 0 ? this.applyTracking(changed, 'config reloaded') : this.scheduler.request('config reloaded');
    });
    return result ?? { ok: false, stage: 'prepare', reason: 'Nginx control stopping', kept: this.applier.goodGeneration, rolledBack: false, durationMs: 0, at: Date.now() };
  }

  /** Coalesced, rate-limited apply of the current model and check states. */
  requestApply(reason: string): Promise<ApplyResult> {
    return this.scheduler.request(reason);
  }

  private onServerCheck(ev: TrackEvent, group: string): void {
    if (this.stopped) return;
    this.log.warn(`upstream ${ev.name}: ${ev.up ? 'up' : 'down'} (${ev.cause})`, { group });
    void this.requestApply(`upstream ${ev.name} ${ev.up ? 'up' : 'down'}`);
  }

  private async applyNow(reasons: string[]): Promise<ApplyResult> {
    const reason = [...new Set(reasons)].join(', ');
    const rendered = renderNginxConf({ model: this.model, settings: this.settings, failing: this.checks.failing(), certificates: this.tls.copies() });
    if (!rendered.ok) {
      this.log.error(`cannot render nginx.conf (${reason}): ${rendered.error}`);
      return { ok: false, stage: 'prepare', reason: rendered.error, kept: this.applier.goodGeneration, rolledBack: false, durationMs: 0, at: Date.now() };
    }
    if (rendered.failOpen.join() !== this.lastFailOpen.join()) {
      for (const g of rendered.failOpen) this.log.error(`every server of upstream ${g} fails its check: none marked down (fail open; Nginx's passive checks decide)`);
      this.lastFailOpen = rendered.failOpen;
    }
    const result = await this.applier.apply(rendered.text, rendered.generation, reason);
    if (result.ok) this.lastDown = rendered.down;
    return result;
  }

  status(): Promise<NginxStatus> {
    return (async () => {
      const serving = await probeGeneration(this.settings.status.address, this.settings.status.port, 500);
      const stub = this.health.stubStatus;
      return {
        enabled: true as const,
        pid: this.supervisor.pid ?? null,
        adopted: this.supervisor.isAdopted,
        healthy: this.health.up ?? null,
        generation: this.applier.goodGeneration ?? null,
        serving: serving ?? null,
        last_apply: this.applier.lastResult ?? null,
        down: this.lastDown,
        fail_open: this.lastFailOpen,
        upstreams: this.checks.states(),
        stub_status: stub ? { ...stub } : null,
        last_death: this.supervisor.lastDeath ?? null,
        certificates: this.certificateFigures(),
      };
    })();
  }

  /** What status() says, without the live probe: for views that must answer synchronously. */
  snapshot() {
    return {
      pid: this.supervisor.pid ?? null,
      healthy: this.health.up ?? null,
      generation: this.applier.goodGeneration ?? null,
      last_apply: this.applier.lastResult ?? null,
      upstreams: this.checks.states(),
      certificates: this.certificateFigures(),
    };
  }

  counters(): Record<string, number> {
    const stub = this.health.stubStatus;
    return {
      ...prefixed('apply_', this.applier.counters),
      ...prefixed('master_', this.supervisor.counters),
      healthy: this.health.up === true ? 1 : 0,
      servers_down: this.lastDown.length,
      groups_fail_open: this.lastFailOpen.length,
      ...(stub ? { active_connections: stub.active, requests: stub.requests } : {}),
      ...prefixed('certificate_', this.certificateCounters),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.fileWatch.close();
    clearInterval(this.pollTimer);
    this.checks.stop();
    this.scheduler.stop();
    this.health.stop();
    await this.supervisor.stop();
  }
}

function prefixed(prefix: string, o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${prefix}${k}`, v]));
}
