// `twinvip fleet status|watch|maintenance`: the fleet from outside, over MQTT only (an operator's
// laptop, a monitoring server). It reads the boxes' retained status and state, groups them into
// pairs (src/fleet/monitor.ts), prints one line per pair and publishes what it detects as retained
// alarms under its own prefix, so other tools see them. It keeps no state of its own: everything
// it knows comes from retained messages, so any number of them can run, anywhere.
import { parseArgs } from 'node:util';
import { FleetClient } from '../fleet/client';
import { loadPrivateKey } from '../fleet/keys';
import { DEFAULT_MONITOR_OPTIONS, FleetMonitor, problemKey, type FleetReport, type PairReport, type Problem } from '../fleet/monitor';
import { redactUrlCredentials } from '../log/redact';
import { BROKER_ARG_SPEC, BROKER_USAGE, brokerOptions } from './broker-options';
import { cliMessages } from './cli-messages';

const USAGE = `usage: twinvip fleet status|watch [options]
       twinvip fleet maintenance PAIR... --key FILE [options]

  status        read every box's retained status and state, print one line per pair (and its
                problems), publish the fleet alarms; exit 0 all pairs healthy, 1 a pair is not
                (or no box at all was found), 3 no broker
  watch         the same, redrawn live (a terminal) or, with --json or into a pipe, one line per
                alarm raised or cleared
  maintenance   rolling maintenance, one box at a time: for each box of each PAIR, maintenance on
                (signed), wait until its twin holds every instance, maintenance off, wait until the
                pair is healthy again; stops at the first pair that does not recover

Detected from outside: both twins MASTER for one instance (split-brain, after --split-grace),
a box offline (its last will), twins whose shared config or version differ (drift), an
instance no online box holds (after --holder-grace), a box without its twin.

options:
${BROKER_USAGE}
  --root PREFIX         the boxes' topic root: boxes are PREFIX<node>/ (default twinvip/)
  --alarms PREFIX       where fleet alarms are published, retained (default twinvip-fleet/);
                        --no-publish to publish nothing
  --split-grace MS      both MASTER this long is split-brain (default ${DEFAULT_MONITOR_OPTIONS.splitGraceMs})
  --holder-grace MS     no holder this long is a problem (default ${DEFAULT_MONITOR_OPTIONS.holderGraceMs})
  --problems            print only the pairs with a problem
  --json                machine-readable: status prints the whole report; watch one JSON line per event
  --key FILE            (maintenance) Ed25519 key with the operator role
  --timeout S           (maintenance) seconds to wait for each step (default 120)
`;

type Values = Record<string, string | boolean | undefined>;

