import { localOnlyReason, PUSHABLE_SECTIONS } from './local-only';
import { configSchemaJson } from './schema-json';

// Renders the configuration reference of README.md from the JSON Schema, so the documentation
// cannot drift from what `twinvip check` accepts (test/unit/config/reference-doc.test.ts).

type Schema = Record<string, unknown>;

export const REFERENCE_START = '<!-- config-reference:start -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(s: Schema): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alts = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (alts) return alts.map(typeOf).join(' or ');
  let t = String(s.type ?? 'any');
  if (typeof s.format === 'string') t += ` (${s.format})`;
  if (t === 'integer' || t === 'number') {
    const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? `>${String(s.exclusiveMinimum)}` : undefined);
    if (lo !== undefined || s.maximum !== undefined) t += ` ${String(lo ?? '')}..${String(s.maximum ?? '')}`;
  }
  if (t === 'array' && s.items) t = `array of ${typeOf(s.items as Schema)}${typeof s.maxItems === 'number' ? `, <= ${s.maxItems}` : ''}`;
  if (t === 'object' && typeof s.maxProperties === 'number') t += ` (<= ${s.maxProperties} entries)`;
  if (t === 'string' && typeof s.maxLength === 'number') t += ` (<= ${s.maxLength} chars)`;
  return t;
}

function describe(s: Schema, required: boolean, key: string): string {
  const parts = [String(s.description ?? '')];
  if (typeof s['x-valid'] === 'string') parts.push(`Valid: ${s['x-valid']}.`);
  if (required) parts.push('**Required.**');
  const last = key.split('.').pop()!.replace(/ \(.*\)$/, '');
  const localOnly = localOnlyReason(last, [s, ...((s.anyOf ?? s.oneOf ?? []) as Schema[])]);
  if (localOnly !== undefined) parts.push(`*Local-only* (${localOnly}).`);
  return parts.filter(Boolean).join(' ');
}

function walk(s: Schema, key: string, required: boolean, rows: Row[]): void {
  rows.push({ key, type: typeOf(s), default: s.default === undefined ? '' : JSON.stringify(s.default), description: describe(s, required, key) });
  const props = s.properties as Record<string, Schema> | undefined;
  if (props && !s.oneOf) {
    const req = new Set((s.required ?? []) as string[]);
    for (const [k, sub] of Object.entries(props)) walk(sub, `${key}.${k}`, req.has(k), rows);
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    walkChildren(s.additionalProperties as Schema, `${key}.<name>`, rows);
  }
  if (s.type === 'array' && s.items) walkChildren(s.items as Schema, `${key}[]`, rows);
  for (const alt of (s.anyOf ?? []) as Schema[]) if (alt.properties) walkChildren(alt, key, rows);
}

/** The members of a map value, an array item or an object alternative, without a row of its own. */
function walkChildren(s: Schema, key: string, rows: Row[]): void {
  const branches = (s.oneOf ?? s.anyOf ?? [s]) as Schema[];
  for (const b of branches) {
    const props = b.properties as Record<string, Schema> | undefined;
    if (!props) continue;
    const req = new Set((b.required ?? []) as string[]);
    const tag = s.oneOf ? (props.type?.const as string | undefined) : undefined;
    for (const [k, sub] of Object.entries(props)) {
      if (tag !== undefined && k === 'type') {
        rows.push({ key: `${key}.type`, type: JSON.stringify(tag), default: '', description: `${String(b.description ?? '')} **Required.**` });
        continue;
      }
      walk(sub, tag !== undefined ? `${key}.${k} (${tag})` : `${key}.${k}`, req.has(k), rows);
    }
  }
}

