// The integration files are split by what they create (test/helpers/integration-projects.ts):
// namespace files run one at a time in `integration`, the rest beside them in
// `integration-local`. A file that creates a namespace must never land in the second: these
// tests check the decision on fixtures, on the real tree, and the runtime refusal behind it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/bundle';
import { NO_NETNS_ENV, namespaceUse, splitIntegrationFiles } from '../../helpers/integration-projects';
import { makeTempDir } from '../../helpers/tmp';
import { NetnsLab } from '../../integration/helpers/netns';

const tmp = makeTempDir('tv-split-');
afterAll(() => tmp.remove());

function tree(files: Record<string, string>): string {
  const root = join(tmp.path, String(Math.random()).slice(2));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

describe('integration files split by whether they create a network namespace', () => {
  it('follows value imports to the code that creates one, and ignores types and comments', () => {
    const root = tree({
      'test/integration/helpers/lab.ts': "export class Lab { ns() { return run('ip', ['netns', 'add', 'x']); } }\nexport type Box = string;\n",
      'test/integration/helpers/deep.ts': "export { Lab } from './lab';\n",
      'test/integration/helpers/plain.ts': '// a lab would do `ip netns add`\nexport const port = 0;\n',
      'test/integration/a/direct.test.ts': "import { Lab } from '../helpers/lab';\n",
      'test/integration/a/reexport.test.ts': "import { Lab } from '../helpers/deep';\n",
      'test/integration/a/mixed.test.ts': "import { type Box, Lab } from '../helpers/lab';\n",
      'test/integration/a/dynamic.test.ts': "const m = await import('../helpers/lab');\n",
      'test/integration/a/unshare.test.ts': "spawn('unshare', ['--net', 'true']);\n",
      'test/integration/a/nspawn.test.ts': "spawn('systemd-nspawn', ['-D', dir]);\n",
      'test/integration/a/labuser.test.ts': 'describeRequiring(NetnsLab.prerequisites, "x", () => {});\n',
      'test/integration/b/typeonly.test.ts': "import type { Box } from '../helpers/lab';\n",
      'test/integration/b/typenames.test.ts': "import { type Box } from '../helpers/lab';\n",
      'test/integration/b/comment.test.ts': "import { port } from '../helpers/plain';\n/* unshare -n would */\n",
    });
    const split = splitIntegrationFiles(root);
    expect(split.namespace.map((f) => f.split('/').pop())).toEqual(['direct.test.ts', 'dynamic.test.ts', 'labuser.test.ts', 'mixed.test.ts', 'nspawn.test.ts', 'reexport.test.ts', 'unshare.test.ts']);
    expect(split.local.map((f) => f.split('/').pop())).toEqual(['comment.test.ts', 'typenames.test.ts', 'typeonly.test.ts']);
    expect(namespaceUse(join(root, 'test/integration/a/reexport.test.ts'), root)?.chain).toEqual([
      'test/integration/a/reexport.test.ts',
      'test/integration/helpers/deep.ts',
      'test/integration/helpers/lab.ts',
    ]);
  });

  it('puts every integration file of the tree in exactly one project, the labs and their users in `integration`', () => {
    const split = splitIntegrationFiles(REPO_ROOT);
    expect(split.namespace.filter((f) => split.local.includes(f))).toEqual([]);
    expect(split.namespace.length + split.local.length).toBeGreaterThan(80);
    // Files that reach a namespace only through another helper (the VRRP lab, the pair lab, the
    // console lab, the rootfs under nspawn) and the lab helper's direct users.
    for (const f of [
      'test/integration/vrrp/keepalived-interop.test.ts',
      'test/integration/vrrp/track-interface.test.ts',
      'test/integration/heartbeat-pair/stray-advert.test.ts',
      'test/integration/console-pair/peer-over-serial.test.ts',
      'test/integration/mqtt/fleet-pair.test.ts',
      'test/integration/nginx/certificates-fleet.test.ts',
      'test/integration/image/systemd-boot.test.ts',
      'test/integration/image/arm64-vrrp.test.ts',
      'test/integration/fail-loudly/start-failures.test.ts',
      'test/integration/suite/non-root.test.ts',
    ]) {
      expect(split.namespace, f).toContain(f);
    }
    for (const f of ['test/integration/image/rootfs-arm64.test.ts', 'test/integration/mqtt/mqtt.test.ts', 'test/integration/nginx/nginx.test.ts', 'test/integration/console/serial-console.test.ts', 'test/integration/heartbeat/serial-link.test.ts']) {
      expect(split.local, f).toContain(f);
    }
  });

  it('NetnsLab refuses to create a namespace in a worker of integration-local', async () => {
    const before = process.env[NO_NETNS_ENV];
    process.env[NO_NETNS_ENV] = '1';
    try {
      const lab = await NetnsLab.create();
      await expect(lab.namespace('x')).rejects.toThrow(/refused: this file runs in the integration-local project/);
      await lab.cleanup();
    } finally {
      if (before === undefined) delete process.env[NO_NETNS_ENV];
      else process.env[NO_NETNS_ENV] = before;
    }
  });
});