export async function fleetCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...BROKER_ARG_SPEC, root: { type: 'string' }, alarms: { type: 'string' }, 'no-publish': { type: 'boolean' },
        'split-grace': { type: 'string' }, 'holder-grace': { type: 'string' }, problems: { type: 'boolean' }, json: { type: 'boolean' },
        key: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return usage((err as Error).message);
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [verb, ...rest] = positionals;
  if (verb !== 'status' && verb !== 'watch' && verb !== 'maintenance') return usage('status, watch or maintenance');
  if (verb !== 'maintenance' && rest.length > 0) return usage(`'${verb}' takes no arguments`);
  if (verb === 'maintenance' && (rest.length === 0 || !o.key)) return usage('maintenance needs PAIR... and --key FILE');
  const splitGraceMs = Number(o['split-grace'] ?? DEFAULT_MONITOR_OPTIONS.splitGraceMs);
  const holderGraceMs = Number(o['holder-grace'] ?? DEFAULT_MONITOR_OPTIONS.holderGraceMs);
  if (!(splitGraceMs >= 0) || !(holderGraceMs >= 0)) return usage('--split-grace and --holder-grace take milliseconds >= 0');
  const root = withSlash(o.root ?? 'twinvip/');
  const alarmsPrefix = o['no-publish'] ? undefined : withSlash(o.alarms ?? 'twinvip-fleet/');
  if (/[+#]/.test(root) || (alarmsPrefix && /[+#]/.test(alarmsPrefix))) return usage('--root and --alarms take a topic prefix without wildcards');
  const b = await brokerOptions(o);
  if (!b.ok) return b.usage ? usage(b.error) : fail(3, b.error);

  let client: FleetClient;
  try {
    client = await FleetClient.connect({ ...b.opts, clientId: `twinvip-fleet-${process.pid}-${Date.now() % 100000}` });
  } catch (err) {
    return fail(3, (err as Error).message);
  }
  const view = new FleetView(client, root, alarmsPrefix, new FleetMonitor({ splitGraceMs, holderGraceMs }));
  try {
    await view.start();
    if (verb === 'status') return await statusOnce(view, o);
    if (verb === 'watch') return await watch(view, o);
    return await rollingMaintenance(view, client, rest, o, root);
  } catch (err) {
    return fail(3, `${(err as Error).message} (broker ${redactUrlCredentials(b.opts.url)})`);
  } finally {
    view.stop();
    await client.close();
  }
}

/** The monitor fed from the broker, and the fleet alarms it keeps published. */
class FleetView {
  /** Alarm keys retained under the alarm prefix (ours or an earlier run's), with their text. */
  private readonly published = new Map<string, string>();
  private off: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private changeListeners = new Set<() => void>();

  constructor(
    readonly client: FleetClient,
    readonly root: string,
    readonly alarmsPrefix: string | undefined,
    readonly monitor: FleetMonitor,
  ) {}

  async start(): Promise<void> {
    this.off = this.client.onMessage((topic, payload, retained) => this.message(topic, payload, retained));
    const filters = [`${this.root}+/status`, `${this.root}+/state`];
    if (this.alarmsPrefix) filters.push(`${this.alarmsPrefix}alarm/#`);
    await this.client.watch(filters);
    // Every retained message of those subscriptions has arrived once our own marker does.
    await this.client.synced(`${this.alarmsPrefix ?? 'twinvip-fleet/'}sync/${this.client.clientId}`);
  }

  stop(): void {
    this.off?.();
    clearInterval(this.timer);
  }

  onChange(fn: () => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  /** Evaluates every `ms` too (grace periods end without a message). */
  tick(ms: number, fn: () => void): void {
    this.timer = setInterval(fn, ms);
  }

  report(): FleetReport {
    return this.monitor.report(Date.now());
  }

  /** Publishes the alarms of this report and clears those that no longer hold. */
  async publishAlarms(r: FleetReport): Promise<void> {
    if (!this.alarmsPrefix) return;
    const now = new Map(r.problems.map((p) => [problemKey(p), p]));
    const sends: Promise<void>[] = [];
    for (const [key, p] of now) {
      const text = JSON.stringify(alarmDocument(p));
      const old = this.published.get(key);
      // Re-published only when it is new or what it says changed (not for its growing duration).
      if (old !== undefined && sameAlarm(old, p)) continue;
      this.published.set(key, text);
      sends.push(this.client.publish(`${this.alarmsPrefix}alarm/${key}`, text, { qos: 1, retain: true }));
    }
    for (const key of [...this.published.keys()]) {
      if (now.has(key)) continue;
      this.published.delete(key);
      sends.push(this.client.publish(`${this.alarmsPrefix}alarm/${key}`, '', { qos: 1, retain: true }));
    }
    await Promise.all(sends);
  }

  private message(topic: string, payload: Buffer, retained: boolean): void {
    if (this.alarmsPrefix && topic.startsWith(`${this.alarmsPrefix}alarm/`)) {
      const key = topic.slice(`${this.alarmsPrefix}alarm/`.length);
      if (payload.length === 0) this.published.delete(key);
      else if (!this.published.has(key)) this.published.set(key, payload.toString('utf8'));
      return;
    }
    if (!topic.startsWith(this.root)) return;
    const rest = topic.slice(this.root.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return;
    const key = topic.slice(0, this.root.length + slash + 1);
    const leaf = rest.slice(slash + 1);
    const text = payload.toString('utf8');
    if (leaf === 'status') this.monitor.status(key, text, Date.now(), retained);
    else if (leaf === 'state') this.monitor.state(key, text, retained);
    else return;
    for (const fn of this.changeListeners) fn();
  }
}

function alarmDocument(p: Problem): Record<string, unknown> {
  return { kind: p.kind, pair: p.pair, ...(p.instance ? { instance: p.instance } : {}), ...(p.node ? { node: p.node } : {}), severity: p.severity, since: new Date(p.since).toISOString(), message: p.message };
}

function sameAlarm(text: string, p: Problem): boolean {
  try {
    const old = JSON.parse(text) as Record<string, unknown>;
    return old.kind === p.kind && old.since === new Date(p.since).toISOString();
  } catch {
    return false;
  }
}

async function statusOnce(view: FleetView, o: Values): Promise<number> {
  const r = view.report();
  await view.publishAlarms(r);
  if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else process.stdout.write(render(r, o.problems === true));
  // A check that sees nothing must not say OK (a wrong --root, a broker ACL hiding the boxes).
  if (r.boxes === 0) return fail(1, `no box under ${view.root} (wrong --root, or the broker's ACL hides the boxes' status and state?)`);
  return r.healthy ? 0 : 1;
}

async function watch(view: FleetView, o: Values): Promise<number> {
  const tty = process.stdout.isTTY && !o.json;
  let active = new Map<string, Problem>();
  let dirty = true;
  const evaluate = () => {
    const r = view.report();
    void view.publishAlarms(r).catch(() => {});
    const now = new Map(r.problems.map((p) => [problemKey(p), p]));
    if (tty) {
      if (dirty || r.problems.length > 0) process.stdout.write(`\x1b[H\x1b[2J${render(r, o.problems === true)}`);
    } else {
      for (const [k, p] of now) if (!active.has(k)) event('raised', p, o);
      for (const [k, p] of active) if (!now.has(k)) event('cleared', p, o);
    }
    active = now;
    dirty = false;
  };
  // Messages re-evaluate at the end of the current turn (a burst of them, once); a tick every
  // 100 ms ends the grace periods no message ends (split-brain is flagged within 100 ms of its
  // grace being over).
  let queued = false;
  view.onChange(() => {
    dirty = true;
    if (tty || queued) return;
    queued = true;
    setImmediate(() => {
      queued = false;
      evaluate();
    });
  });
  if (!tty) {
    const r = view.report();
    const at = new Date().toISOString();
    process.stdout.write(o.json ? `${JSON.stringify({ event: 'synced', at, pairs: r.pairs.length, boxes: r.boxes })}\n` : `${at} watching ${r.pairs.length} pair(s), ${r.boxes} box(es)\n`);
  }
  evaluate();
  view.tick(tty ? 1000 : 100, evaluate);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  return 0;
}

function event(kind: 'raised' | 'cleared', p: Problem, o: Values): void {
  const at = new Date().toISOString();
  if (o.json) process.stdout.write(`${JSON.stringify({ event: kind, at, key: problemKey(p), ...alarmDocument(p) })}\n`);
  else process.stdout.write(`${at} ${kind === 'raised' ? 'ALARM' : 'clear'} ${p.pair}: ${p.kind}: ${p.message}\n`);
}

/** One line per pair, its problems indented below it. */
export function render(r: FleetReport, onlyProblems: boolean): string {
  const lines: string[] = [];
  const pairs = onlyProblems ? r.pairs.filter((p) => !p.healthy) : r.pairs;
  const bad = r.pairs.filter((p) => !p.healthy).length;
  lines.push(`${r.pairs.length} pair(s), ${r.boxes} box(es), ${bad} with problems, at ${new Date(r.at).toISOString()}`);
  for (const p of pairs) {
    lines.push(pairLine(p, r.at));
    for (const x of p.problems) lines.push(`    ! ${x.kind}: ${x.message}`);
  }
  return `${lines.join('\n')}\n`;
}

function pairLine(p: PairReport, now: number): string {
  const boxes = p.boxes.map((b) => {
    const seen = b.last_seen === null ? '?' : `${Math.max(0, Math.round((now - b.last_seen) / 1000))}s`;
    const up = b.online === true ? 'up' : b.online === false ? 'OFFLINE' : '?';
    const alarms = b.alarms.length ? ` alarms:${b.alarms.join(',')}` : '';
    return `${b.node} ${up} v${b.version ?? '?'} cfg:${b.shared_config_hash ?? '?'} seen:${seen}${alarms}`;
  });
  const inst = p.instances.map((i) => `${i.name}:${i.holders.length ? i.holders.join('+') : '-'}`).join(' ');
  return `${p.healthy ? 'OK  ' : 'BAD '} ${p.id}  [${boxes.join(' | ')}]  ${inst}`;
}

/** One box at a time: maintenance on, its twin holds everything, maintenance off, healthy again. */
async function rollingMaintenance(view: FleetView, client: FleetClient, pairs: string[], o: Values, root: string): Promise<number> {
  const k = await loadPrivateKey(String(o.key));
  if (!k.ok) return fail(3, k.error);
  const timeoutMs = Number(o.timeout ?? 120) * 1000;
  if (!(timeoutMs > 0)) return usage('--timeout takes seconds > 0');
  const say = (s: string) => process.stderr.write(`${new Date().toISOString()} ${s}\n`);
  const pairOf = (id: string) => view.report().pairs.find((p) => p.id === id);
  for (const id of pairs) {
    const first = pairOf(id);
    if (!first) return fail(1, `pair ${id}: not on the broker`);
    if (!first.healthy) return fail(1, `pair ${id} is not healthy; not starting: ${first.problems.map((x) => x.message).join('; ')}`);
    for (const node of first.boxes.map((b) => b.node)) {
      const twin = first.boxes.find((b) => b.node !== node)?.node;
      say(`${id}: ${node}: maintenance on`);
      const on = await client.request({ node, prefix: `${root}{node}/` }, 'maintenance', { on: true }, { signingKey: k.key, timeoutMs: 30_000 });
      if (on.response.status !== 'ok') return fail(1, `${id}: ${node}: maintenance on refused: ${on.response.error ?? ''}`);
      const handed = await until(view, timeoutMs, () => {
        const p = pairOf(id);
        return p !== undefined && p.instances.every((i) => i.holders.length === 1 && i.holders[0] === twin);
      });
      if (!handed) return fail(1, `${id}: ${twin ?? 'the twin'} did not take every instance within ${timeoutMs / 1000} s; ${node} left in maintenance`);
      say(`${id}: ${node}: ${twin} holds every instance; maintenance off`);
      const off = await client.request({ node, prefix: `${root}{node}/` }, 'maintenance', { on: false }, { signingKey: k.key, timeoutMs: 30_000 });
      if (off.response.status !== 'ok') return fail(1, `${id}: ${node}: maintenance off refused: ${off.response.error ?? ''}`);
      const healthy = await until(view, timeoutMs, () => pairOf(id)?.healthy === true);
      if (!healthy) return fail(1, `${id}: not healthy within ${timeoutMs / 1000} s after ${node} left maintenance: ${pairOf(id)?.problems.map((x) => x.message).join('; ')}`);
      say(`${id}: healthy`);
    }
  }
  say(`done: ${pairs.length} pair(s)`);
  return 0;
}

/** Waits for a condition on the monitor's view, re-checked on every message and every 200 ms. */
function until(view: FleetView, timeoutMs: number, cond: () => boolean): Promise<boolean> {
  if (cond()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const check = () => {
      if (!cond()) return;
      done(true);
    };
    const off = view.onChange(check);
    const tick = setInterval(check, 200);
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (ok: boolean) => {
      off();
      clearInterval(tick);
      clearTimeout(timer);
      resolve(ok);
    };
  });
}

const withSlash = (p: string) => (p.endsWith('/') ? p : `${p}/`);

const { usage, fail } = cliMessages('fleet', USAGE);