export function renderConfigReference(schema: Schema = configSchemaJson()): string {
  const out: string[] = [
    REFERENCE_START,
    '## Configuration reference',
    '',
    '<!-- Generated from the JSON Schema by scripts/gen-config-doc.mjs; do not edit by hand.',
    '     Regenerate: node_modules/.bin/node scripts/gen-config-doc.mjs -->',
    '',
    'One JSON file, `/etc/twinvip/twinvip.json` by default. `twinvip check -c FILE` validates it',
    '(exit 0, or 1 with every error as `file:line:col: /json/pointer: message; valid: ...`), and',
    '`twinvip check --schema` prints the JSON Schema (draft-07) for editors. Unknown keys are errors.',
    'Keys follow keepalived\'s names where keepalived has one. `<name>` stands for a name you choose',
    '(an instance such as `VI_1`, a check, a sync group). A blank default means none.',
    '',
    'Rules beyond the schema, checked by `twinvip check`:',
    '',
    '- VRID unique per interface and address family; one address family per instance (from its VIPs).',
    '- `version` defaults to 2, like keepalived; VRRPv2 carries IPv4 only, so IPv6 instances set `version: 3`.',
    '- `advert_int`: whole seconds 1..255 with version 2; 0.01..40.95 in steps of 0.01 with version 3.',
    '- Priority 255 only with `address_owner: true`, and an address owner must have priority 255; when it',
    '  sets `unicast_src_ip`, that address must be one of its VIPs. The daemon checks at start-up that',
    '  the VIP is a primary address of the interface.',
    '- `preempt: false` (keepalived `nopreempt`) with `state: "MASTER"` is an error (keepalived only warns).',
    '- `unicast_src_ip`, `unicast_peers` and `mcast_group` of the instance\'s family; no VIP in two instances.',
    '- `authentication` (PASS or AH, at most 8 characters) only with version 2, with one of `password` and `password_file`; AH requires state BACKUP.',
    '- `track_checks` name existing checks; a sync group\'s members exist, each instance in one group at most.',
    '- Serial heartbeat: exactly one of `key` and `key_file`. `mqtt.url` when MQTT is enabled, `console.device`',
    '  when the console is enabled. A check\'s `timeout` at most its `interval`. At most one of `password` and',
    '  `password_file` (mqtt, email, console).',
    '- On the box (`twinvip check` without `--offline`, and `twinvip run` and every reload): each `*_file` secret',
    '  is read: missing, empty, a heartbeat key under 16 bytes or a VRRP password over 8 is an error (run and',
    '  reload refuse the file); a mode letting group or others read it is a warning. Each program (notify',
    '  scripts, tracked script checks, the fence) is judged by the script policy (README "Security").',
    '  A heartbeat `key_file` that does not exist yet is only a warning: the box is unpaired, runs plain VRRP',
    '  and waits for `twinvip pair` (README "Pairing the twins").',
    '- Warnings (not fatal): no serial heartbeat, an untracked check, an instance without VIPs, a sync group',
    '  of one, an IPv6 instance whose first VIP is not link-local.',
    '- Fleet commands (`mqtt.commands.enabled`) over a plaintext broker URL (`mqtt://`, `ws://`) are an error',
    '  unless `mqtt.allow_plaintext_commands` is true; a public key appears once in `trusted_keys`.',
    '- *Local-only* marks what a config push can never change (README "Fleet security"): every section',
    `  except ${PUSHABLE_SECTIONS.map((s) => `\`${s}\``).join(', ')}, and inside those every \`*_file\`, path and program.`,
    '',
  ];
  const props = schema.properties as Record<string, Schema>;
  const req = new Set((schema.required ?? []) as string[]);
  for (const [section, sub] of Object.entries(props)) {
    if (section === '$schema') continue;
    const rows: Row[] = [];
    walk(sub, section, req.has(section), rows);
    const intro = String(sub.description ?? '') + (PUSHABLE_SECTIONS.includes(section) ? '' : ' *Local-only*: a pushed configuration never changes this section.');
    out.push(`### \`${section}\``, '', intro, '', '| key | type | default | description |', '|---|---|---|---|');
    for (const r of rows) out.push(`| \`${cell(r.key)}\` | ${cell(r.type)} | ${r.default ? `\`${cell(r.default)}\`` : ''} | ${cell(r.description)} |`);
    out.push('');
  }
  out.push(REFERENCE_END);
  return out.join('\n');
}

/** README text with the reference section replaced, or appended when the markers are absent. */
export function spliceReference(readme: string, reference: string = renderConfigReference()): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) return `${readme.replace(/\n*$/, '\n\n')}${reference}\n`;
  return readme.slice(0, start) + reference + readme.slice(end + REFERENCE_END.length);
}
