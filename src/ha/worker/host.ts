// The daemon's side of the HA path: starts it in its own thread (dist/ha-worker.js, side.ts) and
// stands in for it on the main thread — its control commands, counters, instances and bus events
// are forwarded; the console, MQTT and the operator actions read a mirror of its state and send
// it actions. The main thread is never on the timing path of an advert or a serial frame: a
// multi-second task here delays only what the main thread shows and forwards.
//
// Where no worker file exists (the source tree) or TWINVIP_HA_THREAD=main is set (benchmarks,
// to compare), the same side runs on the main thread over a MessageChannel.

import { MessageChannel, Worker } from 'node:worker_threads';
import { CommandError } from '../../control';
import type { DaemonContext, Extension } from '../../daemon/extension';
import type { FeatureStatus } from '../../daemon/status';
import { FeatureError } from '../../lib/feature-failure';
import type { SubsystemLogger } from '../../log';
import type { TrackSource } from '../../track';
import type { InstanceEvent } from '../../vrrp/events';
import type { RequestResult } from '../heartbeat/serial-link';
import type { HeartbeatOff, HeartbeatStatus } from '../heartbeat/status';
import type { InstanceView } from '../vrrp/runner';
import type { FromHa, HaCall, HaEvent, HaPort, HaState, ToHa } from './protocol';
import { HA_WORKER_FILE, takeHaWorker } from './prewarm';
import { startMark } from '../../lib/start-marks';
import { dropStartBoost } from './start-boost';
import { MirrorReader, mirrorBuffer } from './mirror';
import { SocketPort } from './socket-port';
import { loadAddon } from '../../net/native';
// The HA side itself (VRRP, the serial heartbeat, the network code) is imported on the main
// thread only when it runs there: with the worker, the main isolate never loads it.
import type { HaSide } from './side';

const START_TIMEOUT_MS = 60_000;
const REFRESH_FRESH_MS = 100;
/** How often a refresh looks for the HA side's fresh copy, and how long it waits for one at most. */
const REFRESH_POLL_MS = 5;
const REFRESH_WAIT_MS = 2000;
const STOP_TIMEOUT_MS = 15_000;

/** What the operator actions and the console need of the VRRP runner, across the channel. */
export interface HaRunnerPort {
  views(): InstanceView[];
  /** Resolves when the HA side has applied the event (and the mirror shows its effect). */
  deliver(instance: string, event: InstanceEvent): Promise<void>[];
  /** The runner's monotonic clock (transition times in views are on it). */
  now(): number;
}

/** What the console, MQTT and `twinvip run` need of the serial heartbeat. */
export interface HeartbeatPort {
  status(): HeartbeatStatus | HeartbeatOff;
  requestPeer(what: string, timeoutMs?: number): Promise<RequestResult>;
  /** Answers the twin's serial request `what` from the main thread (the console's peer view, the diagnosis). */
  answerWith(what: string, answer: () => string | undefined | Promise<string | undefined>): void;
  /** The HA side's `pair` control command (first-boot pairing; the console's `pair`). */
  pair(args: Record<string, unknown>): Promise<unknown>;
}

export type HaThread = 'worker' | 'main';

export class HaExtension implements Extension {
  readonly name = 'ha';
  private port: HaPort | undefined;
  private worker: Worker | undefined;
  private inline: { side: HaSide; close: () => void } | undefined;
  /** The channel after the start message (socket-port.ts); the worker's MessagePort before. */
  private channel: SocketPort | undefined;
  private mirrored: HaState | undefined;
  /** Epoch ms (timeOrigin + now) at which the mirror was written by the HA side. */
  private mirrorAt = 0;
  /** The HA side's state in shared memory (mirror.ts): no message per update or per refresh. */
  private shared: MirrorReader<HaState> | undefined;

