// The I/O-free heartbeat core. The serial shell (native addon, timers) is imported on purpose
// from './serial-link', so loading the core never loads @serialport/bindings-cpp.
export * from './address';
export * from './arbiter';
export * from './counters';
export * from './crc32';
export * from './frame';
export * from './frame-receiver';
export * from './frame-sender';
export * from './framing';
export * from './peer-liveness';
export * from './replay';
export * from './response-chunks';
