// Runtime flags of the daemon's Node.js, shared by the launcher (scripts/rootfs.mjs) and the
// steady-state benchmark (bench/steady.mjs), so the benchmark measures what the image runs.
//
// --max-semi-space-size=1: V8's young generation otherwise grows to 3 x 16 MB on 64-bit and
// keeps those pages resident; the daemon allocates little, so 1 MB semi-spaces only mean more,
// cheaper scavenges. Measured: RSS 97.1 -> 87.8 MB, CPU unchanged (bench/README.md "steady").
// No --max-old-space-size: a heap limit turns a leak or a burst into an abort of the process
// that holds the VIP; we would rather see it in the RSS figures.
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=1'];
