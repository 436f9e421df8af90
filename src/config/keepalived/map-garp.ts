import type { NoteList } from './notes';
import { numberArg, type Handlers } from './walk';

// keepalived garp keyword -> twinvip garp field and its schema range. The same keywords with a
// "vrrp_" prefix in global_defs (vrrp_garp_master_delay) set the default of every instance.
const GARP: Record<string, { field: string; min: number; max: number; integer?: boolean }> = {
  garp_master_delay: { field: 'master_delay', min: 0, max: 3600 },
  garp_master_repeat: { field: 'master_repeat', min: 1, max: 100, integer: true },
  garp_master_refresh: { field: 'master_refresh', min: 0, max: 86400 },
  garp_master_refresh_repeat: { field: 'master_refresh_repeat', min: 1, max: 100, integer: true },
  garp_lower_prio_delay: { field: 'lower_prio_delay', min: 0, max: 3600 },
  garp_lower_prio_repeat: { field: 'lower_prio_repeat', min: 0, max: 100, integer: true },
};

/** A handler per garp keyword (`prefix` + keyword) that range-checks the value into `garp`. */
export function addGarpHandlers(handlers: Handlers, prefix: '' | 'vrrp_', garp: Record<string, number>, notes: NoteList): void {
  for (const [key, rule] of Object.entries(GARP)) {
    handlers[`${prefix}${key}`] = (n) => {
      const v = numberArg(n, 0, rule, notes);
      if (v !== undefined) garp[rule.field] = v;
    };
  }
}
