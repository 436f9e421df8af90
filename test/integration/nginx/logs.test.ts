// Per-server logs in operation (issue 27): the image's own logrotate rule
// (rootfs/etc/logrotate.d/twinvip-nginx) run by the real logrotate against a real Nginx under
// twinvip's controller, with the rule's paths pointed at the test's prefix: the access log is
// rotated, the postrotate's USR1 (to the pid file the rule names) makes Nginx reopen its files,
// and new lines land in a fresh file while the rotated one keeps the old ones, none lost.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { NginxController } from '../../../src/nginx';
import { processState } from '../../../src/nginx/proc';
import { describeRequiring, needsProgram, needsRoot } from '../../helpers/prerequisites';
import { waitFor } from '../../helpers/wait';
import { freePort, get, model, nginxEnv } from './env';
import { run } from './tls-env';

const RULE = resolve(__dirname, '../../../rootfs/etc/logrotate.d/twinvip-nginx');
const DEFAULT_PREFIX = '/var/lib/twinvip/nginx';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // keep cleaning
    }
  }
});

describeRequiring([needsRoot, needsProgram('nginx'), needsProgram('logrotate')], 'Nginx logs rotated by the image\'s logrotate rule', () => {
  it('rotates a server\'s access log, Nginx reopens it on the rule\'s USR1, and every request is in exactly one of the two files', async () => {
    const env = nginxEnv();
    cleanups.push(() => env.dir.remove());
    const port = await freePort();
    const m = model({
      prefix: env.prefix,
      status: { port: await freePort() },
      reload: { min_interval: 0.1, verify_timeout: 6 },
      http: [{ listen: [{ address: '127.0.0.1', port }], logs: { name: 'www' }, locations: [{ type: 'static', path: '/static/', root: env.www }] }],
    });
    const c = new NginxController({ model: m, log: env.log });
    cleanups.push(async () => {
      const pid = c.supervisor.pid;
      await c.stop();
      if (pid !== undefined && (await processState(pid)) === 'running') process.kill(pid, 'SIGKILL');
    });
    const r = await c.start();
    expect(r.ok, `${JSON.stringify(r)}\n${env.lines.join('\n')}`).toBe(true);

    const access = join(env.prefix, 'logs', 'www.access.log');
    const tagged = async (n: number) => expect((await get(port, `/static/app.css?req=${n}`)).status).toBe(200);
    const has = (file: string, n: number) => existsSync(file) && readFileSync(file, 'utf8').includes(`?req=${n} `);
    await tagged(1);
    await waitFor(() => has(access, 1), { what: 'request 1 in the access log' });

    // The shipped rule, its default prefix replaced by the test's (the pid file's path included).
    const rule = readFileSync(RULE, 'utf8');
    expect(rule).toContain(`${DEFAULT_PREFIX}/logs/*.log`);
    expect(rule).toContain(`${DEFAULT_PREFIX}/run/nginx.pid`);
    expect(c.applier.paths.pid).toBe(join(env.prefix, 'run', 'nginx.pid'));
    const conf = env.dir.file('logrotate.conf');
    writeFileSync(conf, rule.split(DEFAULT_PREFIX).join(env.prefix), { mode: 0o644 });
    const inodeBefore = statSync(access).ino;
    const lr = await run('logrotate', ['-f', '-v', '-s', env.dir.file('logrotate.state'), conf]);
    expect(lr.code, lr.stderr + lr.stdout).toBe(0);
    expect(lr.stderr + lr.stdout).toMatch(/running postrotate script/);

    // The old file is www.access.log.1 (delaycompress: not compressed in the first round).
    const rotated = `${access}.1`;
    expect(has(rotated, 1)).toBe(true);
    // Nginx reopens on USR1: the master creates a new file; requests then land there.
    let n = 1;
    await waitFor(
      async () => {
        await tagged(++n);
        return has(access, n);
      },
      { what: () => `a request logged in the new ${access} after the rotation (${n} sent)` },
    );
    expect(statSync(access).ino).not.toBe(inodeBefore);
    await tagged(++n);
    await waitFor(() => has(access, n), { what: `request ${n} in the new file` });
    // Every request is in exactly one file: nothing lost, nothing written twice.
    for (let i = 1; i <= n; i++) expect([has(rotated, i), has(access, i)].filter(Boolean), `request ${i}`).toHaveLength(1);
    expect(has(rotated, n)).toBe(false);
    // A second rotation compresses the first (delaycompress), as on the box after two days.
    const lr2 = await run('logrotate', ['-f', '-s', env.dir.file('logrotate.state'), conf]);
    expect(lr2.code, lr2.stderr).toBe(0);
    expect(existsSync(`${access}.2.gz`)).toBe(true);
  });
});
