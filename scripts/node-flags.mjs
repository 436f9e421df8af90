// Runtime flags of the daemon's Node.js, shared by the launcher (scripts/rootfs.mjs) and the
// steady-state benchmark (bench/steady.mjs), so the benchmark measures what the image runs.
//
// --max-semi-space-size=1: V8's young generation otherwise grows to 3 x 16 MB on 64-bit and
// keeps those pages resident; the daemon allocates little, so 1 MB semi-spaces only mean more,
// cheaper scavenges. Measured: RSS 97.1 -> 87.8 MB, CPU unchanged (bench/README.md "steady").
// No --max-old-space-size: a heap limit turns a leak or a burst into an abort of the process
// that holds the VIP; we would rather see it in the RSS figures.
//
// --single-threaded: V8 runs no work of its own on background threads (no concurrent or parallel
// GC, no concurrent Maglev/TurboFan compiles). Those threads (Node's platform worker pool, normal
// priority) are shared by both isolates, and every job the real-time HA thread's isolate posted
// there went through pthread_cond_signal on the pool's condition variable, which waits for
// woken pool threads to leave the old wait group: under CPU saturation those threads are
// preempted, and the HA thread waited for them (priority inversion, caught with gdb and perf
// under mqtt-max: 2-7 waits, 48-106 ms in 25 s; none with the flag; bench/README.md ha-load). Each isolate
// now does its GC and compiles on its own thread: a longer GC pause of the main heap delays only
// the main thread, which the HA path does not wait for.
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=1', '--single-threaded'];
