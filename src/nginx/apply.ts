import { lstat, mkdir, open, readFile, rename, rm, stat, symlink } from 'node:fs/promises';
import { writeFileAtomic } from '../lib/atomic-file';
import { join } from 'node:path';
import type { SubsystemLogger } from '../log';
import { acceptingWorkers, isLiveMaster, probeGeneration, readPidFile, testConfig } from './proc';
import type { NginxSettings, PrefixPaths } from './settings';
import { prefixPaths } from './settings';

/** Debian's module directory; `load_module modules/...` in modules-enabled is relative to the prefix. */
export const DEBIAN_MODULES_DIR = '/usr/lib/nginx/modules';

export type ApplyStage = 'prepare' | 'test' | 'reload' | 'verify';

export type ApplyResult =
  | { ok: true; generation: string; changed: boolean; reloaded: boolean; durationMs: number; at: number }
  | {
      ok: false;
      stage: ApplyStage;
      reason: string;
      /** The generation that should be serving now: the last known good one. */
      kept: string | undefined;
      rolledBack: boolean;
      durationMs: number;
      at: number;
    };

type Pending = ApplyResult extends infer R ? (R extends ApplyResult ? Omit<R, 'durationMs' | 'at'> : never) : never;

export interface ApplierOptions {
  settings: NginxSettings;
  log: SubsystemLogger;
  now?: () => number;
  /** Where the stream module's files are (`<prefix>/modules` links there). */
  modulesDir?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The safe path from a rendered config to a serving Nginx: write beside the live file, `nginx -t`
 * it (a [warn] fails), swap atomically, HUP the master, and confirm the new generation answers on
 * the status endpoint. Anything else restores the last known good file and reloads it. Nginx 1.22
 * measured: a port already in use passes `nginx -t`, the reload "succeeds", the master retries
 * bind for ~2.5 s and silently keeps the old config — only the generation probe tells.
 */
export class NginxApplier {
  readonly paths: PrefixPaths;
  private settings: NginxSettings;
  private readonly log: SubsystemLogger;
  private readonly now: () => number;
  private readonly modulesDir: string;
  /** Generation of the last file that passed and (when Nginx ran) was seen serving. */
  private good: string | undefined;
  private last: ApplyResult | undefined;
  readonly counters = { applies: 0, reloads: 0, skipped: 0, test_failures: 0, verify_failures: 0, rollbacks: 0 };

  constructor(opts: ApplierOptions) {
    this.settings = opts.settings;
    this.paths = prefixPaths(opts.settings.prefix);
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.modulesDir = opts.modulesDir ?? DEBIAN_MODULES_DIR;
  }

  get goodGeneration(): string | undefined {
    return this.good;
  }

  get lastResult(): ApplyResult | undefined {
    return this.last;
  }

  updateSettings(settings: NginxSettings): void {
    this.settings = settings;
  }

  /** Directories and the modules link under the prefix; idempotent. */
  async preparePrefix(): Promise<void> {
    const p = this.paths;
    for (const dir of [p.confDir, p.runDir, p.logsDir, p.tempDir]) await mkdir(dir, { recursive: true });
    const link = join(this.settings.prefix, 'modules');
    try {
      await lstat(link);
    } catch {
      await symlink(this.modulesDir, link);
    }
  }

  /**
   * Takes over what a previous twinvip left: a live file whose generation is what the master
   * serves counts as the known good one.
   */
  async adoptServing(): Promise<string | undefined> {
    const serving = await probeGeneration(this.settings.status.address, this.settings.status.port, 1000);
    const text = await readFile(this.paths.conf, 'utf8').catch(() => undefined);
    const fileGen = text ? /^# generation ([0-9a-f]+)$/m.exec(text)?.[1] : undefined;
    if (serving !== undefined && serving === fileGen) {
      this.good = serving;
      await writeAtomic(this.paths.good, text!);
    }
    return serving;
  }

  async masterPid(): Promise<number | undefined> {
    const pid = await readPidFile(this.paths.pid);
    return pid !== undefined && (await isLiveMaster(pid)) ? pid : undefined;
  }

