// Entry of dist/ha-worker.js: the HA path in its own thread (side.ts), started by host.ts.
import { parentPort } from 'node:worker_threads';
import { HaSide } from './side';
import type { HaPort } from './protocol';

if (parentPort) new HaSide(parentPort as unknown as HaPort);
