// A shell wired to fake parts and a fake clock: what the person would see is `out`.
import { ActionGuard, Shell, newConsoleCounters, takeSnapshot, type Access, type ActionsPort, type ConsoleView, type PeerLink, type ShellServices } from '../../../src/console';

export interface Harness {
  shell: Shell;
  out: () => string;
  clear: () => void;
  type: (text: string) => void;
  clock: { now: number };
  counters: ReturnType<typeof newConsoleCounters>;
  guard: ActionGuard;
  logs: string[];
  services: ShellServices;
}

export function makeShell(opts: { view?: ConsoleView; actions?: ActionsPort; peer?: PeerLink; access?: Access; echo?: boolean; maxLine?: number; guard?: ActionGuard; clock?: { now: number }; log?: string[] } = {}): Harness {
  const clock = opts.clock ?? { now: 1_000_000 };
  let text = '';
  const counters = newConsoleCounters();
  const guard = opts.guard ?? new ActionGuard(() => clock.now, () => opts.actions?.inProgress?.());
  const logs = opts.log ?? [];
  const view: ConsoleView = opts.view ?? {
    instances: () => [
      { name: 'VI_1', state: 'MASTER', priority: 150, basePriority: 150, vrid: 51, cause: 'preempt, higher priority', sinceMs: 125_000 },
      { name: 'VI_2', state: 'MASTER', priority: 90, basePriority: 100, vrid: 52, cause: 'master down, 1204 ms', sinceMs: 3_000 },
    ],
  };
  const services: ShellServices = {
    snapshot: () => takeSnapshot({ node: 'box-a', version: '9.9.9', uptimeS: 3725, configHash: 'c0ffee12', instances: [], configuredInstances: 2 }, view),
    counters: () => ({ vrrp: { rx_bad_ttl: 2, rx_ok: 1000 }, console: { ...counters } }),
    recentLog: (n) => ['line one', 'line two', 'line three'].slice(-n),
    checkConfig: async () => 'config ok',
    peer: () => opts.peer,
    actions: opts.actions ?? {},
    guard,
    now: () => clock.now,
  };
  const echo = opts.echo ?? true;
  const shell = new Shell({
    services,
    write: (t) => (text += t),
    transport: echo ? 'serial' : 'local',
    echo,
    newline: echo ? '\r\n' : '\n',
    showPrompt: echo,
    access: opts.access ?? { kind: 'full' },
    counters,
    version: '9.9.9',
    log: (level, msg) => logs.push(`${level} ${msg}`),
    maxLine: opts.maxLine ?? 64,
  });
  return {
    shell,
    out: () => text,
    clear: () => (text = ''),
    type: (t) => shell.feed(Buffer.from(t, 'latin1')),
    clock,
    counters,
    guard,
    logs,
    services,
  };
}

/** A promise with its resolver, to hold an action half-way. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