  /** Applies a rendered config; never throws. */
  async apply(text: string, generation: string, reason: string): Promise<ApplyResult> {
    const started = this.now();
    this.counters.applies++;
    const done = (r: Pending): ApplyResult => {
      const result = { ...r, durationMs: this.now() - started, at: this.now() } as ApplyResult;
      this.last = result;
      return result;
    };
    const fail = (stage: ApplyStage, why: string, rolledBack = false) => done({ ok: false, stage, reason: why, kept: this.good, rolledBack });

    try {
      await this.preparePrefix();
    } catch (err) {
      return fail('prepare', `cannot prepare ${this.settings.prefix}: ${(err as Error).message}`);
    }
    const pid = await this.masterPid();
    if (generation === this.good) {
      const serving = pid === undefined ? undefined : await probeGeneration(this.settings.status.address, this.settings.status.port, 1000);
      if (pid === undefined || serving === generation) {
        this.counters.skipped++;
        return done({ ok: true, generation, changed: false, reloaded: false });
      }
    }

    try {
      await writeAtomic(this.paths.next, text);
    } catch (err) {
      return fail('prepare', `cannot write ${this.paths.next}: ${(err as Error).message}`);
    }
    const tested = await testConfig(this.settings.binary, this.paths.next, this.settings.prefix);
    if (!tested.ok) {
      this.counters.test_failures++;
      await rm(this.paths.next, { force: true });
      this.log.error(`config ${generation} refused by nginx -t (${reason}); keeping ${this.good ?? 'the running config'}: ${firstLine(tested.output)}`);
      return fail('test', `nginx -t: ${tested.output}`);
    }
    await rename(this.paths.next, this.paths.conf);

    if (pid === undefined) {
      // Nothing runs: the supervisor starts Nginx on this file; a start that fails is its report.
      this.good = generation;
      await writeAtomic(this.paths.good, text);
      this.log.info(`config ${generation} written (${reason}); Nginx not running, takes effect at start`);
      return done({ ok: true, generation, changed: true, reloaded: false });
    }

    const logMark = await fileSize(this.paths.errorLog);
    const reloaded = await this.reloadAndVerify(pid, generation);
    if (reloaded.ok) {
      this.good = generation;
      await writeAtomic(this.paths.good, text);
      this.log.info(`config ${generation} serving (${reason}), reload confirmed in ${this.now() - started} ms`);
      return done({ ok: true, generation, changed: true, reloaded: true });
    }
    this.counters.verify_failures++;
    const errors = await newErrorLines(this.paths.errorLog, logMark);
    const why = `${reloaded.reason}${errors ? `: ${errors}` : ''}`;
    const rolled = await this.rollback();
    this.log.error(`config ${generation} not applied (${reason}): ${why}; ${rolled ? `rolled back to ${this.good}` : 'no known good config to roll back to'}`);
    return fail(reloaded.stage, why, rolled);
  }

  /** Puts the last known good file back and reloads it (best effort; the reason is logged). */
  private async rollback(): Promise<boolean> {
    const goodText = await readFile(this.paths.good, 'utf8').catch(() => undefined);
    if (goodText === undefined || this.good === undefined) return false;
    this.counters.rollbacks++;
    await writeAtomic(this.paths.conf, goodText);
    const pid = await this.masterPid();
    if (pid === undefined) return true;
    const r = await this.reloadAndVerify(pid, this.good);
    if (!r.ok) this.log.error(`rollback to ${this.good}: ${r.reason}`);
    return true;
  }

  private async reloadAndVerify(pid: number, generation: string): Promise<{ ok: true } | { ok: false; stage: ApplyStage; reason: string }> {
    // After a SIGHUP the old workers accept until they handle their own quit signal: on a busy
    // machine a probe can reach a new worker while the next connection still lands on an old
    // one. "Serving" means the old workers have stopped accepting, not one lucky probe.
    const oldWorkers = await acceptingWorkers(pid);
    try {
      process.kill(pid, 'SIGHUP');
    } catch (err) {
      return { ok: false, stage: 'reload', reason: `cannot signal the Nginx master ${pid}: ${(err as Error).message}` };
    }
    this.counters.reloads++;
    const deadline = this.now() + this.settings.reload.verifyTimeoutMs;
    let serving: string | undefined;
    let lingering: number[] = [];
    for (;;) {
      serving = await probeGeneration(this.settings.status.address, this.settings.status.port, 1000);
      if (serving === generation) {
        const still = new Set(await acceptingWorkers(pid));
        lingering = oldWorkers.filter((w) => still.has(w));
        if (lingering.length === 0) return { ok: true };
      }
      if (this.now() >= deadline) break;
      await sleep(100);
    }
    const alive = await isLiveMaster(pid);
    return {
      ok: false,
      stage: 'verify',
      reason: alive
        ? serving === generation
          ? `old Nginx workers ${lingering.join(', ')} still accept connections ${this.settings.reload.verifyTimeoutMs} ms after reload`
          : `generation ${generation} not serving ${this.settings.reload.verifyTimeoutMs} ms after reload (serving: ${serving ?? 'nothing'})`
        : `the Nginx master ${pid} died during the reload`,
    };
  }
}

/** Nginx's files are readable by its workers' user: mode 0644. */
function writeAtomic(path: string, text: string): Promise<void> {
  return writeFileAtomic(path, text, { mode: 0o644 });
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** [emerg]/[alert]/[crit] lines Nginx logged since `from`: the reason a reload silently failed. */
async function newErrorLines(path: string, from: number): Promise<string> {
  try {
    const fh = await open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      if (size <= from) return '';
      const len = Math.min(size - from, 64 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      return buf
        .toString('utf8')
        .split('\n')
        .filter((l) => /\[(emerg|alert|crit)\]/.test(l))
        .map((l) => l.replace(/^\S+ \S+ /, ''))
        .slice(-3)
        .join('; ');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? '';
}

export { writeAtomic };
