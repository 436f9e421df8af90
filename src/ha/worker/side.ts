// The HA path's side of the channel: runs the VRRP and serial heartbeat features (sockets,
// timers, state machines, VIP actions, the stall gate) with their own event bus, logger, counters
// and control commands, and talks to the daemon only through messages (protocol.ts). In the
// daemon it runs in a worker thread (entry.ts), so a long task of the main thread — a large
// request, a config validation, a console dump, a GC pause of the main heap — never delays an
// advert or a serial frame. The same code runs inline over a MessageChannel where no worker file
// exists (the source tree) or when TWINVIP_HA_THREAD=main asks for it (benchmarks).

import { CommandError, ControlServer, type CommandHandler } from '../../control/server';
import type { TwinvipConfig } from '../../config';
import { CounterRegistry } from '../../daemon/counters';
import { EventBus } from '../../daemon/events';
import type { DaemonContext } from '../../daemon/extension';
import type { Fault } from '../../daemon/daemon';
import type { DaemonStatus, InstanceStatus } from '../../daemon/status';
import { errnoOf } from '../../lib/feature-failure';
import { Logger } from '../../log';
import type { TrackListener, TrackSource } from '../../track';
import { VERSION } from '../../version';
import { HeartbeatExtension } from '../heartbeat/extension';
import { VrrpExtension } from '../vrrp/extension';
import type { FromHa, HaCall, HaInit, HaPort, HaState, ToHa } from './protocol';
import { debugHeap, threadMemory } from '../../lib/thread-memory';
import { startMark } from '../../lib/start-marks';
import { dropStartBoost } from './start-boost';
import { isMainThread } from 'node:worker_threads';
import { loadAddon } from '../../net/native';
import { HaThreadScheduling } from './scheduling';
import { MirrorWriter } from './mirror';
import { SocketPort } from './socket-port';

/** The local Nginx's health as the main thread reports it. */
class RemoteTrack implements TrackSource {
  readonly name = 'nginx';
  up: boolean | undefined;
  private readonly listeners = new Set<TrackListener>();
  on(listener: TrackListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    for (const l of [...this.listeners]) l({ name: 'nginx', up, cause: 'reported by the daemon', at: Date.now() });
  }
}

/** How often the main thread's mirror is refreshed besides after every transition and reply. */
const STATE_PERIOD_MS = 500;
/**
 * How often the HA side looks whether the main thread asked for a fresh mirror (mirror.ts): the
 * main thread never messages or wakes this thread for it, so a `status` waits up to this long.
 */
const WANT_CHECK_MS = 100;

export class HaSide {
  private cfg!: TwinvipConfig;
  private hash = '';
  private init!: HaInit;
  private loadedAt = 0;
  private reloads = 0;
  private readonly bus: EventBus;
  private logger!: Logger;
  private readonly counters = new CounterRegistry();
  private readonly commands = new Map<string, { handler: CommandHandler; summary: string }>();
  private lister: () => InstanceStatus[] = () => [];
  private readonly nginx = new RemoteTrack();
  private vrrp: VrrpExtension | undefined;
  private heartbeat: HeartbeatExtension | undefined;
  private scheduling: HaThreadScheduling | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private mirror: MirrorWriter | undefined;
  private publishedAt = 0;
  private publishedPairing: string | undefined;
  private statePending = false;
  private nextAnswerId = 1;
  private readonly answers = new Map<number, (body: string | undefined) => void>();
  private readonly answerNames = new Set<string>();
  private readonly faults = new Map<string, Omit<Fault, 'since'>>();

  constructor(private port: HaPort) {
    this.bus = new EventBus((event, err) => this.logger?.for('daemon').error(`listener of '${event}' failed`, { error: errMessage(err) }));
    port.on('message', (m: ToHa) => this.onMessage(m));
  }

  private post(m: FromHa): void {
    this.port.postMessage(m);
  }

  private onMessage(m: ToHa): void {
    switch (m.type) {
      case 'start':
        // From here every message goes over the socket pair (socket-port.ts); the parent port
        // stays open for whatever the main thread sent on it before.
        if (m.init.channelFd !== undefined) {
          const channel = new SocketPort(m.init.channelFd);
          channel.on('message', (x: ToHa) => this.onMessage(x));
          this.port = channel;
        }
        void this.start(m.init);
        return;
      case 'reload':
        void this.reload(m.config, m.configHash);
        return;
      case 'nginx-health':
        this.nginx.set(m.up);
        return;
      case 'answerers':
        for (const name of m.names) {
          if (this.answerNames.has(name)) continue;
          this.answerNames.add(name);
          this.heartbeat?.answerWith(name, () => this.askMain(name));
        }
        return;
      case 'answered':
        this.answers.get(m.id)?.(m.body);
        this.answers.delete(m.id);
        return;
      case 'call':
        void this.call(m.id, m);
        return;
    }
  }

