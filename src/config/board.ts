// Board profiles: per-board facts in <boards dir>/<name>/board.json (interface names, serial
// devices, status LED, watchdog device). A configuration that says `"node": {"board": NAME}`
// inherits them before validation:
//   - an interface written "@lan" / "@uplink" (any key of the board's `interfaces`) in
//     instances.*.interface, instances.*.vips[].dev and instances.*.track_interfaces becomes
//     the board's interface name, so one config serves boards that name their NICs differently;
//   - heartbeat.serial.device / baud and console.device / baud default to the board's serial
//     heartbeat and console ports when the section is present and leaves them out;
//   - node.status_led defaults to the board's status LED (kind "sysfs-led").
// Values written in the config always win. Boards are looked up in $TWINVIP_BOARD_DIR (a
// colon-separated list), else in the `board` folder of the install (/opt/twinvip/board, beside
// lib/ holding the bundle) or of the source tree (the repo's board/).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isInterfaceName } from './formats';
import type { ConfigIssue } from '../lib/config-issues';
import { escapePointer } from '../lib/issue-collector';
import { closest } from '../lib/suggest';

export interface BoardFacts {
  name: string;
  description?: string;
  /** "arm64", "x64" or "any" (the simulated board). */
  arch?: string;
  /** Role -> Linux interface name, e.g. { lan: "lan0", uplink: "wan0" }. */
  interfaces: Record<string, string>;
  serial: { heartbeat?: string; console?: string; baud?: number };
  status_led?: { kind: string; path?: string; [k: string]: unknown };
  /** Hardware watchdog device for systemd's RuntimeWatchdogSec (twinvip pings systemd, not it). */
  watchdog?: string | null;
}

export interface BoardCatalog {
  /** Where boards were looked for (for messages). */
  readonly dirs: readonly string[];
  names(): string[];
  /** The board, or an error message when its board.json is missing or malformed. */
  get(name: string): { ok: true; board: BoardFacts } | { ok: false; error: string } | undefined;
}

const ROLE_REF = /^@([a-z][a-z0-9_-]*)$/;
/** The schema's pattern for node.board. */
const BOARD_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** Default search path: $TWINVIP_BOARD_DIR, else the nearest `board` folder up from this module. */
export function defaultBoardDirs(env: NodeJS.ProcessEnv = process.env, fromDir = moduleDir()): string[] {
  if (env.TWINVIP_BOARD_DIR) return env.TWINVIP_BOARD_DIR.split(':').filter(Boolean);
  // dist/twinvip.js -> <repo>/board; /opt/twinvip/lib/twinvip.js -> /opt/twinvip/board;
  // src/config/board.ts (tests) -> <repo>/board.
  let dir = fromDir;
  for (let i = 0; i < 3; i++) {
    const candidate = join(dir, 'board');
    if (existsSync(candidate) && hasBoards(candidate)) return [candidate];
    dir = dirname(dir);
  }
  return ['/opt/twinvip/board'];
}

function moduleDir(): string {
  try {
    return dirname(fileURLToPath(import.meta.url));
  } catch {
    return process.cwd();
  }
}

function hasBoards(dir: string): boolean {
  try {
    return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && existsSync(join(dir, e.name, 'board.json')));
  } catch {
    return false;
  }
}

/** Reads boards from folders on demand (synchronously: a handful of small files at load time). */
export function fsBoardCatalog(dirs: readonly string[] = defaultBoardDirs()): BoardCatalog {
  const locate = (name: string) => dirs.map((d) => join(d, name, 'board.json')).find((p) => existsSync(p));
  return {
    dirs,
    names() {
      const out = new Set<string>();
      for (const d of dirs) {
        try {
          for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory() && existsSync(join(d, e.name, 'board.json'))) out.add(e.name);
        } catch {
          // A missing folder just has no boards.
        }
      }
      return [...out].sort();
    },
    get(name) {
      const path = locate(name);
      if (!path) return undefined;
      let data: unknown;
      try {
        data = JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        return { ok: false, error: `${path}: ${(err as Error).message}` };
      }
      const problem = boardProblem(data, name);
      return problem ? { ok: false, error: `${path}: ${problem}` } : { ok: true, board: data as BoardFacts };
    },
  };
}