  /** The newest state the HA side published (shared memory first, else its last message). */
  private get mirror(): HaState | undefined {
    const s = this.shared?.take();
    if (s) this.setMirror(s, this.shared!.writtenAtMs);
    return this.mirrored;
  }
  private refreshing: Promise<void> | undefined;
  private log: SubsystemLogger | undefined;
  private ctx: DaemonContext | undefined;
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly unregister: (() => void)[] = [];
  private readonly answerers = new Map<string, () => string | undefined | Promise<string | undefined>>();
  private stopping = false;
  /** Why the worker died (uncaught error or exit), if it did: nothing it is asked answers any more. */
  private dead: string | undefined;
  private started: ((r: { ok: true } | { ok: false; error: Error }) => void) | undefined;
  private diedOf: string | undefined;

  /** Why the HA thread died while running, if it did (`twinvip run` then exits EXIT.INTERNAL). */
  get died(): string | undefined {
    return this.diedOf;
  }

  /** Where the HA path runs (status and the benchmark report it). */
  thread: HaThread = 'worker';

  /** @param nginx the local Nginx's health, for instances with `track_nginx`. */
  constructor(private readonly nginx?: TrackSource, private readonly opts: { thread?: HaThread } = {}) {}

  /** Whether a worker file exists beside the bundle (the source tree has none). */
  static workerAvailable(): boolean {
    return HA_WORKER_FILE !== undefined;
  }

  readonly runner: HaRunnerPort = {
    views: () => this.mirror?.views ?? [],
    deliver: (instance, event) => [this.call({ op: 'deliver', instance, event }).then(() => undefined)],
    now: () => performance.now() + performance.timeOrigin - (this.mirror?.timeOrigin ?? performance.timeOrigin),
  };

  readonly heartbeat: HeartbeatPort = {
    status: () => this.mirror?.heartbeat ?? { enabled: false },
    requestPeer: async (what, timeoutMs = 3000) => {
      if (!this.port) return { ok: false, error: 'stopped' };
      return (await this.call({ op: 'request-peer', what, timeoutMs })) as RequestResult;
    },
    answerWith: (what, answer) => {
      this.answerers.set(what, answer);
      this.send({ type: 'answerers', names: [...this.answerers.keys()] });
    },
    pair: async (args) => {
      if (!this.port) throw new Error('the HA path is not running');
      return await this.call({ op: 'command', name: 'pair', args });
    },
  };

  private alarmCause: ((instance: string | undefined) => string | undefined) | undefined;

  /** The split-brain diagnosis names the cause of the HA path's alarms when it knows one. */
  setAlarmCause(fn: (instance: string | undefined) => string | undefined): void {
    this.alarmCause = fn;
  }

  /** The HA side's counters as last mirrored, by group (the split-brain diagnosis samples them). */
  counters(): Record<string, Record<string, number>> {
    return this.mirror?.counters ?? {};
  }

  /** The HA side's state now, whatever the mirror's age (the diagnosis answering the twin). */
  async freshState(): Promise<void> {
    if (!this.port || this.stopping) return;
    await this.waitFresh(MirrorReader.now());
  }

  /** Runs one of the HA side's control commands (e.g. `heartbeat {probe: true}`) from the main thread. */
  command(name: string, args: Record<string, unknown>): Promise<unknown> {
    return this.call({ op: 'command', name, args });
  }

  /** The runner port while the HA path runs (undefined before start and after stop). */
  get vrrp(): HaRunnerPort | undefined {
    return this.mirror && this.port ? this.runner : undefined;
  }

