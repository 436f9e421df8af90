// Health checks shared by VRRP tracking (checks section) and Nginx upstream checks.
export { Hysteresis } from './hysteresis';
export { tcpProbe, httpProbe, scriptProbe, pingProbe, type Probe, type ProbeResult, type HttpProbeOptions, type ScriptProbeOptions, type PingProbeOptions } from './probes';
export { CheckRunner, type CheckRunnerOptions, type CheckCounters } from './runner';
export { checkRunnerFromConfig, probeFromConfig, type CheckRunnerDeps } from './from-config';
export { TrackEmitter, type TrackEvent, type TrackListener, type TrackSource } from './source';
