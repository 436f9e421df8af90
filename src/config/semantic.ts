import type { ConfigIssue } from '../lib/config-issues';
import { checkAcrossInstances, checkInstance, checkReferences, checkServices, IssueCollector } from './rules/index';
import type { TwinvipConfig } from './schema/root';
import { checkNginx } from './nginx/rules';

/**
 * The rules JSON Schema cannot express. Runs only on a configuration that passed the schema
 * (defaults filled), so every field has its type here.
 */
export function checkSemantics(config: TwinvipConfig): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const out = new IssueCollector();
  if (Object.keys(config.instances).length === 0) out.warn('/instances', 'no VRRP instances: nothing will fail over');
  for (const [name, inst] of Object.entries(config.instances)) checkInstance(name, inst, out);
  checkAcrossInstances(config, out);
  checkReferences(config, out);
  checkServices(config, out);
  checkNginx(config, out);
  return { errors: out.errors, warnings: out.warnings };
}
