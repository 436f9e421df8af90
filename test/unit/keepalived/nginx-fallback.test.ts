import { describe, expect, it, vi } from 'vitest';

// The Nginx section's schema is written in parallel: simulate it refusing the importer's upstream
// shape, and check that the virtual servers then move to the report instead of failing the import.
vi.mock('../../../src/config/load', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/config/load')>();
  return {
    ...real,
    parseConfigText: (text: string, source?: string) => {
      if (JSON.parse(text).nginx) {
        return { ok: false, errors: [{ path: '/nginx/upstreams/x/health_check', message: 'must NOT have additional properties' }], warnings: [] };
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
    expect(vs?.message).toMatch(/refused the mapped upstream \(must NOT have additional properties\); add it by hand: upstream \{"balance":"least_conn"/);
  });
});
