// Board profiles: the repo's board/ folders are valid, node.board fills interface roles and
// serial devices before validation, and `twinvip check` names an unknown board with the list.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardProblem, fsBoardCatalog, parseConfigText, type BoardCatalog, type BoardFacts } from '../../../src/config';
import { REPO_ROOT, buildBundle, runCli } from '../../helpers/bundle';
import { makeTempDir, type TempDir } from '../../helpers/tmp';

const BOARD_DIR = join(REPO_ROOT, 'board');

function catalog(boards: BoardFacts[]): BoardCatalog {
  return {
    dirs: ['/mem'],
    names: () => boards.map((b) => b.name).sort(),
    get: (name) => {
      const b = boards.find((x) => x.name === name);
      return b ? { ok: true, board: b } : undefined;
    },
  };
}

const BOX: BoardFacts = { name: 'box', interfaces: { lan: 'eth1', uplink: 'eth0' }, serial: { heartbeat: '/dev/ttyS3', console: '/dev/ttyS4', baud: 57600 } };

function config(extra: Record<string, unknown> = {}, inst: Record<string, unknown> = {}): string {
  return JSON.stringify({
    node: { name: 'a', board: 'box' },
    instances: { VI_1: { interface: '@lan', vrid: 1, priority: 100, vips: [{ address: '192.0.2.1', prefix: 24, dev: '@uplink' }], track_interfaces: ['@uplink', { name: '@lan', weight: -10 }], ...inst } },
    heartbeat: { serial: { node_id: 1, key: '0123456789abcdef0123' } },
    console: { enabled: true },
    ...extra,
  });
}

describe('board/ folders', () => {
  it('every board.json in the repo is valid and named like its folder; generic-arm64 and sim exist', () => {
    const names = readdirSync(BOARD_DIR);
    expect(names).toEqual(expect.arrayContaining(['generic-arm64', 'sim']));
    for (const n of names) {
      const data = JSON.parse(readFileSync(join(BOARD_DIR, n, 'board.json'), 'utf8'));
      expect(boardProblem(data, n), n).toBeUndefined();
      expect(Object.keys(data.interfaces)).toEqual(expect.arrayContaining(['lan', 'uplink']));
    }
    expect(fsBoardCatalog([BOARD_DIR]).names()).toEqual([...names].sort());
  });

  it('boardProblem names what is wrong', () => {
    expect(boardProblem({ name: 'x', interfaces: { lan: 'lan0' } }, 'y')).toMatch(/"name" must be "y"/);
    expect(boardProblem({ name: 'x', interfaces: { lan: 'has space' } }, 'x')).toMatch(/interfaces\.lan must be an interface name/);
    expect(boardProblem({ name: 'x', interfaces: { lan: 'lan0' }, serial: { heartbeat: 'ttyS1' } }, 'x')).toMatch(/serial\.heartbeat must be an absolute/);
    expect(boardProblem({ name: 'x', interfaces: {} , watchdog: 'watchdog0' }, 'x')).toMatch(/"watchdog" must be a device path/);
  });
});