  async start(ctx: DaemonContext): Promise<void> {
    this.ctx = ctx;
    this.log = ctx.logger.for('daemon');
    const thread: HaThread = this.opts.thread ?? (HaExtension.workerAvailable() && process.env.TWINVIP_HA_THREAD !== 'main' ? 'worker' : 'main');
    this.thread = thread;
    if (thread === 'worker') {
      // Started by the CLI before the daemon's modules were loaded (prewarm.ts), else now.
      const worker = takeHaWorker() ?? new Worker(HA_WORKER_FILE!);
      this.worker = worker;
      this.port = worker as unknown as HaPort;
      worker.on('error', (err) => this.onDeath(`uncaught error: ${err.message}`));
      worker.on('exit', (code) => this.onDeath(`exited with code ${code}`));
    } else {
      const { HaSide } = await import('./side');
      const { port1, port2 } = new MessageChannel();
      const side = new HaSide(port2 as unknown as HaPort);
      this.inline = { side, close: () => { port1.close(); port2.close(); } };
      this.port = port1 as unknown as HaPort;
    }
    this.port.on('message', (m: FromHa) => this.onMessage(m));
    // Every message after the start goes over a socket pair, not the worker's MessagePort (whose
    // mutex the real-time HA thread waited for: socket-port.ts). Without the addon (never in the
    // bundle), the MessagePort as before.
    let channelFd: number | undefined;
    if (this.worker) {
      try {
        const [mine, theirs] = loadAddon().socketPair();
        this.channel = new SocketPort(mine);
        this.channel.unref();
        this.channel.on('message', (m: FromHa) => this.onMessage(m));
        channelFd = theirs;
      } catch (err) {
        this.log.warn(`HA thread channel: no socket pair (${err instanceof Error ? err.message : String(err)}): messages go through the worker's MessagePort`);
      }
    }
    const sab = mirrorBuffer();
    this.shared = new MirrorReader<HaState>(sab);
    const done = new Promise<{ ok: true } | { ok: false; error: Error }>((resolve) => {
      this.started = resolve;
    });
    const timer = setTimeout(() => this.started?.({ ok: false, error: new Error(`HA thread gave no answer in ${START_TIMEOUT_MS / 1000} s`) }), START_TIMEOUT_MS);
    startMark('main-ha-start-sent');
    this.send({
      type: 'start',
      init: { configPath: ctx.configPath, config: ctx.config, configHash: ctx.configHash, startedAt: ctx.startedAt, pid: process.pid, controlSocket: ctx.config.control.socket, mirror: sab, channelFd },
    });
    if (this.channel) this.port = this.channel;
    // The main thread's part of the path to BACKUP is done: normal scheduling from here.
    dropStartBoost();
    const r = await done;
    clearTimeout(timer);
    if (!r.ok) {
      await this.close();
      throw r.error;
    }
    this.wire(ctx);
    // A graceful stop hands over first (src/ha/vrrp/extension.ts): the HA side's bus never sees
    // the daemon's 'stopping', so the side is stopped from here as soon as the daemon begins to
    // stop, not when the reverse-order stop reaches this extension after the features started
    // later (MQTT's farewell to a slow broker, the console, the diagnosis) have stopped.
    this.unregister.push(ctx.bus.on('stopping', () => void this.stopSide()));
    if (this.nginx) {
      this.unregister.push(this.nginx.on((e) => this.send({ type: 'nginx-health', up: e.up })));
      if (this.nginx.up !== undefined) this.send({ type: 'nginx-health', up: this.nginx.up });
    }
    if (this.answerers.size > 0) this.send({ type: 'answerers', names: [...this.answerers.keys()] });
    this.log.info(`HA path (VRRP, serial heartbeat) runs in ${thread === 'worker' ? 'its own thread' : 'the main thread'}`);
  }

  /** vrrp and heartbeat as the HA thread reports them (status, console, MQTT). */
  featureStatuses(): Record<string, FeatureStatus | undefined> {
    return this.mirror?.features ?? {};
  }

  /** The HA side's commands, counters and instances, forwarded. */
  private wire(ctx: DaemonContext): void {
    for (const c of this.mirror?.commands ?? []) {
      this.unregister.push(ctx.control.register(c.name, (args) => this.call({ op: 'command', name: c.name, args }), { summary: c.summary }));
    }
    for (const group of Object.keys(this.mirror?.counters ?? {})) {
      this.unregister.push(ctx.counters.add(group, () => this.mirror?.counters[group] ?? {}));
    }
    ctx.setInstanceLister(() => this.mirror?.instances ?? []);
  }

