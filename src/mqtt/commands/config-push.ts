import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../lib/atomic-file';
import { runConfigTaskOffThread } from '../../config/off-thread';
import type { PushPlan } from '../../config/push-plan';
import type { DaemonContext } from '../../daemon';

export type ConfigPushResult =
  | { ok: true; changed: boolean; oldHash: string; newHash: string }
  | { ok: false; error: string; errors: string[]; rolledBack?: boolean; localOnly?: string[] };

/**
 * A config pushed over MQTT takes the same road as a SIGHUP: merged over the local file (every
 * local-only value it leaves out is kept), validated like the file, refused with the list of
 * paths when it changes anything local-only (config/local-only.ts), written over the config file
 * atomically, then ctx.reload(). The checks run in a worker thread (config/off-thread.ts). When
 * the daemon refuses it on reload, the previous file goes back so the next SIGHUP or restart does
 * not pick up a config that never ran.
 */
export async function pushConfig(ctx: Pick<DaemonContext, 'configPath' | 'reload'>, config: unknown): Promise<ConfigPushResult> {
  const path = ctx.configPath;
  let previous: string;
  try {
    previous = await readFile(path, 'utf8');
  } catch (err) {
    return { ok: false, error: `cannot read the running config file: ${(err as Error).message}`, errors: [] };
  }
  let plan: PushPlan;
  try {
    plan = await runConfigTaskOffThread({ kind: 'plan-push', localText: previous, pushed: config });
  } catch (err) {
    return { ok: false, error: `cannot check the pushed config: ${(err as Error).message}`, errors: [] };
  }
  if (!plan.ok) return { ok: false, error: plan.error, errors: plan.errors, ...(plan.localOnly ? { localOnly: plan.localOnly } : {}) };
  try {
    await writeFileAtomic(path, plan.text);
  } catch (err) {
    return { ok: false, error: `cannot write ${path}: ${(err as Error).message}`, errors: [] };
  }
  let outcome;
  try {
    outcome = await ctx.reload('mqtt config push');
  } catch (err) {
    outcome = { ok: false as const, errors: [`reload failed: ${(err as Error).message}`], keptHash: '' };
  }
  if (outcome.ok) return { ok: true, changed: outcome.changed, oldHash: outcome.oldHash, newHash: outcome.newHash };
  let rolledBack = false;
  try {
    await writeFileAtomic(path, previous);
    rolledBack = true;
  } catch {
    // The error response says the file may hold the refused config.
  }
  return { ok: false, error: `config not applied${rolledBack ? '; previous file restored' : '; restoring the previous file FAILED'}`, errors: outcome.errors, rolledBack };
}
