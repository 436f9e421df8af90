import { parseArgs } from 'node:util';
import { BROKER_ARG_SPEC, BROKER_USAGE, brokerOptions } from './broker-options';
import { cliMessages } from './cli-messages';
import { commandArgs, COMMAND_USAGE } from '../fleet/command-args';
import { DEFAULT_PREFIX, FleetClient } from '../fleet/client';
import { keyFingerprint, loadPrivateKey } from '../fleet/keys';
import { requiredRole } from '../fleet/roles';
import { redactUrlCredentials } from '../log/redact';

const USAGE = `usage: twinvip request NODE COMMAND [ARGS] --key FILE --broker URL [options]

Signs a fleet request with an Ed25519 key (twinvip keygen), publishes it to the box's
<prefix>request/COMMAND, waits for its answer and prints it (JSON). Exit status: 0 the box
answered ok, 1 it answered with an error (refused or failed), 2 usage, 3 no answer / no broker.

commands:
  ${Object.values(COMMAND_USAGE).join('\n  ')}

options:
  --key FILE            Ed25519 private key (mode 600); without it the request is unsigned,
                        which a box accepts only for read-only commands it allows unsigned
${BROKER_USAGE}
  --prefix PREFIX       the box's mqtt.prefix (default ${DEFAULT_PREFIX}; {node} = NODE)
  --timeout S           seconds to wait for the answer (default 30)
  --valid S             seconds the signed request stays valid (default 30; at most the
                        box's mqtt.command_max_age)
  --json                print the whole answer envelope only (no summary line on stderr)
`;

export async function requestCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...BROKER_ARG_SPEC, key: { type: 'string' }, prefix: { type: 'string' }, timeout: { type: 'string' }, valid: { type: 'string' },
        json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return usage((err as Error).message);
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [node, command, ...words] = positionals;
  if (!node || !command) return usage('NODE and COMMAND are required');
  const b = await brokerOptions(o);
  if (!b.ok) return b.usage ? usage(b.error) : fail(3, b.error);
  const broker = b.opts.url;
  const timeout = Number(o.timeout ?? 30);
  const valid = Number(o.valid ?? 30);
  if (!(timeout > 0) || !(valid > 0)) return usage('--timeout and --valid take a number of seconds > 0');
  const args = await commandArgs(command, words, readStdin);
  if (!args.ok) return usage(args.error);

  const keyFile = o.key ?? process.env.TWINVIP_KEY;
  let signingKey;
  if (keyFile) {
    const k = await loadPrivateKey(keyFile);
    if (!k.ok) return fail(3, k.error);
    signingKey = k.key;
    if (!o.json) process.stderr.write(`signing with ${keyFingerprint(k.publicKey)}\n`);
  } else if (requiredRole(command) !== 'read') {
    return usage(`'${command}' changes the box and must be signed: --key FILE`);
  }

  const opts = b.opts;
  let client: FleetClient;
  try {
    client = await FleetClient.connect(opts);
  } catch (err) {
    return fail(3, (err as Error).message);
  }
  try {
    const answer = await client.request({ node, prefix: o.prefix ?? DEFAULT_PREFIX }, command, args.args, {
      ...(signingKey ? { signingKey } : {}),
      validSeconds: valid,
      timeoutMs: timeout * 1000,
    });
    const r = answer.response;
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    if (!o.json) process.stderr.write(`${node}: ${command}: ${r.status === 'ok' ? 'ok' : `error: ${r.error ?? 'unknown'}`}\n`);
    return r.status === 'ok' ? 0 : 1;
  } catch (err) {
    return fail(3, `${(err as Error).message} (broker ${redactUrlCredentials(broker)})`);
  } finally {
    await client.close();
  }
}

const { usage, fail } = cliMessages('request', USAGE);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