  /**
   * Fresh state from the HA side (the `status` command waits for it, a moment at most). A mirror
   * younger than REFRESH_FRESH_MS is fresh enough, and concurrent callers share one wait: a
   * flood of `status` requests (1,000/s in bench/ha-load) costs the HA thread at most one write
   * of its state to shared memory per REFRESH_FRESH_MS, and no message at all (mirror.ts).
   */
  refresh(): Promise<void> {
    if (!this.port || this.stopping) return Promise.resolve();
    void this.mirror;
    const now = MirrorReader.now();
    if (now - this.mirrorAt < REFRESH_FRESH_MS) return Promise.resolve();
    return this.waitFresh(now);
  }

  /**
   * Asks the HA side for a copy written at `since` or later and waits for it (polling shared
   * memory, never a message): at most REFRESH_WAIT_MS, then the mirror stays as it is (a stalled
   * or dead HA thread; status shows its last state and its stall alarm).
   */
  private waitFresh(since: number): Promise<void> {
    if (this.refreshing && this.refreshingSince <= since) {
      const mine = this.refreshing;
      return mine.then(() => (this.mirrorAt >= since ? undefined : this.waitFresh(since)));
    }
    const shared = this.shared;
    if (!shared) return Promise.resolve();
    this.refreshingSince = since;
    shared.want();
    const until = performance.now() + REFRESH_WAIT_MS;
    const p = new Promise<void>((resolve) => {
      const look = (): void => {
        void this.mirror;
        if (this.mirrorAt >= since || this.dead !== undefined || !this.port || performance.now() > until) return resolve();
        setTimeout(look, REFRESH_POLL_MS);
      };
      look();
    }).finally(() => {
      if (this.refreshing === p) this.refreshing = undefined;
    });
    this.refreshing = p;
    return p;
  }

  private refreshingSince = 0;

  private sideStopped: Promise<void> | undefined;

