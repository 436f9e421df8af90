import type { NoteList } from './notes';
import type { KNode } from './tree';
import { commandOf, eachChild, extraArgs, needBlock, numberArg, scriptArg, warnShellSyntax } from './walk';

export interface MappedCheck {
  name: string;
  check: Record<string, unknown>;
}

/**
 * vrrp_script -> a `script` check. keepalived's defaults are written out where twinvip's differ:
 * interval 1 s (twinvip 2 s) and a timeout equal to the interval.
 */
export function mapVrrpScript(node: KNode, name: string, notes: NoteList): MappedCheck | undefined {
  if (!needBlock(node, notes)) return undefined;
  let argv: string[] | undefined;
  let interval = 1;
  let timeout: number | undefined;
  const check: Record<string, unknown> = { type: 'script' };
  eachChild(node, 'vrrp_script', {
    script: (n) => {
      const s = scriptArg(n, notes);
      if (!s) return;
      argv = s.argv;
      warnShellSyntax(n, argv, notes);
      if (s.rest.length > 0) {
        notes.unconverted(n, n.key, `extra words '${s.rest.join(' ')}': keepalived 2.x ignores everything after the first word (quote the whole command: script "${[...s.argv, ...s.rest].join(' ')}"); not added`);
      }
    },
    interval: (n) => {
      const v = numberArg(n, 0, { min: 0, max: 3600 }, notes);
      if (v === undefined) return;
      // keepalived: "vrrp script interval must be greater than 0, setting to 1".
      interval = v === 0 ? 1 : v;
      if (v === 0) notes.warn(n, n.key, 'interval 0 read as 1 s, as keepalived does');
    },
    timeout: (n) => {
      const v = numberArg(n, 0, { min: 0, max: 3600 }, notes);
      if (v !== undefined && v > 0) timeout = v;
    },
    weight: (n) => {
      const v = numberArg(n, 0, { min: -253, max: 253, integer: true }, notes);
      if (n.args[1] === 'reverse') {
        notes.unconverted(n, n.key, "'reverse' (weight applied when the script fails) has no twinvip equivalent; weight not carried over");
        return;
      }
      extraArgs(n, 1, notes);
      // keepalived weight 0 = failure puts the instance in FAULT, which is twinvip's "no weight".
      if (v !== undefined && v !== 0) check.weight = v;
    },
    rise: (n) => {
      const v = numberArg(n, 0, { min: 1, max: 100, integer: true }, notes);
      if (v !== undefined) check.rise = v;
    },
    fall: (n) => {
      const v = numberArg(n, 0, { min: 1, max: 100, integer: true }, notes);
      if (v !== undefined) check.fall = v;
    },
    user: (n) => {
      if (n.args[0] === undefined) return notes.unconverted(n, n.key, 'user missing');
      check.user = n.args[0];
      if (n.args[1] !== undefined) notes.unconverted(n, n.key, `group '${n.args[1]}' not carried over: the check runs with the user's primary group`);
    },
    init_fail: (n) => {
      notes.unconverted(n, n.key, 'twinvip checks start neither up nor down: the instance waits for rise/fall results');
    },
  }, notes);
  if (!argv) {
    notes.unconverted(node, `vrrp_script ${name}`, 'no script line: the check is not created (keepalived ignores it too)');
    return undefined;
  }
  const ordered: Record<string, unknown> = { type: 'script', script: commandOf(argv), interval };
  let t = timeout ?? interval;
  if (t > interval) {
    notes.warn(node, `vrrp_script ${name}`, `timeout ${t} s is longer than the interval ${interval} s; twinvip refuses overlapping runs, so the timeout becomes ${interval} s`);
    t = interval;
  }
  ordered.timeout = t;
  for (const k of ['rise', 'fall', 'weight', 'user']) if (check[k] !== undefined) ordered[k] = check[k];
  return { name, check: ordered };
}
