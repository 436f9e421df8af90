export { ConsoleExtension, checkConfigFile, type ConsoleWiring } from './extension';
export { Shell, newConsoleCounters, DEFAULT_MAX_LINE, type Access, type ConsoleCounters, type ShellOptions } from './shell';
export { LineEditor, type EditorEvent, type EditorStep } from './line-editor';
export { runCommand, parseLine, commandNames, PEER_TIMEOUT_MS, type CommandOutcome, type GuardedAction, type ShellServices } from './commands';
export { ActionGuard, type GuardedRun } from './action-guard';
export { SerialConsole, newSerialConsoleCounters, type SerialConsoleCounters, type SerialConsoleOptions } from './serial-transport';
export { registerConsoleCommand, type ConsoleAnswer } from './control-transport';
export { takeSnapshot, stateSummary, isUnavailable, type ConsoleSnapshot, type DaemonFacts, type Part, type Unavailable } from './snapshot';
export { parsePeerSnapshot } from './peer-snapshot';
export { renderStatus } from './render';
export {
  PEER_STATUS_REQUEST,
  type ActionResult, type ActionsPort, type ChannelState, type ChannelView, type ConsoleView, type HeartbeatView,
  type InstanceView, type MqttView, type NginxView, type PeerLink, type PeerReply,
} from './ports';
