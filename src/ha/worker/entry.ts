// Entry of dist/ha-worker.js: the HA path in its own thread (side.ts), started by host.ts.
import { parentPort } from 'node:worker_threads';
import { HaSide } from './side';
import type { HaPort } from './protocol';
import { markNodeBootstrap, startMark } from '../../lib/start-marks';

markNodeBootstrap('ha');
startMark('ha-entry');

if (parentPort) new HaSide(parentPort as unknown as HaPort);
