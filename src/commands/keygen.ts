import { unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateKeyPair, keyFingerprint, writeNewFile } from '../fleet/keys';
import { ROLES } from '../fleet/roles';

const USAGE = `usage: twinvip keygen [-o FILE] [--name NAME] [--role operator|admin] [--force]

Writes a new Ed25519 key pair for signed fleet requests: FILE (the private key, PKCS#8 PEM,
mode 600; keep it on the operator's machine) and FILE.pub (the public key, one line of base64).
Prints the entry to add to trusted_keys in each box's local configuration.
  -o, --out FILE   private key file (default twinvip.key); FILE.pub is written beside it
  --name NAME      the key's name in trusted_keys (default: the file name without .key)
  --role ROLE      operator (maintenance, failover, reload) or admin (also config push); default operator
  --force          replace existing files
`;

export async function keygenCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { out: { type: 'string', short: 'o' }, name: { type: 'string' }, role: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`twinvip keygen: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const role = values.role ?? 'operator';
  if (!(ROLES as readonly string[]).includes(role)) {
    process.stderr.write(`twinvip keygen: --role must be ${ROLES.join(' or ')}\n`);
    return 2;
  }
  const file = resolve(values.out ?? 'twinvip.key');
  const name = values.name ?? (file.split('/').pop() ?? 'fleet').replace(/\.key$/, '').replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);
  const pair = generateKeyPair();
  try {
    if (values.force) {
      await unlink(file).catch(() => {});
      await unlink(`${file}.pub`).catch(() => {});
    }
    await writeNewFile(file, pair.privatePem, 0o600);
    await writeNewFile(`${file}.pub`, `${pair.publicKey}\n`, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    process.stderr.write(`twinvip keygen: cannot write ${file}${code === 'EEXIST' ? ' (or its .pub): it exists; use --force to replace it' : `: ${(err as Error).message}`}\n`);
    return 1;
  }
  process.stdout.write(
    `private key: ${file} (mode 600; never copy it to a box)\n` +
    `public key:  ${file}.pub  ${keyFingerprint(pair.publicKey)}\n\n` +
    `Add to trusted_keys in each box's /etc/twinvip/twinvip.json:\n` +
    `  "trusted_keys": {\n    ${JSON.stringify(name)}: { "role": "${role}", "public_key": "${pair.publicKey}" }\n  }\n`,
  );
  return 0;
}
