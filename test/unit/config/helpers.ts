import { expect } from 'vitest';
import { parseConfigText, type ConfigIssue, type ConfigResult, type TwinvipConfig } from '../../../src/config/index';

export type Json = Record<string, unknown>;

/** A minimal valid configuration with one IPv4 instance; callers override what they test. */
export function baseConfig(instance: Json = {}, extra: Json = {}): Json {
  return { instances: { VI_1: { interface: 'lan0', vrid: 51, vips: ['192.0.2.10/24'], ...instance } }, ...extra };
}

export function parse(config: unknown): ConfigResult {
  return parseConfigText(JSON.stringify(config, null, 2), 'test.json');
}

export function expectValid(config: unknown): { config: TwinvipConfig; hash: string; warnings: ConfigIssue[] } {
  const r = parse(config);
  if (!r.ok) expect.fail(`expected a valid config, got:\n${r.errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
  return r;
}

export function expectError(config: unknown, path: string, ...parts: string[]): ConfigIssue {
  const r = parse(config);
  if (r.ok) return expect.fail(`expected an error at ${path}, but the config is valid`);
  const issue = r.errors.find((e) => e.path === path);
  if (!issue) return expect.fail(`no error at ${path}; got:\n${r.errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
  for (const p of parts) expect(issue.message).toContain(p);
  return issue;
}
