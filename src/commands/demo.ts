import { parseArgs } from 'node:util';
import { runClientAgent, runUpstreamAgent } from '../demo/agents';
import { DEMO_EXIT, runDemo } from '../demo/run-demo';

const USAGE = `usage: twinvip demo [--interactive | --keep] [--step-timeout SECONDS]

Two simulated boxes in network namespaces on one machine (root): a bridged LAN with a client,
a socat pty pair as the serial link, Nginx in each box, an MQTT broker, and twinvip in both
boxes. Runs a scripted failover story with a live view and measures each takeover:
  1 steady state   2 box-a's LAN link cut   3 link restored (box-a preempts back)
  4 Ethernet path between the boxes cut, links up (serial heartbeat alive)   5 box-a stopped
Everything it creates (prefix tvd + 4 hex) is removed at the end, on failure and on Ctrl-C.

  --interactive          build the lab and show the live view until Ctrl-C (no scenario)
  --keep                 run the scenario, then keep the lab and the view until Ctrl-C
  --step-timeout SECONDS how long one step may take, building the lab included (default 45)
Output: a live view on a terminal; plain lines when stdout is not a terminal or TERM=dumb.
Exit codes: 0 every step passed, 1 a step failed, 2 usage, 3 prerequisites missing (root,
ip, bridge, socat, nginx, mosquitto), 4 the lab could not be built, 130 interrupted.
`;

export async function demoCommand(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        interactive: { type: 'boolean' },
        keep: { type: 'boolean' },
        'step-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        // Internal: the helpers the demo runs inside its namespaces, from this same bundle.
        agent: { type: 'string' },
        name: { type: 'string' },
        port: { type: 'string' },
        url: { type: 'string' },
        broker: { type: 'string' },
        'https-url': { type: 'string' },
        ca: { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`twinvip demo: ${(err as Error).message}\n${USAGE}`);
    return DEMO_EXIT.USAGE;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return DEMO_EXIT.OK;
  }
  if (values.agent === 'upstream' && typeof values.name === 'string') {
    return runUpstreamAgent(values.name, Number(values.port ?? 8081));
  }
  if (values.agent === 'client' && typeof values.url === 'string' && typeof values.broker === 'string') {
    return runClientAgent({
      url: values.url, broker: values.broker, intervalMs: 100, timeoutMs: 800,
      ...(typeof values['https-url'] === 'string' && typeof values.ca === 'string' ? { httpsUrl: values['https-url'], ca: values.ca } : {}),
    });
  }
  if (values.agent !== undefined) {
    process.stderr.write(`twinvip demo: unknown agent or missing arguments\n`);
    return DEMO_EXIT.USAGE;
  }
  const stepTimeoutS = values['step-timeout'] === undefined ? 45 : Number(values['step-timeout']);
  if (!Number.isFinite(stepTimeoutS) || stepTimeoutS < 1 || stepTimeoutS > 3600) {
    process.stderr.write(`twinvip demo: --step-timeout must be seconds between 1 and 3600\n`);
    return DEMO_EXIT.USAGE;
  }
  if (values.interactive && values.keep) {
    process.stderr.write(`twinvip demo: --interactive and --keep exclude each other\n${USAGE}`);
    return DEMO_EXIT.USAGE;
  }
  const bundle = process.argv[1];
  if (!bundle) {
    process.stderr.write('twinvip demo: cannot tell which bundle is running (process.argv[1] is empty)\n');
    return DEMO_EXIT.USAGE;
  }
  const code = await runDemo({
    interactive: values.interactive === true,
    keep: values.keep === true,
    stepTimeoutMs: stepTimeoutS * 1000,
    node: process.execPath,
    bundle,
    out: process.stdout,
    err: process.stderr,
    env: process.env,
  });
  // Everything the demo started is stopped by now; a handle some library keeps open (an mqtt.js
  // or socket timer) must not keep a finished demo from exiting. Unref'd: fires only if needed.
  setTimeout(() => process.exit(code), 3000).unref();
  return code;
}
