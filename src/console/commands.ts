// The diagnostic commands: parse one line, answer with text, or hand a guarded action back to the
// shell, which asks for the password (serial) and a confirmation before running it.
import type { ActionGuard } from './action-guard';
import { PEER_STATUS_REQUEST, type ActionResult, type ActionsPort, type PeerLink } from './ports';
import { renderCounters, renderHeartbeat, renderInstanceDetail, renderInstances, renderMqtt, renderNginx, renderStatus } from './render';
import { isUnavailable, type ConsoleSnapshot } from './snapshot';
import { parsePeerSnapshot } from './peer-snapshot';
import { duration, pairs, printable } from './text-format';

/** What the commands read and act on; the console extension builds it from the daemon. */
export interface ShellServices {
  snapshot(): ConsoleSnapshot;
  counters(): Record<string, Record<string, number>>;
  recentLog(n: number): string[];
  /** Re-validates the config file on disk without applying it; the answer as text. */
  checkConfig(): Promise<string>;
  peer(): PeerLink | undefined;
  /** The split-brain diagnosis now, as text; absent: not running. */
  diagnose?(): Promise<string>;
  actions: ActionsPort;
  guard: ActionGuard;
  now(): number;
}

export interface GuardedAction {
  /** e.g. "maintenance on" — named in refusals and the log. */
  name: string;
  /** The confirmation question, without the "(y/N)". */
  question: string;
  run(cause: string): Promise<ActionResult>;
}

export type CommandOutcome =
  | { kind: 'text'; text: string }
  | { kind: 'unknown'; word: string }
  | { kind: 'guarded'; action: GuardedAction }
  | { kind: 'empty' };

export const PEER_TIMEOUT_MS = 3000;
export const DEFAULT_LOG_LINES = 20;
export const MAX_LOG_LINES = 200;

interface CommandSpec {
  usage: string;
  summary: string;
  run(args: string[], s: ShellServices): CommandOutcome | Promise<CommandOutcome>;
}

const text = (t: string): CommandOutcome => ({ kind: 'text', text: t });

const COMMANDS: Record<string, CommandSpec> = {
  help: { usage: 'help', summary: 'this list', run: () => text(helpText()) },
  status: { usage: 'status', summary: 'one screen: instances, heartbeat, nginx, mqtt', run: (_a, s) => text(renderStatus(s.snapshot())) },
  vrrp: { usage: 'vrrp [instance]', summary: 'VRRP instances, or one in detail', run: vrrp },
  heartbeat: { usage: 'heartbeat', summary: 'both heartbeat channels, decision, alarms', run: heartbeat },
  peer: { usage: 'peer', summary: "the twin's own view, over the serial link", run: peer },
  diagnose: { usage: 'diagnose', summary: 'split-brain causes with evidence and fix (asks the twin over serial)', run: diagnoseCmd },
  nginx: { usage: 'nginx', summary: 'Nginx process, config, upstream health', run: (_a, s) => text(renderNginx(s.snapshot().nginx)) },
  mqtt: { usage: 'mqtt', summary: 'broker connection and outbox', run: (_a, s) => text(renderMqtt(s.snapshot().mqtt)) },
  counters: { usage: 'counters', summary: 'every counter (drops, errors) by part', run: (_a, s) => text(renderCounters(s.counters())) },
  log: { usage: 'log [n]', summary: `the last n log lines (default ${DEFAULT_LOG_LINES})`, run: log },
  config: { usage: 'config check', summary: 'validate the config file on disk (not applied)', run: config },
  maintenance: { usage: 'maintenance on|off', summary: 'demote this node / end it (asks first)', run: maintenance },
  failover: { usage: 'failover [instance]', summary: 'hand MASTER to the twin (asks first)', run: failover },
  reload: { usage: 'reload', summary: 're-read and apply the config file (asks first)', run: reload },
  pair: { usage: 'pair [start|CODE|cancel]', summary: 'pairing with the twin over serial: status; start (shows the code); the code the twin shows', run: pair },
};