  private async start(init: HaInit): Promise<void> {
    startMark('ha-start-received');
    // The start-up's real-time priority (start-boost.ts) only where the configuration wants real-time.
    if (init.config.scheduling.rt_priority === 0) dropStartBoost();
    this.init = init;
    if (init.mirror) this.mirror = new MirrorWriter(init.mirror);
    this.cfg = init.config;
    this.hash = init.configHash;
    this.loadedAt = Date.now();
    const logging = init.config.logging;
    this.logger = new Logger({ level: logging.level, format: logging.format, sink: () => {}, ringSize: 1 });
    this.logger.onRecord((record) => this.post({ type: 'log', record }));
    // The mirror first on a transition: listeners of the event on the main thread (sd_notify
    // STATUS, the console) read the state it shows.
    this.bus.on('transition', (payload) => {
      this.post({ type: 'state', state: this.publish() });
      this.post({ type: 'event', name: 'transition', payload });
    });
    this.bus.on('alarm', (payload) => {
      this.post({ type: 'event', name: 'alarm', payload });
      this.stateSoon();
    });
    this.bus.on('notify', (payload) => this.post({ type: 'event', name: 'notify', payload }));
    const ctx = this.context();
    const vrrp = new VrrpExtension(this.nginx);
    const heartbeat = new HeartbeatExtension(() => vrrp.vrrp, () => vrrp.gate);
    // As the daemon does for any feature (fail loudly): a configured feature that cannot start
    // is fatal. What started is stopped first (VIPs removed), then the daemon is told which
    // feature failed, the call and the errno.
    for (const [name, ext] of [['vrrp', vrrp], ['heartbeat', heartbeat]] as const) {
      try {
        await ext.start(ctx);
        if (name === 'vrrp') this.vrrp = vrrp;
        else this.heartbeat = heartbeat;
      } catch (err) {
        await (name === 'heartbeat' ? heartbeat.stop().catch(() => undefined) : undefined);
        await this.stop();
        this.post({ type: 'started', ok: false, failure: { feature: name, message: errMessage(err), ...errnoOf(err) } });
        return;
      }
    }
    // The `memory` command's HA part (src/commands/run.ts): this thread's isolate.
    ctx.control.register('ha-memory', () => threadMemory(), { summary: "the HA thread's V8 heap in MB (the memory command shows every thread)" });
    if (process.env.TWINVIP_DEBUG_HEAP === '1') {
      ctx.control.register('debug-ha-heap', (args) => debugHeap(args), { summary: 'debug: {gc, snapshot: dir} on the HA thread (TWINVIP_DEBUG_HEAP=1)' });
    }
    // TWINVIP_DEBUG_BUSY=1 only (tests): an uncaught error in the HA thread, as a bug would throw.
    if (process.env.TWINVIP_DEBUG_BUSY === '1') {
      ctx.control.register('debug-ha-crash', () => {
        setTimeout(() => {
          throw new Error('debug-ha-crash: thrown on purpose');
        }, 0);
        return { crashing: true };
      }, { summary: 'debug: throw an uncaught error in the HA thread (TWINVIP_DEBUG_BUSY=1)' });
      // A runaway HA thread (scheduling's RLIMIT_RTTIME safety net): on the CPU for {ms}, no sleep.
      ctx.control.register('debug-ha-spin', (args) => {
        const ms = Math.min(Math.max(Number(args.ms) || 0, 0), 5000);
        setTimeout(() => {
          const end = performance.now() + ms;
          while (performance.now() < end);
        }, 0);
        return { spinning_ms: ms };
      }, { summary: 'debug: keep the HA thread on the CPU for {ms} (TWINVIP_DEBUG_BUSY=1)' });
    }
    // This thread's priority (config `scheduling`, scheduling.ts), once its start-up is done: the
    // serial modules' loading is a burst the real-time safety net (RLIMIT_RTTIME) would count.
    this.scheduling = new HaThreadScheduling(loadAddon(), this.logger.for('daemon'), !isMainThread);
    // The start-up boost ends here; a refused real-time setting must not leave this thread on it.
    if (!isMainThread) dropStartBoost();
    this.scheduling.apply(this.cfg.scheduling);
    this.counters.add('ha_thread', () => this.scheduling?.counters() ?? {});
    // Stalls count from here: the start-up (the serial port's modules, the first open) is none.
    vrrp.gate?.start();
    // The mirror: written to shared memory every STATE_PERIOD_MS and when the main thread asks
    // (looked at every WANT_CHECK_MS); a message only where something happened (a transition, an
    // alarm, a pairing change, a reply) or where no shared buffer was given.
    this.stateTimer = setInterval(() => {
      const now = performance.now();
      if (now - this.publishedAt >= STATE_PERIOD_MS - WANT_CHECK_MS / 2) {
        this.scheduling?.check();
        this.publishSoon();
      } else if (this.mirror?.wanted()) this.publishSoon();
    }, this.mirror ? WANT_CHECK_MS : STATE_PERIOD_MS);
    this.stateTimer.unref();
    startMark('ha-started');
    this.post({ type: 'started', ok: true, state: this.publish() });
  }

