// Real lab suites run by a user who is not root, as on a developer's machine: vitest in a user
// namespace where this process is uid 1000 (it can still read the checkout, whoever owns it, but
// cannot create network namespaces). Under CI=true they must fail with the reason; only
// TWINVIP_ALLOW_SKIP=1 turns that into a skip that names the reason.
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { NODE, REPO_ROOT } from '../../helpers/bundle';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';

// One real lab suite is enough: the helper is shared; each extra file costs a vitest collection.
const FILES = ['test/integration/vrrp/preempt.test.ts'];

function vitestAsUser(extraEnv: Record<string, string>): Promise<{ code: number | null; out: string }> {
  // A clean environment: the parent's VITEST_* variables must not leak into the nested run.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', NO_COLOR: '1', ...extraEnv };
  const args = ['--user', '--map-user=1000', '--map-group=1000', NODE, 'node_modules/.bin/vitest', 'run', '--configLoader', 'runner', '--project', 'integration', ...FILES];
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describeRequiring([needsProgram('unshare', 'util-linux')], 'lab suites run as a user who is not root', () => {
  it('fail under CI=true, each naming the missing prerequisite', async () => {
    const { code, out } = await vitestAsUser({ CI: 'true' });
    expect(code, out).toBe(1);
    for (const f of FILES) expect(out).toMatch(new RegExp(`FAIL .*${f.replaceAll('.', '\\.')} > .* > has its prerequisites`));
    expect(out).toContain('missing prerequisite: not root (uid 1000): network namespaces, raw sockets and daemons in them need root. This suite did not run.');
    expect(out).toMatch(/Test Files {2}1 failed \(1\)/);
  });

  it('are skipped with the reason when TWINVIP_ALLOW_SKIP=1', async () => {
    const { code, out } = await vitestAsUser({ CI: 'true', TWINVIP_ALLOW_SKIP: '1' });
    expect(code, out).toBe(0);
    expect(out).toContain('SKIPPED "preempt and nopreempt against keepalived" (TWINVIP_ALLOW_SKIP=1): not root (uid 1000)');
    expect(out).toMatch(/Test Files {2}1 skipped \(1\)/);
  });
});
