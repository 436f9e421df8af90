// The scripted failover story, each step with a narration, a measurement and a timeout:
//   steady state -> A's LAN link cut -> restore (A preempts back) -> Ethernet path between the
//   boxes cut while both links stay up -> heal -> graceful stop of A.
// Times are measured from the action to the client's first answer from the new master (what a
// user of the VIP sees) and to the box's own state change (status polled every 100 ms).

import { mustExec } from './lab';
import type { World } from './setup';
import { LAN_IF } from './topology';

export interface StepResult {
  step: string;
  measured: string;
  reference: string;
  ok: boolean;
  /** Why not ok, or a remark. */
  note?: string;
}

export interface ScenarioOptions {
  stepTimeoutMs: number;
  say: (line: string) => void;
  phase: (text: string) => void;
  signal: AbortSignal;
}

// Anchor figures: keepalived 2.2.7 pair in namespaces, advert 1 s, priorities 150/100 (DESIGN.md).
const KEEPALIVED = {
  linkCut: 'keepalived 3292 ms; target <= 1200 ms with serial alive',
  preempt: 'keepalived 3431 ms',
  stop: 'keepalived 621 ms; target < 50 ms + skew (609 ms)',
  pathCut: 'keepalived: both MASTER for the whole cut; target: none',
};
/** Long enough for a backup's Master_Down_Interval (3 x 1 s + skew) to pass twice. */
const PATH_CUT_WINDOW_MS = 8000;

