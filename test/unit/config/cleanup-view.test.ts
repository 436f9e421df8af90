// `twinvip cleanup` reads the configuration without the full validator (src/config/cleanup-view.ts).
// It must name exactly the VIPs the daemon would move (checked against the full loader on every
// shipped configuration), and refuse — naming the field — anything it cannot read with certainty.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupView } from '../../../src/config/cleanup-view';
import { fsBoardCatalog, instanceVips, parseConfigText, type BoardCatalog } from '../../../src/config/index';
import { baseConfig } from './helpers';

const ROOT = resolve(import.meta.dirname, '../../..');
const catalog = fsBoardCatalog([join(ROOT, 'board')]);
const noBoards: BoardCatalog = { dirs: ['/nowhere'], names: () => [], get: () => undefined };

const shipped = [
  ...readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).map((f) => join(ROOT, 'examples', f)),
  join(ROOT, 'rootfs/etc/twinvip/twinvip.json'),
];

describe('cleanupView', () => {
  it.each(shipped)('names the VIPs the full loader gives the instances: %s', (file) => {
    const text = readFileSync(file, 'utf8');
    const full = parseConfigText(text, file, { boards: catalog });
    expect(full.ok).toBe(true);
    if (!full.ok) return;
    const view = cleanupView(JSON.parse(text), catalog);
    expect(view.ok).toBe(true);
    if (!view.ok) return;
    const expected = Object.entries(full.config.instances).flatMap(([name, inst]) =>
      instanceVips(inst).map((v) => ({ ...v, instance: name, owned: inst.address_owner })),
    );
    expect(view.vips).toEqual(expected);
    expect(view.socket ?? '/run/twinvip/control.sock').toBe(full.config.control.socket);
  });

  it('takes dev, prefix and excluded VIPs, and marks an address owner', () => {
    const c = baseConfig() as Record<string, any>;
    c.instances.VI_1.vips = ['10.0.0.1/24', { address: '10.0.0.2', prefix: 28, dev: 'lan9' }];
    c.instances.VI_1.excluded_vips = ['2001:db8::0:1'];
    c.instances.OWN = { interface: 'lan1', vrid: 9, priority: 255, address_owner: true, vips: ['10.1.0.1/24'] };
    const v = cleanupView(c, noBoards);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.vips.map((x) => [x.instance, x.address, x.prefix, x.dev, x.excluded, x.owned])).toEqual([
      ['VI_1', '10.0.0.1', 24, c.instances.VI_1.interface, false, false],
      ['VI_1', '10.0.0.2', 28, 'lan9', false, false],
      ['VI_1', '2001:db8::1', 128, c.instances.VI_1.interface, true, false],
      ['OWN', '10.1.0.1', 24, 'lan1', false, true],
    ]);
  });

  it('resolves board interface roles as the full loader does, and refuses an unknown role', () => {
    const c = { node: { name: 'a', board: 'generic-arm64' }, instances: { VI_1: { interface: '@lan', vips: ['10.0.0.1/24'] } } };
    const v = cleanupView(c, catalog);
    expect(v.ok && v.vips[0]!.dev).toMatch(/^[a-z]/);
    expect(v.ok && v.vips[0]!.dev).not.toBe('@lan');
    const bad = cleanupView({ node: { name: 'a', board: 'generic-arm64' }, instances: { VI_1: { interface: '@nope', vips: ['10.0.0.1/24'] } } }, catalog);
    expect(bad).toMatchObject({ ok: false, errors: [{ path: '/instances/VI_1/interface', message: expect.stringContaining('no interface role "nope"') }] });
  });

  it.each([
    [{ instances: [] }, '/instances', 'must be an object'],
    [{ instances: { VI_1: 'x' } }, '/instances/VI_1', 'must be an object'],
    [{ instances: { VI_1: { vips: ['10.0.0.1'] } } }, '/instances/VI_1/interface', 'interface name'],
    [{ instances: { VI_1: { interface: 'lan0/1', vips: ['10.0.0.1'] } } }, '/instances/VI_1/interface', 'interface name'],
    [{ instances: { VI_1: { interface: 'lan0', vips: '10.0.0.1' } } }, '/instances/VI_1/vips', 'must be an array'],
    [{ instances: { VI_1: { interface: 'lan0', vips: ['10.0.0.300/24'] } } }, '/instances/VI_1/vips/0', 'not an address'],
    [{ instances: { VI_1: { interface: 'lan0', vips: ['10.0.0.1/33'] } } }, '/instances/VI_1/vips/0', 'not an address'],
    [{ instances: { VI_1: { interface: 'lan0', excluded_vips: [{ address: '10.0.0.1', prefix: 40 }] } } }, '/instances/VI_1/excluded_vips/0/prefix', 'prefix length'],
    [{ instances: { VI_1: { interface: 'lan0', vips: [{ address: '10.0.0.1', dev: 'a b' }] } } }, '/instances/VI_1/vips/0/dev', 'interface name'],
    [{ instances: { VI_1: { interface: 'lan0', vips: [{ address: '10.0.0.1', devv: 'lan1' }] } } }, '/instances/VI_1/vips/0/devv', 'unknown field'],
    [{ instances: { VI_1: { interface: 'lan0', vips: [{ address: '10.0.0.1/24' }] } } }, '/instances/VI_1/vips/0/address', 'prefix goes in "prefix"'],
    [{ instances: { VI_1: { interface: 'lan0', address_owner: 'yes', vips: ['10.0.0.1'] } } }, '/instances/VI_1/address_owner', 'true or false'],
    [{ control: { socket: 5 }, instances: {} }, '/control/socket', 'must be a path'],
  ])('refuses %j at %s', (config, path, message) => {
    const v = cleanupView(config, noBoards);
    expect(v).toMatchObject({ ok: false, errors: [{ path, message: expect.stringContaining(message) }] });
  });

  it('refuses a file that is not an object', () => {
    expect(cleanupView([1], noBoards)).toMatchObject({ ok: false, errors: [{ path: '', message: expect.stringContaining('JSON object') }] });
  });
});
