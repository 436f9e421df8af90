// The part of a configuration `twinvip cleanup` needs, read without the full validator: the
// control socket, and each instance's interface, VIPs (vips and excluded_vips, with their
// `dev`) and address_owner. The service manager runs cleanup after a crash, while the twin has
// already taken the VIPs over and the crashed box still answers ARP for them, so every
// millisecond of start-up counts (the full load — schema, semantic rules, local files — cost
// 0.6–1.5 s on a loaded box: bench/README.md "cleanup").
//
// Still strict about what it reads: a field of the wrong shape, an address that does not parse,
// an interface name the kernel would refuse — the whole file is refused (nothing removed) with
// the JSON pointer of each problem. Fields it does not read are not checked here: `twinvip
// check` and the daemon's start do that.
import type { ConfigIssue } from '../lib/config-issues';
import { escapePointer } from '../lib/issue-collector';
import { type BoardCatalog, applyBoard } from './board';
import { isInterfaceName } from './format-functions';
import { type NormalizedVip, normalizeVip } from './vips';

export interface CleanupVip extends NormalizedVip {
  instance: string;
  /** The instance is the address owner: its VIPs are the box's own addresses, never removed. */
  owned: boolean;
}

export type CleanupView = { ok: true; /** control.socket; undefined = the default. */ socket: string | undefined; vips: CleanupVip[] } | { ok: false; errors: ConfigIssue[] };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const LABEL = /^\S{1,15}$/;

/** From the parsed JSON text (board roles resolved through `catalog`, as the full load does). */
export function cleanupView(data: unknown, catalog: BoardCatalog): CleanupView {
  if (!isObject(data)) return { ok: false, errors: [{ path: '', message: 'must be a JSON object {...}', value: data }] };
  const errors: ConfigIssue[] = [];
  const boarded = applyBoard(data, catalog);
  if (boarded.errors.length > 0) return { ok: false, errors: boarded.errors };

  let socket: string | undefined;
  if (data.control !== undefined) {
    if (!isObject(data.control)) errors.push({ path: '/control', message: 'must be an object {...}', value: data.control });
    else if (data.control.socket !== undefined) {
      if (typeof data.control.socket !== 'string' || data.control.socket === '') errors.push({ path: '/control/socket', message: 'must be a path', value: data.control.socket });
      else socket = data.control.socket;
    }
  }

  const vips: CleanupVip[] = [];
  const instances = data.instances ?? {};
  if (!isObject(instances)) errors.push({ path: '/instances', message: 'must be an object of instances {"VI_1": {...}}', value: instances });
  else {
    for (const [name, inst] of Object.entries(instances)) {
      const base = `/instances/${escapePointer(name)}`;
      if (!isObject(inst)) {
        errors.push({ path: base, message: 'must be an object {...}', value: inst });
        continue;
      }
      const ifname = inst.interface;
      if (typeof ifname !== 'string' || !isInterfaceName(ifname)) {
        errors.push({ path: `${base}/interface`, message: 'must be a Linux interface name (1-15 characters, no "/", ":" or whitespace)', value: ifname });
        continue;
      }
      const owner = inst.address_owner ?? false;
      if (typeof owner !== 'boolean') errors.push({ path: `${base}/address_owner`, message: 'must be true or false', value: owner });
      for (const key of ['vips', 'excluded_vips'] as const) {
        const list = inst[key] ?? [];
        if (!Array.isArray(list)) {
          errors.push({ path: `${base}/${key}`, message: 'must be an array of addresses', value: list });
          continue;
        }
        list.forEach((spec: unknown, i) => {
          const path = `${base}/${key}/${i}`;
          const problem = vipProblem(spec);
          if (problem) {
            errors.push({ path: problem.field ? `${path}/${problem.field}` : path, message: problem.message, value: spec });
            return;
          }
          const v = normalizeVip(spec as Parameters<typeof normalizeVip>[0], ifname, key === 'excluded_vips', `/${key}/${i}`);
          if (!v) errors.push({ path, message: 'is not an address or address/prefix', value: spec });
          else vips.push({ ...v, instance: name, owned: owner === true });
        });
      }
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, socket, vips };
}

/** What is wrong with one VIP entry's shape, or undefined (the address itself: normalizeVip). */
function vipProblem(spec: unknown): { field?: string; message: string } | undefined {
  if (typeof spec === 'string') return undefined;
  if (!isObject(spec)) return { message: 'must be "addr/prefix" or {address, prefix?, dev?, label?}' };
  for (const key of Object.keys(spec)) {
    if (!['address', 'prefix', 'dev', 'label'].includes(key)) return { field: key, message: `unknown field "${key}" (address, prefix, dev, label)` };
  }
  if (typeof spec.address !== 'string' || spec.address.includes('/')) return { field: 'address', message: 'must be an address (the prefix goes in "prefix")' };
  if (spec.prefix !== undefined && (!Number.isInteger(spec.prefix) || (spec.prefix as number) < 0 || (spec.prefix as number) > (spec.address.includes(':') ? 128 : 32)))
    return { field: 'prefix', message: 'must be a prefix length (0-32 for IPv4, 0-128 for IPv6)' };
  if (spec.dev !== undefined && (typeof spec.dev !== 'string' || !isInterfaceName(spec.dev)))
    return { field: 'dev', message: 'must be a Linux interface name (1-15 characters, no "/", ":" or whitespace)' };
  if (spec.label !== undefined && (typeof spec.label !== 'string' || !LABEL.test(spec.label))) return { field: 'label', message: 'must be 1-15 characters without whitespace' };
  return undefined;
}