export async function runScenario(w: World, opts: ScenarioOptions): Promise<StepResult[]> {
  const { say, phase, signal } = opts;
  const obs = w.observer;
  const [a, b] = w.boxes as [World['boxes'][number], World['boxes'][number]];
  const A = a.spec.name;
  const B = b.spec.name;
  const results: StepResult[] = [];
  const serialActive = w.parts.some((p) => p.part === 'serial' && p.status === 'active');
  const state = (name: string) => obs.box(name).state;
  const wait = (cond: () => boolean, what: string) => obs.waitFor(cond, opts.stepTimeoutMs, what, signal);
  const ms = (x: number) => `${Math.round(x)} ms`;

  const step = async (name: string, fn: () => Promise<StepResult>): Promise<boolean> => {
    try {
      const r = await fn();
      results.push(r);
      say(`RESULT ${r.step}: ${r.measured}${r.note ? ` — ${r.note}` : ''}${r.ok ? '' : ' [FAILED]'}`);
      return r.ok;
    } catch (err) {
      const msg = (err as Error).message;
      if (msg === 'interrupted') throw err;
      results.push({ step: name, measured: '-', reference: '', ok: false, note: msg });
      say(`RESULT ${name}: FAILED — ${msg}`);
      return false;
    }
  };

  say('');
  say(`step 1/5: steady state — ${A} (priority ${a.spec.priority}) should be MASTER, ${B} (priority ${b.spec.priority}) BACKUP`);
  phase('waiting for the steady state');
  const steady = await step('steady state', async () => {
    // Over HTTPS as well when the client probes it, so step 2 measures both from the same start.
    await wait(
      () => state(A) === 'MASTER' && state(B) === 'BACKUP' && obs.clientWho === A && (!w.https || obs.clientWhoHttps === A),
      `${A} MASTER, ${B} BACKUP and the client answered by ${A}${w.https ? ' over HTTP and HTTPS' : ''}`,
    );
    return { step: 'steady state', measured: `${A} MASTER, ${B} BACKUP, client answered by ${A}`, reference: '', ok: true };
  });
  if (!steady) return results;

  say('');
  say(`step 2/5: cut ${A}'s LAN link (ip link set ${LAN_IF} down inside ${A}) — ${B} must take over the VIP`);
  phase(`${A}'s LAN link is down`);
  const cut = await step('takeover after link cut', async () => {
    const t0 = Date.now();
    await mustExec('ip', ['-n', a.ns, 'link', 'set', LAN_IF, 'down']);
    const bMaster = wait(() => state(B) === 'MASTER', `${B} to become MASTER`);
    await wait(() => obs.firstAnswerFrom(B, t0) !== undefined, `the client to be answered by ${B}`);
    const tb = await bMaster;
    const probe = obs.firstAnswerFrom(B, t0)!;
    // Over HTTPS too, each probe a new TLS handshake that the new master must complete.
    let https = '';
    if (w.https) {
      await wait(() => obs.firstHttpsAnswerFrom(B, t0) !== undefined, `the client's HTTPS probe to be answered by ${B}`);
      https = `; HTTPS (fresh TLS handshake each probe) by ${B} ${ms(obs.firstHttpsAnswerFrom(B, t0)!.recv - t0)} after the cut, ${obs.httpsResumed} resumed sessions`;
    }
    return {
      step: 'takeover after link cut',
      measured: `client answered by ${B} ${ms(probe.recv - t0)} after the cut (${B} MASTER seen at ${ms(tb - t0)})${https}`,
      reference: KEEPALIVED.linkCut,
      ok: true,
      note: `takeover observed`,
    };
  });
  say('');
  say(`step 3/5: restore ${A}'s link — ${A} has the higher priority and preempts back`);
  phase(`${A}'s LAN link restored`);
  const back = await step('preempt back', async () => {
    const t0 = Date.now();
    await mustExec('ip', ['-n', a.ns, 'link', 'set', LAN_IF, 'up']);
    await wait(() => state(A) === 'MASTER' && state(B) === 'BACKUP' && obs.firstAnswerFrom(A, t0) !== undefined, `${A} MASTER again and answering the client`);
    const probe = obs.firstAnswerFrom(A, t0)!;
    return { step: 'preempt back', measured: `client answered by ${A} ${ms(probe.recv - t0)} after the link came back`, reference: KEEPALIVED.preempt, ok: true };
  });
  if (!cut || !back) return results;

  say('');
  say(`step 4/5: cut the Ethernet path between the boxes, both links stay up (bridge ports of ${A} and ${B} isolated in the switch: adverts no longer cross, the client still reaches both)`);
  say(serialActive
    ? '         the serial heartbeat still carries each box\'s state: there must be no second master'
    : '         this build has no serial heartbeat running: plain VRRP, so expect two masters, as with keepalived');
  phase('Ethernet path between the boxes cut (serial link alive)');
  await step('Ethernet cut, serial alive', async () => {
    await wait(() => state(A) === 'MASTER' && state(B) === 'BACKUP', 'the steady state before the cut');
    const t0 = Date.now();
    for (const port of [a.spec.port, b.spec.port]) await mustExec('bridge', ['-n', w.switchNs, 'link', 'set', 'dev', port, 'isolated', 'on']);
    await pause(PATH_CUT_WINDOW_MS, signal);
    const t1 = Date.now();
    const dual = obs.dualMasterMs(t0, t1);
    const servedByA = obs.probes.filter((p) => p.sent >= t0 && p.recv <= t1 && p.who === A).length;
    for (const port of [a.spec.port, b.spec.port]) await mustExec('bridge', ['-n', w.switchNs, 'link', 'set', 'dev', port, 'isolated', 'off']);
    say(`         healed after ${ms(t1 - t0)}; ${dual.total} status samples of both boxes, ${dual.samples} with two masters`);
    await wait(() => state(A) === 'MASTER' && state(B) === 'BACKUP', `one master (${A}) after healing`);
    const resolved = Date.now() - t1;
    const measured = dual.samples === 0
      ? `no second master during the ${ms(t1 - t0)} cut (${dual.total} samples); client answered by ${A} ${servedByA} times meanwhile`
      : `two masters for about ${ms(dual.ms)} of the ${ms(t1 - t0)} cut; one master again ${ms(resolved)} after healing`;
    if (serialActive) {
      return { step: 'Ethernet cut, serial alive', measured, reference: KEEPALIVED.pathCut, ok: dual.samples === 0, note: dual.samples === 0 ? 'no dual master' : 'dual master despite the serial heartbeat' };
    }
    return { step: 'Ethernet cut, serial alive', measured, reference: KEEPALIVED.pathCut, ok: true, note: 'SKIPPED the no-dual-master check: serial heartbeat not in this build' };
  });

  say('');
  say(`step 5/5: graceful stop of ${A} (SIGTERM: it sends priority 0) — ${B} takes over within its skew time`);
  phase(`${A} stopped`);
  await step('graceful stop', async () => {
    await wait(() => state(A) === 'MASTER' && state(B) === 'BACKUP', 'the steady state before the stop');
    const t0 = Date.now();
    a.twinvip.signal('SIGTERM');
    const bMaster = wait(() => state(B) === 'MASTER', `${B} to become MASTER`);
    await wait(() => obs.firstAnswerFrom(B, t0) !== undefined, `the client to be answered by ${B}`);
    const tb = await bMaster;
    const probe = obs.firstAnswerFrom(B, t0)!;
    const exit = await Promise.race([a.twinvip.exited, pause(opts.stepTimeoutMs, signal).then(() => undefined)]);
    const exitText = exit ? `${A} exited with code ${exit.code ?? exit.signal}` : `${A} did not exit in time`;
    return { step: 'graceful stop', measured: `client answered by ${B} ${ms(probe.recv - t0)} after SIGTERM (${B} MASTER seen at ${ms(tb - t0)}); ${exitText}`, reference: KEEPALIVED.stop, ok: exit?.code === 0 };
  });
  return results;
}

export function pause(msToWait: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('interrupted'));
      return;
    }
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, msToWait);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error('interrupted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
