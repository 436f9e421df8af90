import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { formatIssues, parseConfigText } from '../../config';
import type { DaemonContext } from '../../daemon';

export type ConfigPushResult =
  | { ok: true; changed: boolean; oldHash: string; newHash: string }
  | { ok: false; error: string; errors: string[]; rolledBack?: boolean };

/**
 * A config pushed over MQTT takes the same road as a SIGHUP: validated with the config module
 * (schema + semantic rules), written over the config file atomically, then ctx.reload(). When the
 * daemon refuses it on reload, the previous file goes back so the next SIGHUP or restart does not
 * pick up a config that never ran.
 */
export async function pushConfig(ctx: Pick<DaemonContext, 'configPath' | 'reload'>, config: unknown): Promise<ConfigPushResult> {
  const text = `${JSON.stringify(config, null, 2)}\n`;
  const checked = parseConfigText(text, 'pushed config');
  if (!checked.ok) {
    const errors = formatIssues(checked.errors, 'pushed config').split('\n').filter(Boolean);
    return { ok: false, error: `config refused: ${checked.errors.length} error(s)`, errors };
  }
  const path = ctx.configPath;
  let previous: string | undefined;
  try {
    previous = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      return { ok: false, error: `cannot read the running config file: ${(err as Error).message}`, errors: [] };
    }
  }
  try {
    await writeAtomically(path, text);
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
    if (previous !== undefined) await writeAtomically(path, previous);
    else await unlink(path);
    rolledBack = true;
  } catch {
    // The error response says the file may hold the refused config.
  }
  return { ok: false, error: `config not applied${rolledBack ? '; previous file restored' : '; restoring the previous file FAILED'}`, errors: outcome.errors, rolledBack };
}

/** Write to a sibling temp file, then rename: a reader sees the old or the new file, never half. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
