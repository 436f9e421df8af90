// The I/O-free heartbeat core: frames, framing, liveness, the split-brain arbiter and the release
// policy. Its shell (serial port, timers, wiring to the VRRP runner) is src/ha/heartbeat/.
export * from './arbiter';
export * from './counters';
export * from './crc32';
export * from './frame';
export * from './frame-receiver';
export * from './frame-sender';
export * from './framing';
export * from './peer-liveness';
export * from './release-policy';
export * from './replay';
export * from './response-chunks';
export * from './vrid-conflict';
export * from './preempt';
export * from './stall';