describe('node.board inheritance', () => {
  it('fills @roles and serial devices; explicit values win', () => {
    const r = parseConfigText(config(), 'c.json', { boards: catalog([BOX]) });
    expect(r.ok, JSON.stringify(!r.ok && r.errors)).toBe(true);
    if (!r.ok) return;
    const i = r.config.instances.VI_1!;
    expect(i.interface).toBe('eth1');
    expect(i.vips).toEqual([expect.objectContaining({ dev: 'eth0' })]);
    expect(i.track_interfaces).toEqual(['eth0', expect.objectContaining({ name: 'eth1' })]);
    expect(r.config.heartbeat.serial).toMatchObject({ device: '/dev/ttyS3', baud: 57600 });
    expect(r.config.console).toMatchObject({ device: '/dev/ttyS4', baud: 57600 });
    expect(r.board?.name).toBe('box');

    const own = parseConfigText(config({ heartbeat: { serial: { node_id: 1, key: '0123456789abcdef0123', device: '/dev/ttyUSB0', baud: 9600 } } }, { interface: 'lan9' }), 'c.json', { boards: catalog([BOX]) });
    expect(own.ok).toBe(true);
    if (own.ok) {
      expect(own.config.instances.VI_1!.interface).toBe('lan9');
      expect(own.config.heartbeat.serial).toMatchObject({ device: '/dev/ttyUSB0', baud: 9600 });
    }
  });

  it('an unknown board is refused at /node/board with the closest name and the list', () => {
    const r = parseConfigText(config({ node: { name: 'a', board: 'bx' } }), 'c.json', { boards: catalog([BOX, { ...BOX, name: 'other' }]) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([expect.objectContaining({ path: '/node/board', message: 'unknown board "bx"; did you mean "box"?', hint: expect.stringContaining('box, other') })]);
    expect(r.errors[0]!.line).toBe(1);
  });

  it('"@role" without node.board, or a role the board lacks, is an error at its own path', () => {
    const noBoard = parseConfigText(config({ node: { name: 'a' } }), 'c.json', { boards: catalog([BOX]) });
    expect(noBoard.ok).toBe(false);
    if (!noBoard.ok) expect(noBoard.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['/instances/VI_1/interface', '/instances/VI_1/vips/0/dev', '/instances/VI_1/track_interfaces/0', '/instances/VI_1/track_interfaces/1/name']));
    const noRole = parseConfigText(config({}, { interface: '@mgmt' }), 'c.json', { boards: catalog([BOX]) });
    expect(noRole.ok).toBe(false);
    if (!noRole.ok) expect(noRole.errors[0]).toMatchObject({ path: '/instances/VI_1/interface', message: 'board "box" has no interface role "mgmt"', hint: '@lan, @uplink' });
  });

  it('a board name that is not a folder name is left to the schema (never used as a path)', () => {
    const r = parseConfigText(config({ node: { name: 'a', board: '../etc' } }), 'c.json', { boards: fsBoardCatalog([BOARD_DIR]) });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatchObject({ path: '/node/board', value: '../etc' });
    if (!r.ok) expect(r.errors.filter((e) => /board interface role/.test(e.message))).toEqual([]);
  });
});

describe('twinvip check with boards', () => {
  let dir: TempDir;
  beforeAll(() => {
    buildBundle();
    dir = makeTempDir();
  });
  afterAll(() => dir.remove());

  it('the shipped default config inherits generic-arm64 (lan0, /dev/ttyS1) from the repo board/', async () => {
    const r = await runCli(['check', '--offline', '-c', join(REPO_ROOT, 'rootfs/etc/twinvip/twinvip.json')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/VI_1 v2 lan0 vrid 51/);
    expect(r.stdout).toMatch(/serial heartbeat on \/dev\/ttyS1/);
  });

  it('an unknown board: exit 1, the list of boards and where they were looked for', async () => {
    const cfg = join(dir.path, 'bad-board.json');
    writeFileSync(cfg, config({ node: { name: 'a', board: 'generic-arm46' } }));
    const r = await runCli(['check', '-c', cfg]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/\/node\/board: unknown board "generic-arm46"; did you mean "generic-arm64"\?/);
    expect(r.stdout + r.stderr).toMatch(/generic-arm64, rpi4, sim \(in \S+\/board;/);
  });

  it('TWINVIP_BOARD_DIR points at another boards folder', async () => {
    const boards = join(dir.path, 'boards');
    mkdirSync(join(boards, 'box'), { recursive: true });
    writeFileSync(join(boards, 'box', 'board.json'), JSON.stringify(BOX));
    const cfg = join(dir.path, 'box.json');
    writeFileSync(cfg, config());
    const r = await runCli(['check', '-c', cfg], { env: { ...process.env, TWINVIP_BOARD_DIR: boards } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/VI_1 v2 eth1 vrid 1/);
    expect(r.stdout).toMatch(/serial heartbeat on \/dev\/ttyS3/);
  });
});