  private async reload(config: TwinvipConfig, configHash: string): Promise<void> {
    this.cfg = config;
    this.hash = configHash;
    this.loadedAt = Date.now();
    this.reloads++;
    this.logger.configure({ level: config.logging.level, format: config.logging.format });
    this.scheduling?.apply(config.scheduling);
    const ctx = this.context();
    for (const [name, ext] of [['vrrp', this.vrrp], ['heartbeat', this.heartbeat]] as const) {
      if (!ext) continue;
      try {
        await ext.onConfigReloaded(ctx);
      } catch (err) {
        this.logger.for('daemon').error(`feature '${name}' failed to apply the reloaded config`, { error: errMessage(err) });
      }
    }
    this.post({ type: 'state', state: this.publish() });
  }

  private async call(id: number, c: HaCall): Promise<void> {
    try {
      const value = await this.perform(c);
      this.post({ type: 'reply', id, ok: true, value, state: this.publish() });
    } catch (err) {
      this.post({ type: 'reply', id, ok: false, error: errMessage(err), command: err instanceof CommandError });
    }
  }

  private async perform(c: HaCall): Promise<unknown> {
    switch (c.op) {
      case 'command': {
        const h = this.commands.get(c.name);
        if (!h) throw new CommandError(`unknown command '${c.name}'`);
        return await h.handler(c.args, { connectionId: 0, cmd: c.name });
      }
      case 'deliver': {
        const r = this.vrrp?.vrrp;
        if (!r) throw new Error('VRRP is not running');
        await Promise.all(r.deliver(c.instance, c.event));
        return undefined;
      }
      case 'request-peer':
        if (!this.heartbeat) return { ok: false, error: 'stopped' };
        return await this.heartbeat.requestPeer(c.what, c.timeoutMs);
      case 'state':
        return undefined;
      case 'stop':
        await this.stop();
        return undefined;
    }
  }

  /** Graceful stop: the heartbeat tells the twin first, then VRRP sends priority 0 and drops the VIPs. */
  private async stop(): Promise<void> {
    if (this.stateTimer) clearInterval(this.stateTimer);
    this.scheduling?.stop();
    for (const [name, ext] of [['heartbeat', this.heartbeat], ['vrrp', this.vrrp]] as const) {
      if (!ext) continue;
      try {
        await ext.stop();
      } catch (err) {
        this.logger.for('daemon').error(`feature '${name}' failed to stop cleanly`, { error: errMessage(err) });
      }
    }
    this.heartbeat = undefined;
    this.vrrp = undefined;
  }

  private askMain(what: string): Promise<string | undefined> {
    const id = this.nextAnswerId++;
    return new Promise((resolve) => {
      // The main thread may be busy: the twin's request times out on its side meanwhile.
      const timer = setTimeout(() => {
        this.answers.delete(id);
        resolve(undefined);
      }, 2000);
      this.answers.set(id, (body) => {
        clearTimeout(timer);
        resolve(body);
      });
      this.post({ type: 'answer', id, what });
    });
  }

  private stateSoon(): void {
    if (this.statePending) return;
    this.statePending = true;
    queueMicrotask(() => {
      this.statePending = false;
      this.post({ type: 'state', state: this.publish() });
    });
  }