  /** The HA side's graceful stop (heartbeat release, priority 0, VIPs removed), once. */
  private stopSide(): Promise<void> {
    // A dead HA thread has nothing to stop (stop() closes it).
    if (this.dead !== undefined) return Promise.resolve();
    this.sideStopped ??= this.call({ op: 'stop' }).then(
      () => undefined,
      (err: Error) => this.log?.error(`HA path did not stop cleanly: ${err.message}`),
    );
    return this.sideStopped;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const u of this.unregister.splice(0)) u();
    if (!this.port) return;
    if (this.dead !== undefined) {
      // Nothing to ask: its VIPs are removed by the unit's `twinvip cleanup` or at the next start.
      await this.close();
      return;
    }
    const stopped = this.stopSide();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopped, new Promise((r) => (timer = setTimeout(r, STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
    await this.close();
  }

  onConfigReloaded(ctx: DaemonContext): void {
    this.send({ type: 'reload', config: ctx.config, configHash: ctx.configHash });
  }

  // ---------------------------------------------------------------------------------------

  private async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.port = undefined;
    this.channel?.close();
    this.channel = undefined;
    this.inline?.close();
    this.inline = undefined;
    if (w) {
      w.removeAllListeners('exit');
      w.removeAllListeners('error');
      await w.terminate();
    }
    for (const [, c] of this.calls) c.reject(new Error('HA path stopped'));
    this.calls.clear();
  }

  private send(m: ToHa): void {
    this.port?.postMessage(m);
  }

  private call(c: HaCall): Promise<unknown> {
    if (!this.port || this.dead !== undefined) return Promise.reject(new Error(this.dead !== undefined ? `HA thread ${this.dead}` : 'HA path not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.send({ type: 'call', id, ...c } as ToHa);
    });
  }

  private onMessage(m: FromHa): void {
    switch (m.type) {
      case 'started':
        startMark('main-ha-started');
        if (m.ok) this.setMirror(m.state);
        this.started?.(
          m.ok ? { ok: true } : { ok: false, error: new FeatureError(m.failure.message, { feature: m.failure.feature, call: m.failure.call, errno: m.failure.errno }) },
        );
        this.started = undefined;
        return;
      case 'fault':
        this.ctx?.reportFault(m.fault);
        return;
      case 'fault-cleared':
        this.ctx?.clearFault(m.id, m.message);
        return;
      case 'log':
        this.ctx?.logger.ingest(m.record);
        return;
      case 'event':
        this.forward(m);
        return;
      case 'state':
        this.setMirror(m.state);
        return;
      case 'reply': {
        const c = this.calls.get(m.id);
        this.calls.delete(m.id);
        if (!c) return;
        if (m.ok) {
          this.setMirror(m.state);
          c.resolve(m.value);
        } else c.reject(m.command ? new CommandError(m.error) : new Error(m.error));
        return;
      }
      case 'answer': {
        const answerer = this.answerers.get(m.what);
        void Promise.resolve()
          .then(() => answerer?.())
          .catch((err: unknown) => {
            this.log?.warn(`answering the twin's '${m.what}' request failed: ${err instanceof Error ? err.message : String(err)}`);
            return undefined;
          })
          .then((body) => this.send({ type: 'answered', id: m.id, body }));
        return;
      }
    }
  }

  /** @param writtenAt when the HA side wrote it to shared memory; undefined: it came in a message. */
  private setMirror(state: HaState, writtenAt?: number): void {
    // A message's state may be older than a copy already taken from shared memory: the next read
    // takes the newest again.
    if (writtenAt === undefined) this.shared?.reread();
    const before = this.mirrored ? pairingMode(this.mirrored.heartbeat) : undefined;
    this.mirrored = state;
    this.mirrorAt = Math.max(this.mirrorAt, writtenAt ?? MirrorReader.now());
    const after = pairingMode(state.heartbeat);
    if (before !== undefined && before !== after) for (const l of [...this.pairingListeners]) l(after);
  }

  private readonly pairingListeners = new Set<(mode: string) => void>();

  /**
   * Called when the serial heartbeat becomes paired or unpaired, or a pairing moves on (the
   * phase): the retained MQTT state republishes then, not at the next telemetry tick.
   */
  onPairingChanged(listener: (mode: string) => void): () => void {
    this.pairingListeners.add(listener);
    return () => this.pairingListeners.delete(listener);
  }

  private forward(e: HaEvent): void {
    const bus = this.ctx?.bus;
    if (!bus) return;
    switch (e.name) {
      case 'transition':
        return void bus.emit('transition', e.payload);
      case 'alarm': {
        const cause = e.payload.cause ?? this.alarmCause?.(e.payload.instance);
        return void bus.emit('alarm', cause ? { ...e.payload, cause } : e.payload);
      }
      case 'notify':
        return void bus.emit('notify', e.payload);
    }
  }

  /**
   * The HA thread died: nothing sends adverts or heartbeats any more while the VIPs may still be
   * on the box. Stop the daemon (SIGTERM to ourselves, the ordinary clean stop) so the service
   * manager restarts it; a new start removes stale VIPs first.
   */
  private onDeath(why: string): void {
    // Calls waiting on a dead thread never get their answer: the daemon's stop would otherwise
    // wait STOP_TIMEOUT_MS for it (seen: 'shutdown did not finish within 10000 ms', the VIPs
    // held that long by a box whose HA path was gone).
    if (this.dead === undefined) {
      this.dead = why;
      for (const [, c] of this.calls) c.reject(new Error(`HA thread ${why}`));
      this.calls.clear();
    }
    if (this.stopping) return;
    this.started?.({ ok: false, error: new Error(`HA thread ${why}`) });
    this.started = undefined;
    if (!this.mirror) return;
    this.log?.error(`HA thread ${why}: VRRP and the serial heartbeat stopped; stopping the daemon so it restarts`);
    this.ctx?.bus.emit('alarm', { id: 'ha-thread-died', active: true, severity: 'critical', message: `HA thread ${why}`, at: Date.now() });
    this.diedOf = why;
    process.kill(process.pid, 'SIGTERM');
  }
}

/** `paired`, `off` or `unpaired:<phase>`: what onPairingChanged watches in the heartbeat status. */
function pairingMode(h: HeartbeatStatus | HeartbeatOff): string {
  if (h.enabled) return 'paired';
  return h.unpaired ? `unpaired:${h.unpaired.phase}` : 'off';
}
