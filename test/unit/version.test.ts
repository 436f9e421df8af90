import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version';

describe('runtime', () => {
  it('runs on the pinned Node.js 24, never the machine node 20', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
  });
  it('has a version string', () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });
});
