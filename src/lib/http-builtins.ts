// node:http and node:https without an ESM `import`: the ESM namespace of node:http is built by
// reading every export, lazy getters included, and one of them loads Node's bundled undici
// (fetch, WebSocket). Measured in `twinvip run` (--cpu-prof): 51 ms of CPU in the main thread and
// 99 ms in the HA thread on the start-up path at load 16 on 2 cores, for code the daemon never
// runs (bench/start.mjs). process.getBuiltinModule hands over the CommonJS exports untouched.
import type * as Http from 'node:http';
import type * as Https from 'node:https';

export const http = process.getBuiltinModule('node:http') as typeof Http;
export const https = process.getBuiltinModule('node:https') as typeof Https;
