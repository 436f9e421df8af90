// `twinvip demo` end to end from the bundle, as `make demo` runs it but with stdout a pipe (so
// line output): it must build its lab, run the whole failover story, clean up, and exit 0.
// The demo creates and removes its own namespaces (prefix tvd + 4 hex, read from its output).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildBundle, runCli, spawnTwinvip, type SpawnedProcess } from '../../helpers/bundle';
import { withTimeout } from '../../helpers/wait';
import { NetnsLab } from '../helpers/netns';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

describeRequiring([...NetnsLab.prerequisites, needsProgram('openssl')], 'twinvip demo (non-TTY, line output)', () => {
  let out = '';
  let code: number | null = null;
  let prefix = '';

  beforeAll(async () => {
    buildBundle();
    const r = await runCli(['demo', '--step-timeout', String(patience(30_000) / 1000)], { timeoutMs: 110_000, env: { ...process.env, TERM: 'dumb' } });
    out = r.stdout + r.stderr;
    code = r.code;
    prefix = /^demo: lab prefix (tvd[0-9a-f]{4})$/m.exec(out)?.[1] ?? '';
  }, patience(120_000));

  it('runs the whole story and exits 0', () => {
    expect(code, out).toBe(0);
    expect(out).toMatch(/^demo: all steps passed$/m);
    expect(out).not.toMatch(/\x1b\[/); // no ANSI when stdout is not a terminal
  });

  it('observes the takeover by box-b after box-a loses its LAN link, and the preempt back', () => {
    expect(out).toMatch(/^RESULT takeover after link cut: client answered by box-b \d+ ms after the cut .*takeover observed$/m);
    expect(out).toMatch(/^RESULT preempt back: client answered by box-a \d+ ms after the link came back$/m);
    expect(out).toMatch(/^RESULT graceful stop: client answered by box-b \d+ ms after SIGTERM \(box-b MASTER seen at \d+ ms\); box-a exited with code 0$/m);
  });

  it('the Ethernet cut with the serial link alive yields no second master (when this build runs the serial heartbeat)', () => {
    const serialActive = /^part: serial heartbeat: active$/m.test(out);
    const line = /^RESULT Ethernet cut, serial alive: .*$/m.exec(out)?.[0];
    expect(line, out).toBeDefined();
    if (serialActive) {
      expect(line).toMatch(/no second master during the \d+ ms cut/);
      expect(line).toMatch(/no dual master$/);
    } else {
      // Without the serial heartbeat the demo must say it skipped the check, not pass silently.
      expect(out).toMatch(/^part: serial heartbeat: SKIPPED — /m);
      expect(line).toMatch(/SKIPPED the no-dual-master check: serial heartbeat not in this build$/);
    }
  });

  it('reports every part as active or skipped with a reason', () => {
    for (const label of ['serial heartbeat', 'Nginx control', 'MQTT reporting']) {
      expect(out).toMatch(new RegExp(`^part: ${label}: (active|SKIPPED — .+)$`, 'm'));
    }
    expect(out).toMatch(/^client: probing http:\/\/10\.88\.0\.100\/who every 100 ms/m);
  });

  it('with MQTT reporting in the build, the client sees box-b\'s transition event through the broker', () => {
    if (!/^part: MQTT reporting: active$/m.test(out)) {
      expect(out).toMatch(/^part: MQTT reporting: SKIPPED — /m);
      return;
    }
    expect(out).toMatch(/^ +\+ *[\d.]+ s  mqtt box-b transition: VI_LAN: BACKUP -> MASTER/m);
  });

  it('Nginx serves the VIP in each box, driven by twinvip, over HTTP and HTTPS; the client sees the failover over HTTPS with fresh handshakes', () => {
    // This build has Nginx control: the HTTPS checks below must run, never be skipped by a
    // part that silently failed to start.
    expect(out).toMatch(/^part: Nginx control: active$/m);
    expect(out).toMatch(/^nginx: driven by twinvip in both boxes/m);
    // The dynamic path went through each box's Nginx to its upstream: both names were answered.
    expect(out).toMatch(/client: http:\/\/VIP\/who answered by box-a/);
    expect(out).toMatch(/client: http:\/\/VIP\/who answered by box-b/);
    // Static/dynamic separation: the static page is served by Nginx itself, by the VIP holder.
    expect(out).toMatch(/client: static page http:\/\/VIP\/ served by Nginx on box-a/);
    expect(out).toMatch(/client: static page http:\/\/VIP\/ served by Nginx on box-b/);
    // HTTPS with the demo's self-signed certificate, a full handshake per probe, on both boxes.
    expect(out).toMatch(/^client: also probing https:\/\/10\.88\.0\.100\/who every 100 ms, a fresh TLS handshake each time/m);
    expect(out).toMatch(/client: https:\/\/VIP\/who \(new TLS handshake\) answered by box-a/);
    expect(out).toMatch(/client: https:\/\/VIP\/who \(new TLS handshake\) answered by box-b/);
    expect(out).toMatch(/^RESULT takeover after link cut: .*; HTTPS \(fresh TLS handshake each probe\) by box-b \d+ ms after the cut, 0 resumed sessions/m);
  });

  it('cleans up: no namespace with the run prefix is left', () => {
    expect(prefix).toMatch(/^tvd[0-9a-f]{4}$/);
    expect(out).toContain(`no namespace left with prefix ${prefix}`);
    const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(list.split('\n').filter((l) => l.startsWith(`${prefix}-`))).toEqual([]);
  });
});

describeRequiring(NetnsLab.prerequisites, 'twinvip demo --interactive, stopped with Ctrl-C', () => {
  let demo: SpawnedProcess | undefined;
  afterAll(async () => {
    await demo?.stop(20_000);
  });

  it('SIGINT while the lab runs: cleans up its namespaces and processes, exits 130', async () => {
    buildBundle();
    demo = spawnTwinvip(['demo', '--interactive', '--step-timeout', String(patience(45_000) / 1000)], { env: { ...process.env, TERM: 'dumb' } });
    const prefixLine = await demo.waitForLine((l) => /^demo: lab prefix tvd[0-9a-f]{4}$/.test(l.text), { timeoutMs: 30_000, what: 'the prefix line' });
    const prefix = prefixLine.text.slice('demo: lab prefix '.length);
    await demo.waitForLine((l) => l.text.startsWith('client: probing'), { timeoutMs: 60_000, what: 'the lab to be up' });
    const during = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(during).toContain(`${prefix}-a`);
    demo.signal('SIGINT');
    const exit = await withTimeout(demo.exited, 30_000, 'the demo to exit after SIGINT');
    expect(exit.code, demo.transcript()).toBe(130);
    expect(demo.lines.map((l) => l.text)).toContain('demo: interrupted');
    const after = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(after.split('\n').filter((l) => l.startsWith(`${prefix}-`))).toEqual([]);
  }, patience(90_000));
});