  /**
   * The periodic and requested mirror: shared memory only, unless it does not fit or the pairing
   * changed (the main thread republishes its retained MQTT state on that: a message wakes it).
   */
  private publishSoon(): void {
    const state = this.state();
    const pairing = pairingMode(state.heartbeat);
    const changed = this.publishedPairing !== undefined && pairing !== this.publishedPairing;
    if (!this.write(state) || changed) this.post({ type: 'state', state });
  }

  /** The state now, written to the shared mirror too (for a message that carries it). */
  private publish(): HaState {
    const state = this.state();
    this.write(state);
    return state;
  }

  private write(state: HaState): boolean {
    this.publishedAt = performance.now();
    this.publishedPairing = pairingMode(state.heartbeat);
    return this.mirror?.write(state) ?? false;
  }

  private state(): HaState {
    return {
      views: this.vrrp?.vrrp?.views() ?? [],
      instances: this.lister(),
      counters: this.counters.snapshot(),
      heartbeat: this.heartbeat?.status() ?? { enabled: false },
      features: { vrrp: this.vrrp?.featureStatus(), heartbeat: this.heartbeat?.featureStatus(), ha_thread: this.scheduling?.featureStatus() },
      commands: [...this.commands].map(([name, c]) => ({ name, summary: c.summary })),
      timeOrigin: performance.timeOrigin,
    };
  }

  private control: ControlServer | undefined;

  /** A control server that never listens: the HA side's commands, answered through the channel. */
  private registrar(): ControlServer {
    if (this.control) return this.control;
    const server = new ControlServer({ log: this.logger.for('control') });
    const register = server.register.bind(server);
    server.register = (cmd, handler, opts = {}) => {
      const undo = register(cmd, handler, opts);
      const entry = { handler, summary: opts.summary ?? '' };
      this.commands.set(cmd, entry);
      return () => {
        undo();
        if (this.commands.get(cmd) === entry) this.commands.delete(cmd);
      };
    };
    this.control = server;
    return server;
  }

  private context(): DaemonContext {
    const self = this;
    return {
      get config() {
        return self.cfg;
      },
      get configHash() {
        return self.hash;
      },
      configPath: this.init.configPath,
      logger: this.logger,
      bus: this.bus,
      control: this.registrar(),
      counters: this.counters,
      startedAt: this.init.startedAt,
      status: () => this.status(),
      reload: async () => ({ ok: false, errors: ['a reload is the daemon\'s, not the HA path\'s'], keptHash: this.hash }),
      setInstanceLister: (l) => {
        this.lister = l;
      },
      reportFault: (fault: Omit<Fault, 'since'>) => {
        this.faults.set(fault.id, fault);
        this.post({ type: 'fault', fault });
      },
      clearFault: (id: string, message: string) => {
        this.faults.delete(id);
        this.post({ type: 'fault-cleared', id, message });
      },
    };
  }

  /** The daemon's status as the HA side knows it (the twin's serial `status` request). */
  private status(): DaemonStatus {
    const now = Date.now();
    return {
      node: this.cfg.node.name,
      version: VERSION,
      pid: this.init.pid,
      started_at: new Date(this.init.startedAt).toISOString(),
      uptime_s: Math.round((now - this.init.startedAt) / 1000),
      config: { path: this.init.configPath, hash: this.hash, loaded_at: new Date(this.loadedAt).toISOString(), reloads: this.reloads, refused_reloads: 0 },
      control: { socket: this.init.controlSocket, clients: 0 },
      health: this.faults.size === 0 ? { state: 'ok', reasons: [] } : { state: 'degraded', reasons: [...this.faults.values()].map((f) => f.reason) },
      features: Object.fromEntries(
        Object.entries({ vrrp: this.vrrp?.featureStatus(), heartbeat: this.heartbeat?.featureStatus(), ha_thread: this.scheduling?.featureStatus() }).filter((e): e is [string, NonNullable<(typeof e)[1]>] => e[1] !== undefined),
      ),
      instances: this.lister(),
      counters: this.counters.snapshot(),
    };
  }
}

/** `paired`, `off` or `unpaired:<phase>`, as host.ts's onPairingChanged compares them. */
function pairingMode(h: HaState['heartbeat']): string {
  if (h.enabled) return 'paired';
  return h.unpaired ? `unpaired:${h.unpaired.phase}` : 'off';
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
