// `twinvip demo` from start to end: prerequisites, the lab, the scenario (or the lab kept for
// the user with --interactive/--keep), the summary, and a clean-up that runs on success, on a
// failed step, on an error and on Ctrl-C alike.

import { DemoLab } from './lab';
import { checkPrereqs } from './prereqs';
import { runScenario, type StepResult } from './scenario';
import { buildWorld, type World } from './setup';
import { DemoView, table } from './view';
import { LAN_IF } from './topology';

export interface DemoOptions {
  /** Skip the scenario: build the lab and show the live view until Ctrl-C. */
  interactive: boolean;
  /** Run the scenario, then keep the lab and the live view until Ctrl-C. */
  keep: boolean;
  stepTimeoutMs: number;
  node: string;
  bundle: string;
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

export const DEMO_EXIT = { OK: 0, STEP_FAILED: 1, USAGE: 2, PREREQ: 3, SETUP: 4, INTERRUPTED: 130 } as const;

export async function runDemo(opts: DemoOptions): Promise<number> {
  const pre = checkPrereqs(opts.env);
  if (!pre.ok) {
    opts.err.write(`twinvip demo: cannot run here:\n${pre.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return DEMO_EXIT.PREREQ;
  }

  const startedAt = Date.now();
  const lab = DemoLab.create();
  const abort = new AbortController();
  const live = DemoView.wantsLive(opts.out, opts.env);
  let view: DemoView | undefined;
  const say = (line: string) => (view ? view.say(line) : opts.out.write(`${line}\n`));

  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    say(`\ndemo: ${sig} — stopping and cleaning up`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // A bug in a callback must still end in the clean-up below, not leave namespaces behind.
  let fatal: Error | undefined;
  const onFatal = (err: unknown) => {
    if (fatal) return;
    fatal = err instanceof Error ? err : new Error(String(err));
    say(`demo: internal error: ${fatal.stack ?? fatal.message}`);
    abort.abort();
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);

  say(`twinvip demo: two boxes in network namespaces, a serial link, Nginx, an MQTT broker and a client`);
  say(`demo: lab prefix ${lab.prefix}`);
  let code: number = DEMO_EXIT.OK;
  let results: StepResult[] = [];
  let world: World | undefined;
  try {
    world = await buildWorld(lab, { tools: pre.paths, node: opts.node, bundle: opts.bundle, say, signal: abort.signal, stepTimeoutMs: opts.stepTimeoutMs });
    view = new DemoView(world.observer, { out: opts.out, live, startedAt });
    view.attach();
    if (opts.interactive) {
      printHints(world, say);
      view.setPhase('interactive: the lab is yours; Ctrl-C cleans up');
      await untilAborted(abort.signal);
    } else {
      results = await runScenario(world, {
        stepTimeoutMs: opts.stepTimeoutMs,
        say,
        phase: (t) => view?.setPhase(t),
        signal: abort.signal,
      });
      if (results.some((r) => !r.ok)) code = DEMO_EXIT.STEP_FAILED;
      if (opts.keep) {
        printHints(world, say);
        view.setPhase('scenario done; the lab is kept until Ctrl-C');
        await untilAborted(abort.signal);
      }
    }
  } catch (err) {
    const msg = (err as Error).message;
    if (fatal) {
      code = DEMO_EXIT.STEP_FAILED;
    } else if (msg === 'interrupted' || interrupted) {
      code = DEMO_EXIT.INTERRUPTED;
    } else {
      say(`demo: FAILED: ${msg}`);
      code = world ? DEMO_EXIT.STEP_FAILED : DEMO_EXIT.SETUP;
    }
  } finally {
    // The last picture stays on screen; from here on, plain lines.
    view?.detach();
    view = undefined;
    world?.observer.stop();
    say('');
    say(`demo: cleaning up (lab ${lab.prefix})`);
    const keepLogs = opts.env.TWINVIP_DEMO_KEEP_LOGS === '1';
    const done = await lab.cleanup({ keepDir: keepLogs });
    if (keepLogs && world) say(`logs kept in ${world.dir} (TWINVIP_DEMO_KEEP_LOGS=1)`);
    const left = await lab.leftovers();
    if (left.length === 0) {
      say(`cleanup done: ${done.killed} process(es) stopped${done.stragglers ? `, ${done.stragglers} straggler(s) killed` : ''}, ${done.namespaces} namespace(s) removed, no namespace left with prefix ${lab.prefix}`);
    } else {
      say(`cleanup INCOMPLETE: namespaces left: ${left.join(', ')} (remove with: ip netns del NAME)`);
      if (code === DEMO_EXIT.OK) code = DEMO_EXIT.STEP_FAILED;
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
  }

  if (world) {
    say('');
    say('parts in this build:');
    for (const p of world.parts) say(`  ${p.part.padEnd(7)} ${p.status === 'active' ? 'active' : `skipped: ${p.detail}`}`);
  }
  if (results.length > 0) {
    say('');
    say('summary (advert interval 1 s, VRRPv3, priorities 150/100):');
    const rows = [['STEP', 'MEASURED', 'REFERENCE', 'OK'], ...results.map((r) => [r.step, r.measured, r.reference || '-', r.ok ? 'ok' : `FAILED${r.note ? `: ${r.note}` : ''}`])];
    for (const l of table(rows)) say(`  ${l}`);
  }
  say('');
  say(code === DEMO_EXIT.OK
    ? 'demo: all steps passed'
    : code === DEMO_EXIT.INTERRUPTED ? 'demo: interrupted' : `demo: finished with failures (exit ${code})`);
  return code;
}

function printHints(w: World, say: (l: string) => void): void {
  const [a] = w.boxes;
  say('');
  say('try, in another shell:');
  say(`  ip -n ${a!.ns} link set ${LAN_IF} down      # cut box-a's LAN link (and 'up' to restore)`);
  say(`  bridge -n ${w.switchNs} link set dev pa isolated on; bridge -n ${w.switchNs} link set dev pb isolated on   # cut the path between the boxes`);
  for (const b of w.boxes) say(`  node_modules/.bin/node dist/twinvip.js status -s ${b.paths.socket}      # ${b.spec.name}`);
  say(`  logs: ${w.dir}/box-*/twinvip.log`);
}

/** Waits for Ctrl-C (the abort); rejects with 'interrupted' like every other wait. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(new Error('interrupted'));
    else signal.addEventListener('abort', () => reject(new Error('interrupted')), { once: true });
  });
}
