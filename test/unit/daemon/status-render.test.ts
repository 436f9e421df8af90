import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../../src/commands/status';
import type { DaemonStatus } from '../../../src/daemon';

const base: DaemonStatus = {
  node: 'box-a',
  version: '0.1.0',
  pid: 42,
  started_at: '2026-11-25T14:00:00.000Z',
  uptime_s: 3723,
  config: { path: '/etc/twinvip/twinvip.json', hash: 'abc123', loaded_at: '2026-11-25T14:00:00.000Z', reloads: 2, refused_reloads: 1 },
  control: { socket: '/run/twinvip/control.sock', clients: 1 },
  health: { state: 'ok', reasons: [] },
  features: {},
  instances: [],
  counters: { control: { requests: 5, errors: 0 } },
};

describe('status table', () => {
  it('shows node, uptime, config hash and only non-zero counters', () => {
    const out = renderStatus(base);
    expect(out).toMatch(/^node\s+box-a$/m);
    expect(out).toMatch(/^uptime\s+1h 2m 3s$/m);
    expect(out).toContain('/etc/twinvip/twinvip.json (hash abc123, 2 reload(s), 1 refused)');
    expect(out).toContain('instances: none running');
    expect(out).toMatch(/control\.requests\s+5/);
    expect(out).not.toContain('control.errors');
  });
  it('lists instances in aligned columns', () => {
    const out = renderStatus({ ...base, instances: [{ name: 'VI_1', state: 'MASTER', priority: 150 }, { name: 'VI_LONGER', state: 'BACKUP' }] });
    expect(out).toContain('INSTANCE   STATE   PRIORITY\nVI_1       MASTER  150\nVI_LONGER  BACKUP  -');
  });
});
