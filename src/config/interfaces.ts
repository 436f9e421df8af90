import type { ConfigIssue } from '../lib/config-issues';
import { pointer } from '../lib/issue-collector';
import type { TwinvipConfig } from './schema/root';
import { closest } from '../lib/suggest';
import { instanceVips } from './vips';

export interface InterfaceReference {
  path: string;
  name: string;
}

/** Every interface the configuration names, with where it names it. */
export function interfaceReferences(config: TwinvipConfig): InterfaceReference[] {
  const refs: InterfaceReference[] = [];
  for (const [name, inst] of Object.entries(config.instances)) {
    refs.push({ path: pointer('instances', name, 'interface'), name: inst.interface });
    for (const v of instanceVips(inst)) {
      if (v.dev !== inst.interface) refs.push({ path: `${pointer('instances', name)}${v.pointer}/dev`, name: v.dev });
    }
    inst.track_interfaces.forEach((t, i) => {
      refs.push({ path: pointer('instances', name, 'track_interfaces', i) + (typeof t === 'string' ? '' : '/name'), name: typeof t === 'string' ? t : t.name });
    });
  }
  return refs;
}

/**
 * Referenced interfaces that the given system lacks. Separate from parsing because a
 * configuration is often checked away from its box (CI, a laptop); `twinvip check --host` and
 * the daemon at start-up pass the interfaces they see.
 */
export function checkInterfacesExist(config: TwinvipConfig, present: readonly string[]): ConfigIssue[] {
  return interfaceReferences(config)
    .filter((r) => !present.includes(r.name))
    .map((r) => {
      const guess = closest(r.name, present);
      return {
        path: r.path,
        value: r.name,
        message: `no interface "${r.name}" on this system${guess ? `; did you mean "${guess}"?` : ''}`,
        hint: present.join(', '),
      };
    });
}
