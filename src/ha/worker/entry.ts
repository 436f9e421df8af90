// Entry of dist/ha-worker.js: the HA path in its own thread (side.ts), started by host.ts. Its first
// instruction gives this thread the start-up's real-time priority (start-boost.ts), before the HA
// side's modules load: they are dist/ha-side.js, import()ed here (scripts/build.mjs).
import { parentPort } from 'node:worker_threads';
import { markNodeBootstrap, startMark } from '../../lib/start-marks';
import { startBoost } from './start-boost';
import type { HaPort } from './protocol';

startBoost();
markNodeBootstrap('ha');
startMark('ha-entry');
const { HaSide } = await import('./side');
startMark('ha-side-loaded');
if (parentPort) new HaSide(parentPort as unknown as HaPort);
