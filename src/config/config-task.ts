import type { ConfigResult } from './load';
import { loadConfigOnBox } from './on-box';
import { planPush, type PushPlan } from './push-plan';

/** Work on a configuration that can run off the main thread (off-thread.ts). `load` is the daemon's loader (file, secret files, programs). */
export type ConfigTask = { kind: 'load'; path: string } | { kind: 'plan-push'; localText: string; pushed: unknown };

export type ConfigTaskResult<T extends ConfigTask> = T extends { kind: 'load' } ? ConfigResult : PushPlan;

export async function runConfigTask<T extends ConfigTask>(task: T): Promise<ConfigTaskResult<T>> {
  if (task.kind === 'load') return (await loadConfigOnBox(task.path)) as ConfigTaskResult<T>;
  return planPush(task.localText, task.pushed) as ConfigTaskResult<T>;
}