/** Why a board.json is unusable, or undefined. Checks only what inheritance relies on. */
export function boardProblem(data: unknown, name: string): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'must be a JSON object';
  const b = data as Record<string, unknown>;
  if (b.name !== name) return `"name" must be "${name}" (the folder name), got ${JSON.stringify(b.name)}`;
  const ifs = b.interfaces;
  if (typeof ifs !== 'object' || ifs === null || Array.isArray(ifs)) return '"interfaces" must map roles to interface names, e.g. {"lan": "lan0"}';
  for (const [role, ifname] of Object.entries(ifs)) {
    if (!ROLE_REF.test(`@${role}`)) return `interface role "${role}" must be lower-case letters, digits, "_" or "-"`;
    if (typeof ifname !== 'string' || !isInterfaceName(ifname)) return `interfaces.${role} must be an interface name, got ${JSON.stringify(ifname)}`;
  }
  const serial = b.serial ?? {};
  if (typeof serial !== 'object' || serial === null) return '"serial" must be an object';
  for (const k of ['heartbeat', 'console'] as const) {
    const dev = (serial as Record<string, unknown>)[k];
    // Absolute, not necessarily /dev/: the simulated board's ports are socat pty links in /run.
    if (dev !== undefined && dev !== null && (typeof dev !== 'string' || !dev.startsWith('/'))) return `serial.${k} must be an absolute device path, got ${JSON.stringify(dev)}`;
  }
  const baud = (serial as Record<string, unknown>).baud;
  if (baud !== undefined && (typeof baud !== 'number' || !Number.isInteger(baud) || baud <= 0)) return `serial.baud must be a positive integer, got ${JSON.stringify(baud)}`;
  if (b.watchdog !== undefined && b.watchdog !== null && (typeof b.watchdog !== 'string' || !b.watchdog.startsWith('/dev/'))) return `"watchdog" must be a device path or null`;
  if (b.serial === undefined) b.serial = {};
  return undefined;
}

export interface BoardApplied {
  board?: BoardFacts;
  errors: ConfigIssue[];
}

/**
 * Applies node.board to the parsed, not yet validated configuration, in place (so the schema
 * and the semantic rules then check the result, with the same JSON pointers). Shapes it does
 * not recognise are left for the schema to report.
 */
export function applyBoard(data: Record<string, unknown>, catalog: BoardCatalog): BoardApplied {
  const errors: ConfigIssue[] = [];
  const node = obj(data.node);
  const name = node?.board;
  let board: BoardFacts | undefined;
  // A name the schema will refuse (e.g. "../x") is never used as a path: the schema reports it
  // alone (role errors would only be noise beside it).
  if (name !== undefined && (typeof name !== 'string' || !BOARD_NAME.test(name))) return { errors };
  if (typeof name === 'string') {
    const found = catalog.get(name);
    if (!found) {
      const names = catalog.names();
      const guess = closest(name, names);
      errors.push({
        path: '/node/board',
        value: name,
        message: `unknown board "${name}"${guess ? `; did you mean "${guess}"?` : ''}`,
        hint: `${names.length ? names.join(', ') : 'no boards'} (in ${catalog.dirs.join(':')}; set TWINVIP_BOARD_DIR to look elsewhere)`,
      });
      return { errors };
    }
    if (!found.ok) {
      errors.push({ path: '/node/board', value: name, message: `board "${name}" is unusable: ${found.error}` });
      return { errors };
    }
    board = found.board;
  }

  const resolve = (path: string, value: unknown, set: (v: string) => void) => {
    if (typeof value !== 'string') return;
    const m = ROLE_REF.exec(value);
    if (!m) return;
    if (!board) {
      errors.push({ path, value, message: `"${value}" names a board interface role, but node.board is not set`, hint: 'set node.board, e.g. "generic-arm64", or write the interface name' });
      return;
    }
    const ifname = board.interfaces[m[1]!];
    if (ifname === undefined) {
      errors.push({ path, value, message: `board "${board.name}" has no interface role "${m[1]}"`, hint: Object.keys(board.interfaces).map((r) => `@${r}`).join(', ') });
      return;
    }
    set(ifname);
  };

  for (const [instName, raw] of Object.entries(obj(data.instances) ?? {})) {
    const inst = obj(raw);
    if (!inst) continue;
    const base = `/instances/${escapePointer(instName)}`;
    resolve(`${base}/interface`, inst.interface, (v) => (inst.interface = v));
    if (Array.isArray(inst.vips)) {
      inst.vips.forEach((vip, i) => {
        const o = obj(vip);
        if (o) resolve(`${base}/vips/${i}/dev`, o.dev, (v) => (o.dev = v));
      });
    }
    if (Array.isArray(inst.track_interfaces)) {
      const list = inst.track_interfaces as unknown[];
      list.forEach((t, i) => {
        const o = obj(t);
        if (o) resolve(`${base}/track_interfaces/${i}/name`, o.name, (v) => (o.name = v));
        else resolve(`${base}/track_interfaces/${i}`, t, (v) => (list[i] = v));
      });
    }
  }

  if (board) {
    const node = obj(data.node);
    const led = board.status_led;
    if (node && node.status_led === undefined && led?.kind === 'sysfs-led' && typeof led.path === 'string') node.status_led = led.path;
    const serial = obj(obj(data.heartbeat)?.serial);
    if (serial) {
      if (serial.device === undefined && board.serial.heartbeat) serial.device = board.serial.heartbeat;
      if (serial.baud === undefined && board.serial.baud !== undefined) serial.baud = board.serial.baud;
    }
    const consoleCfg = obj(data.console);
    if (consoleCfg) {
      if (consoleCfg.device === undefined && board.serial.console) consoleCfg.device = board.serial.console;
      if (consoleCfg.baud === undefined && board.serial.baud !== undefined) consoleCfg.baud = board.serial.baud;
    }
  }
  return { board, errors };
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

