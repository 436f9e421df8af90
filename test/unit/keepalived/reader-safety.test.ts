// The importer reads files an operator names, and whatever they include: it must never print
// a foreign file's lines (`include /etc/shadow`), must read each file once, and must stop a fan
// of files including each other (40 one-line files including each other four times took 82 s
// and 279 MB before the caps). Each attack here fails.
import { mkdirSync, openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatNotes, importKeepalived } from '../../../src/config/keepalived';
import { MAX_INCLUDED_FILES, MAX_TOTAL_BYTES, readKeepalivedConfig } from '../../../src/config/keepalived/reader';
import { makeTempDir } from '../../helpers/tmp';

const tmp = makeTempDir('tv-kr-');
afterAll(() => tmp.remove());

const INSTANCE = 'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n}\n';

function everything(r: ReturnType<typeof importKeepalived>): string {
  return `${r.ok ? r.text : r.error}\n${formatNotes(r.notes)}\n${JSON.stringify(r.notes)}`;
}

describe('a foreign file is never echoed', () => {
  const SECRET = 'Zq9sEcReT';
  const foreign: Record<string, string> = {
    shadow: `root:$6$${SECRET}$abcdefghijklmnop:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n`,
    passwd: `root:x:0:0:${SECRET}:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    'private-key': `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC${SECRET}+/xyz\n-----END PRIVATE KEY-----\n`,
    // A JSON file with a keepalived keyword as a key ("interface") is still not keepalived syntax.
    json: `{\n  "instances": {\n    "VI_1": { "interface": "eth0", "password": "${SECRET}" }\n  }\n}\n`,
    prose: `This file holds the ${SECRET} of the house\nand nothing else\n`,
    env: `KEEPALIVED_PASSWORD=${SECRET}\nKEEPALIVED_VIP=10.0.0.1\n`,
  };
  for (const [name, content] of Object.entries(foreign)) {
    for (const where of ['top', 'block']) {
      it(`include of a ${name} file (${where} level): refused, nothing of it shown`, () => {
        const dir = tmp.file(`foreign-${name}-${where}`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'secret'), content);
        const main = where === 'top'
          ? `global_defs {\n  router_id a\n}\ninclude ${join(dir, 'secret')}\n${INSTANCE}`
          : `global_defs {\n  router_id a\n  include ${join(dir, 'secret')}\n}\n${INSTANCE}`;
        writeFileSync(join(dir, 'keepalived.conf'), main);
        const r = importKeepalived(join(dir, 'keepalived.conf'));
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.error).toMatch(new RegExp(`secret:\\d+: not keepalived syntax \\(.*\\); included from .*keepalived\\.conf:${where === 'top' ? 4 : 3}\\. None of its lines is shown`));
        expect(everything(r)).not.toContain(SECRET);
        for (const line of content.split('\n').filter((l) => l.length > 3)) expect(everything(r)).not.toContain(line);
      });
    }
  }

  it('the file named on the command line is checked the same way', () => {
    const path = tmp.file('shadow-as-main');
    writeFileSync(path, foreign.shadow!);
    const r = importKeepalived(path);
    expect(r.ok).toBe(false);
    expect(everything(r)).not.toContain(SECRET);
  });

  it('a file of VIP addresses only, included inside virtual_ipaddress, is keepalived syntax', () => {
    const dir = tmp.file('vip-list');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vips'), '10.0.0.101/24\n10.0.0.102/24 dev eth0\n');
    writeFileSync(join(dir, 'keepalived.conf'), 'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    include vips\n  }\n}\n');
    const r = importKeepalived(join(dir, 'keepalived.conf'));
    expect(r.ok && (r.config.instances as Record<string, { vips: unknown }>).VI_1!.vips).toEqual(['10.0.0.101/24', { address: '10.0.0.102', prefix: 24, dev: 'eth0' }]);
  });
});

describe('includes are bounded and each file is read once', () => {
  it('40 one-line files including each other four times (10 layers of 4, each file includes the next layer): stopped at the cap, each file read once', () => {
    const dir = tmp.file('fan');
    mkdirSync(dir, { recursive: true });
    for (let layer = 0; layer < 10; layer++) {
      for (let k = 0; k < 4; k++) writeFileSync(join(dir, `L${layer}_${k}.conf`), layer < 9 ? `include L${layer + 1}_*.conf\n` : '! leaf\n');
    }
    writeFileSync(join(dir, 'keepalived.conf'), `include L0_*.conf\n${INSTANCE}`);
    // Without the cap: 4 + 16 + ... + 4^10 = 1.4 million inclusions.
    const r = readKeepalivedConfig(join(dir, 'keepalived.conf'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toMatch(new RegExp(`more than ${MAX_INCLUDED_FILES} file inclusions`));
    expect(r.stats.inclusions).toBe(MAX_INCLUDED_FILES + 1);
    expect(r.stats.filesRead).toBeLessThanOrEqual(41);
  });

  it('the same file included twice is read from disk once and counted twice', () => {
    const dir = tmp.file('twice');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vip.conf'), '10.0.0.101/24\n');
    writeFileSync(join(dir, 'keepalived.conf'), 'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n include vip.conf\n }\n virtual_ipaddress_excluded {\n include vip.conf\n }\n}\n');
    const r = readKeepalivedConfig(join(dir, 'keepalived.conf'));
    expect(r.ok).toBe(true);
    expect(r.stats).toMatchObject({ filesRead: 2, inclusions: 2 });
  });

  it(`a file larger than ${MAX_TOTAL_BYTES >> 20} MiB is refused before it is read`, () => {
    const dir = tmp.file('big');
    mkdirSync(dir, { recursive: true });
    const fd = openSync(join(dir, 'huge.conf'), 'w');
    ftruncateSync(fd, MAX_TOTAL_BYTES + 1); // sparse: costs no disk
    closeSync(fd);
    writeFileSync(join(dir, 'keepalived.conf'), `${INSTANCE}include huge.conf\n`);
    const r = readKeepalivedConfig(join(dir, 'keepalived.conf'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ line: 8, message: expect.stringMatching(/huge\.conf is larger than what is left of the 8 MiB/) });
    expect(r.stats.bytes).toBeLessThan(1000);
  });

  it('files that add up past the total are refused', () => {
    const dir = tmp.file('sum');
    mkdirSync(dir, { recursive: true });
    const chunk = `! ${'x'.repeat(1022)}\n`.repeat(1024 * 3); // 3 MiB of comments
    for (const n of [1, 2, 3]) writeFileSync(join(dir, `c${n}.conf`), chunk);
    writeFileSync(join(dir, 'keepalived.conf'), `${INSTANCE}include c1.conf\ninclude c2.conf\ninclude c3.conf\n`);
    const r = readKeepalivedConfig(join(dir, 'keepalived.conf'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/8 MiB/);
  });
});

describe('unfilled templates are refused with file and line', () => {
  const cases: [string, string, RegExp][] = [
    ['Jinja variable', '  virtual_router_id {{ keepalived_vrid }}', /:3: unfilled template placeholder \{\{ keepalived_vrid \}\}/],
    ['Jinja block', '{% if inventory_hostname == groups.lb[0] %}', /:3: unfilled template placeholder \{% if inventory_hostname == groups\.lb\[0\] %\}/],
    ['Jinja comment', '{# managed by Ansible #}', /:3: unfilled template placeholder \{# managed by Ansible #\}/],
    ['Helm/Go', '  priority {{ .Values.priority }}', /:3: unfilled template placeholder \{\{ \.Values\.priority \}\}/],
    ['ERB', '  priority <%= @priority %>', /:3: unfilled template placeholder <%= @priority %>/],
    ['envsubst ${VAR}', '  auth_pass ${KEEPALIVED_PASSWORD}', /:3: unresolved \$\{KEEPALIVED_PASSWORD\}: no \$KEEPALIVED_PASSWORD= definition/],
    ['envsubst $VAR', '  interface $KEEPALIVED_INTERFACE', /:3: unresolved \$KEEPALIVED_INTERFACE/],
    ['@VAR@', '  priority @PRIORITY@', /:3: unfilled template placeholder @PRIORITY@/],
  ];
  it.each(cases)('%s', (_name, line, re) => {
    const path = tmp.file(`tmpl-${_name.replace(/\W/g, '')}.conf`);
    writeFileSync(path, `vrrp_instance VI_1 {\n  interface eth0\n${line}\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n}\n`);
    const r = importKeepalived(path);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(re);
  });

  it('a defined $VAR is substituted; an undefined one inside a quoted command is left as keepalived leaves it, with a warning', () => {
    const path = tmp.file('defs.conf');
    writeFileSync(path, '$VRID=51\nvrrp_script chk {\n  script "/bin/sh -c \'curl -fs http://127.0.0.1:$PORT/health\'"\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id $VRID\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n  track_script {\n    chk\n  }\n}\n');
    const r = importKeepalived(path);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect((r.config.instances as Record<string, { vrid: number }>).VI_1!.vrid).toBe(51);
    expect(r.notes.find((n) => n.keyword === '$PORT')).toMatchObject({ severity: 'warning', line: 3 });
  });

  it('a Jinja comment outside braces in a keepalived comment is fine (# starts a keepalived comment)', () => {
    const path = tmp.file('managed.conf');
    writeFileSync(path, `# {{ ansible_managed }}\n! rendered from keepalived.conf.j2\n${INSTANCE}`);
    expect(importKeepalived(path).ok).toBe(true);
  });
});
