// A hostile MQTT client for the fleet-trust tests: it holds only a broker connection (what a
// leaked device credential gives) and publishes what its script says: forged, replayed, expired,
// oversized, misdirected requests and floods, recording every answer and every message on the
// topics it watches. Bundled by the test with esbuild and run inside the lab's namespace.
//   node hostile.mjs SCRIPT.json   ->  one JSON document on stdout
import { readFileSync } from 'node:fs';
import { connect, type MqttClient } from 'mqtt';

export type Payload = string | { bytes: number; fill?: string };

export type Step =
  | {
      kind: 'publish';
      name: string;
      topic: string;
      payload: Payload;
      retain?: boolean;
      qos?: 0 | 1;
      responseTopic?: string;
      correlation?: string;
      /** Wait for an answer on `topic` whose nonce, transaction or correlation data is `match`. */
      answer?: { topic: string; match: string; timeoutMs?: number };
    }
  /** `count` messages, or as many as fit in `seconds` (then `count` is per batch), QoS 0. */
  | { kind: 'flood'; name: string; topics: string[]; count: number; seconds?: number; payloads: Payload[] }
  /** Waits until a message on `topic` containing `contains` has been received (or the timeout). */
  | { kind: 'await'; name: string; topic: string; contains: string; timeoutMs?: number };

export interface Script {
  url: string;
  protocolVersion?: 4 | 5;
  subscribe: string[];
  steps: Step[];
}

export interface StepResult {
  name: string;
  answer: Record<string, unknown> | null;
  answerTopic?: string;
  ms: number;
}

export interface Report {
  results: StepResult[];
  received: { topic: string; text: string; retain: boolean }[];
}

const bytesOf = (p: Payload): string | Buffer => (typeof p === 'string' ? p : Buffer.alloc(p.bytes, p.fill ?? '{'));

async function main(): Promise<void> {
  const script = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Script;
  const client: MqttClient = connect(script.url, { protocolVersion: script.protocolVersion ?? 5, reconnectPeriod: 500, clean: true, clientId: `hostile-${process.pid}` });
  const received: Report['received'] = [];
  const waiters = new Set<(topic: string, text: string, corr: string | undefined) => void>();
  client.on('message', (topic, payload, packet) => {
    const text = payload.toString('utf8');
    received.push({ topic, text: text.slice(0, 4000), retain: packet.retain });
    const corr = packet.properties?.correlationData?.toString();
    for (const w of [...waiters]) w(topic, text, corr);
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => (script.subscribe.length === 0 ? resolve() : client.subscribe(script.subscribe, { qos: 1 }, (err) => (err ? reject(err) : resolve()))));
    setTimeout(() => reject(new Error('hostile publisher: no broker')), 20_000);
  });
  const results: StepResult[] = [];
  for (const step of script.steps) {
    const t0 = Date.now();
    if (step.kind === 'await') {
      const seen = () => received.some((m) => m.topic === step.topic && m.text.includes(step.contains));
      const ok = seen() || (await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => (waiters.delete(w), resolve(false)), step.timeoutMs ?? 20_000);
        const w = () => {
          if (!seen()) return;
          clearTimeout(timer);
          waiters.delete(w);
          resolve(true);
        };
        waiters.add(w);
      }));
      results.push({ name: step.name, answer: ok ? { seen: true } : null, ms: Date.now() - t0 });
      continue;
    }
    if (step.kind === 'flood') {
      const bodies = step.payloads.map(bytesOf);
      let sent = 0;
      const batch = () => Promise.all(Array.from({ length: step.count }, () => {
        const i = sent++;
        return new Promise<void>((resolve) => client.publish(step.topics[i % step.topics.length]!, bodies[i % bodies.length]!, { qos: 0 }, () => resolve()));
      }));
      if (step.seconds === undefined) await batch();
      else while (Date.now() - t0 < step.seconds * 1000) await batch();
      results.push({ name: step.name, answer: { sent }, ms: Date.now() - t0 });
      continue;
    }
    const answered = step.answer
      ? new Promise<{ topic: string; body: Record<string, unknown> } | null>((resolve) => {
          const a = step.answer!;
          const timer = setTimeout(() => (waiters.delete(w), resolve(null)), a.timeoutMs ?? 15_000);
          const w = (topic: string, text: string, corr: string | undefined) => {
            if (topic !== a.topic) return;
            let body: Record<string, unknown>;
            try {
              body = JSON.parse(text) as Record<string, unknown>;
            } catch {
              return;
            }
            if (body.nonce !== a.match && body.transaction !== a.match && corr !== a.match) return;
            clearTimeout(timer);
            waiters.delete(w);
            resolve({ topic, body });
          };
          waiters.add(w);
        })
      : Promise.resolve(null);
    const props = script.protocolVersion === 4 ? {} : {
      properties: {
        ...(step.responseTopic ? { responseTopic: step.responseTopic } : {}),
        ...(step.correlation ? { correlationData: Buffer.from(step.correlation) } : {}),
      },
    };
    client.publish(step.topic, bytesOf(step.payload), { qos: step.qos ?? 1, retain: step.retain ?? false, ...props });
    const got = await answered;
    results.push({ name: step.name, answer: got?.body ?? null, ...(got ? { answerTopic: got.topic } : {}), ms: Date.now() - t0 });
  }
  // Clear what a retained attack left on the broker, so it cannot haunt a later box.
  for (const step of script.steps) if (step.kind === 'publish' && step.retain) client.publish(step.topic, '', { qos: 1, retain: true });
  await new Promise<void>((r) => client.end(false, {}, () => r()));
  process.stdout.write(`${JSON.stringify({ results, received } satisfies Report)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`hostile publisher failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