/** Splits a line into words; the command word is case-insensitive. */
export function parseLine(line: string): { word: string; args: string[] } {
  const words = line.trim().split(/\s+/).filter((w) => w !== '');
  const [word = '', ...args] = words;
  return { word: word.toLowerCase(), args };
}

export function runCommand(line: string, s: ShellServices): CommandOutcome | Promise<CommandOutcome> {
  const { word, args } = parseLine(line);
  if (word === '') return { kind: 'empty' };
  const spec = COMMANDS[word === '?' ? 'help' : word];
  if (!spec) return { kind: 'unknown', word };
  return spec.run(args, s);
}

export function commandNames(): string[] {
  return Object.keys(COMMANDS);
}

function helpText(): string {
  const rows = Object.values(COMMANDS).map((c): [string, string] => [c.usage, c.summary]);
  return `${pairs(rows)}\n\nEnter runs a line; Backspace edits; Ctrl-U clears it; Ctrl-C abandons it.`;
}

function usage(name: string): CommandOutcome {
  return text(`usage: ${COMMANDS[name]!.usage}`);
}

function vrrp(args: string[], s: ShellServices): CommandOutcome {
  if (args.length > 1) return usage('vrrp');
  const instances = s.snapshot().instances;
  if (args.length === 0 || isUnavailable(instances)) return text(renderInstances(instances));
  const want = args[0]!;
  const found = instances.find((i) => i.name === want) ?? instances.find((i) => i.name.toLowerCase() === want.toLowerCase());
  if (!found) return text(`no instance '${want}' (instances: ${instances.map((i) => i.name).join(', ') || 'none'})`);
  return text(renderInstanceDetail(found));
}

function heartbeat(args: string[], s: ShellServices): CommandOutcome {
  if (args.length > 0) return usage('heartbeat');
  const out = [renderHeartbeat(s.snapshot().heartbeat, true)];
  const link = s.peer();
  const d = link?.describe?.();
  if (d) out.push(`serial link: ${d.device ?? 'device ?'} ${d.open ? 'open' : 'CLOSED'}${d.peerAlive === undefined ? '' : d.peerAlive ? ', peer heard' : ', peer silent'}`);
  return text(out.join('\n'));
}

