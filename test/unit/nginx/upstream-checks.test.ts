import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { UpstreamConfig } from '../../../src/config/nginx/schema';
import { ScriptPolicy } from '../../../src/exec';
import { UpstreamChecks } from '../../../src/nginx/upstream-checks';
import type { TrackEvent } from '../../../src/track';
import { patience } from '../../helpers/patience';
import { makeTempDir } from '../../helpers/tmp';
import { load } from './helpers';

// The upstream check types the keepalived importer maps SSL_GET and MISC_CHECK to, run for real:
// a TLS server on loopback with a self-signed certificate, and a shell script. Each verdict here
// comes from the first run of a check (runs start at once), under a timeout no loaded machine
// reaches: with 0.2 s a fork of sh or a TLS handshake at load 20 timed out, and the timeout, not
// the script's exit or the status, decided (failed twice under stress-ng --cpu 2 --io 1).

const tmp = makeTempDir('tv-upck-');
afterAll(() => tmp.remove());

function firstDown(checks: (onChange: (ev: TrackEvent, group: string) => void) => UpstreamChecks, upstreams: Record<string, UpstreamConfig>) {
  return new Promise<{ checks: UpstreamChecks; ev: TrackEvent }>((resolve) => {
    const c = checks((ev) => {
      if (!ev.up) resolve({ checks: c, ev });
    });
    c.sync(upstreams);
  });
}

describe('upstream checks: https and script', () => {
  it('script: {address} and {port} become each server\'s; exit 0 up, else down; the schema takes script and user', async () => {
    const script = tmp.file('only-first.sh');
    writeFileSync(script, '#!/bin/sh\n[ "$1" = 127.0.0.1 ] && [ "$2" = 8001 ]\n', { mode: 0o755 });
    const parsed = load({
      upstreams: { db: { servers: [{ address: '127.0.0.1', port: 8001 }, { address: '127.0.0.2', port: 8002 }], check: { type: 'script', script: `${script} {address} {port}`, user: 'root', interval: 30, timeout: 30, rise: 1, fall: 1 } } },
      stream: [{ listen: { port: 15432 }, upstream: 'db' }],
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const { checks, ev } = await firstDown((on) => new UpstreamChecks(on, new ScriptPolicy({ security: false })), parsed.nginx.upstreams as Record<string, UpstreamConfig>);
    try {
      expect(ev.name).toBe('db/127.0.0.2:8002');
      expect(ev.cause).toMatch(/exit 1/);
      expect([...checks.failing()]).toEqual(['db/127.0.0.2:8002']);
    } finally {
      checks.stop();
    }
  });

  it('the rules refuse type script without a script', () => {
    const r = load({ upstreams: { db: { servers: [{ address: '127.0.0.1', port: 1 }], check: { type: 'script' } } }, stream: [{ listen: { port: 15432 }, upstream: 'db' }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain('/nginx/upstreams/db/check/script');
  });

  it('https: GET over TLS without verifying a self-signed certificate; the status decides', async () => {
    const key = tmp.file('k.pem');
    const cert = tmp.file('c.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=rs', '-days', '2', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const paths: string[] = [];
    const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      paths.push(req.url ?? '');
      res.statusCode = req.url === '/healthz' ? 204 : 500;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const up = (path: string): Record<string, UpstreamConfig> => ({ web: { balance: 'round_robin', hash_consistent: false, servers: [{ address: '127.0.0.1', port, weight: 1, max_fails: 1, fail_timeout: 10, backup: false }], check: { type: 'https', path, status: [204], interval: 30, timeout: 30, rise: 1, fall: 1 } } });
      // Healthy: the first run's result is recorded (every result goes through the counters).
      const ok = new UpstreamChecks(() => undefined);
      ok.sync(up('/healthz'));
      await expect.poll(() => ok.states()[0]?.last, { timeout: patience(20_000) }).toBeDefined();
      expect(paths.filter((p) => p === '/healthz')).toHaveLength(1);
      expect(ok.states()[0]).toMatchObject({ up: true, failures: 0 });
      expect(ok.states()[0]?.last).toMatch(/https:\/\/127\.0\.0\.1:\d+\/healthz: status 204/);
      ok.stop();
      const { checks, ev } = await firstDown((on) => new UpstreamChecks(on), up('/broken'));
      checks.stop();
      expect(ev.cause).toMatch(/status 500, expected 204/);
    } finally {
      server.close();
    }
  });
});
