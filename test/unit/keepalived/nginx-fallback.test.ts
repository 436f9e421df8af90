import { describe, expect, it, vi } from 'vitest';

// If the Nginx section refuses the mapped virtual servers (a schema change, or a semantic rule such
// as a port taken by the status endpoint), the import must keep the rest and move the virtual
// servers to the report with their proposed JSON. Simulated: the real schema accepts the mapping.
vi.mock('../../../src/config/load', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/config/load')>();
  return {
    ...real,
    parseConfigText: (text: string, source?: string) => {
      if (JSON.parse(text).nginx) {
        return { ok: false, errors: [{ path: '/nginx/upstreams/x/check', message: 'must NOT have additional properties' }], warnings: [] };
      }
      return real.parseConfigText(text, source);
    },
  };
});

const { importKeepalived } = await import('../../../src/config/keepalived');

describe('Nginx section refused', () => {
  it('keeps the VRRP part and lists each virtual_server as not converted with its proposed JSON', () => {
    const r = importKeepalived('test/fixtures/keepalived/old-keywords.conf');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.nginx).toBeUndefined();
    expect((r.config.instances as Record<string, unknown>).VI_OLD).toBeDefined();
    const vs = r.notes.find((n) => n.keyword === 'virtual_server 10.9.0.100 80' && n.severity === 'unconverted');
    expect(vs?.line).toBe(32);
    const upstream = { balance: 'least_conn', servers: [{ address: '10.9.0.11', port: 80 }], check: { type: 'tcp', interval: 5, timeout: 2, rise: 1, fall: 3 } };
    const stream = { listen: { address: '10.9.0.100', port: 80, protocol: 'tcp' }, upstream: 'vs_10_9_0_100_80', timeout: 900 };
    expect(vs?.message).toBe(`the Nginx section refused the mapped upstream (must NOT have additional properties); add it by hand: upstream vs_10_9_0_100_80 ${JSON.stringify(upstream)} stream server ${JSON.stringify(stream)}`);
  });
});