async function diagnoseCmd(args: string[], s: ShellServices): Promise<CommandOutcome> {
  if (args.length > 0) return usage('diagnose');
  if (!s.diagnose) return text('diagnosis not running');
  try {
    return text(printable(await s.diagnose()));
  } catch (err) {
    return text(`diagnosis failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function peer(args: string[], s: ShellServices): Promise<CommandOutcome> {
  if (args.length > 0) return usage('peer');
  const link = s.peer();
  if (!link) return text('peer link not available (no serial heartbeat configured or running)');
  const started = s.now();
  let reply;
  try {
    reply = await link.request(PEER_STATUS_REQUEST, PEER_TIMEOUT_MS);
  } catch (err) {
    return text(`peer request failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!reply.ok) {
    if (reply.error === 'timeout') return text(`no answer from the twin over the serial link within ${duration(PEER_TIMEOUT_MS)} (timeout)`);
    if (reply.error === 'port-closed') return text('the serial link port is closed; the twin cannot be asked (port-closed)');
    return text(`peer request failed: ${printable(reply.error)}`);
  }
  const elapsed = s.now() - started;
  const snap = parsePeerSnapshot(reply.body);
  if (!snap) return text(`the twin answered in ${duration(elapsed)} but not with a status screen:\n${printable(reply.body.slice(0, 2000))}`);
  return text(`the twin's own view (over the serial link, ${duration(elapsed)}):\n\n${printable(renderStatus(snap))}`);
}

function log(args: string[], s: ShellServices): CommandOutcome {
  if (args.length > 1) return usage('log');
  let n = DEFAULT_LOG_LINES;
  if (args.length === 1) {
    if (!/^\d{1,6}$/.test(args[0]!)) return text(`usage: log [n]   (n: a whole number, at most ${MAX_LOG_LINES})`);
    n = Math.min(Number(args[0]), MAX_LOG_LINES);
  }
  const lines = s.recentLog(n);
  return text(lines.length === 0 ? 'log is empty' : printable(lines.join('\n')));
}

async function config(args: string[], s: ShellServices): Promise<CommandOutcome> {
  if (args.length !== 1 || args[0]!.toLowerCase() !== 'check') return usage('config');
  return text(await s.checkConfig());
}

function notAvailable(what: string): CommandOutcome {
  return text(`${what} is not available: that part is not running on this node`);
}

function maintenance(args: string[], s: ShellServices): CommandOutcome {
  const mode = args[0]?.toLowerCase();
  if (args.length !== 1 || (mode !== 'on' && mode !== 'off')) return usage('maintenance');
  const act = s.actions.maintenance;
  if (!act) return notAvailable('maintenance');
  const on = mode === 'on';
  return {
    kind: 'guarded',
    action: {
      name: `maintenance ${mode}`,
      question: on ? 'maintenance on: demote every instance of this node (the twin takes over)?' : 'maintenance off: let this node take part in elections again?',
      run: (cause) => act.call(s.actions, on, cause),
    },
  };
}

function failover(args: string[], s: ShellServices): CommandOutcome {
  if (args.length > 1) return usage('failover');
  const act = s.actions.failover;
  if (!act) return notAvailable('failover');
  const instance = args[0];
  if (instance !== undefined) {
    const instances = s.snapshot().instances;
    if (!isUnavailable(instances) && !instances.some((i) => i.name === instance)) {
      return text(`no instance '${instance}' (instances: ${instances.map((i) => i.name).join(', ') || 'none'})`);
    }
  }
  return {
    kind: 'guarded',
    action: {
      name: instance === undefined ? 'failover' : `failover ${instance}`,
      question: instance === undefined ? 'failover: hand MASTER of every instance to the twin?' : `failover: hand MASTER of ${instance} to the twin?`,
      run: (cause) => act.call(s.actions, instance, cause),
    },
  };
}

function reload(args: string[], s: ShellServices): CommandOutcome {
  if (args.length > 0) return usage('reload');
  const act = s.actions.reload;
  if (!act) return notAvailable('reload');
  return {
    kind: 'guarded',
    action: { name: 'reload', question: 'reload: re-read the config file and apply it?', run: (cause) => act.call(s.actions, cause) },
  };
}

/** Synchronous for the guarded forms, so the question shows at once as for the other actions. */
function pair(args: string[], s: ShellServices): CommandOutcome | Promise<CommandOutcome> {
  const act = s.actions.pair;
  if (!act) return notAvailable('pairing');
  if (args.length === 0 || (args.length === 1 && args[0]!.toLowerCase() === 'status')) {
    return act.call(s.actions, 'status', undefined, 'console').then((r) => text(r.ok ? r.message : r.error));
  }
  const word = args.join('').toLowerCase();
  if (word === 'start' || word === 'cancel') {
    return {
      kind: 'guarded',
      action: {
        name: `pair ${word}`,
        question: word === 'start' ? 'pair: start pairing with the twin over the serial cable (this box shows the code)?' : 'pair: cancel the pairing in progress?',
        run: (cause) => act.call(s.actions, word, undefined, cause),
      },
    };
  }
  if (!/^\d{6}$/.test(word.replace(/-/g, ''))) return usage('pair');
  const code = word.replace(/-/g, '');
  return {
    kind: 'guarded',
    action: {
      name: 'pair confirm',
      question: `pair: confirm code ${code.slice(0, 3)} ${code.slice(3)} (as the twin shows it) and write the heartbeat key?`,
      run: (cause) => act.call(s.actions, 'confirm', code, cause),
    },
  };
}
