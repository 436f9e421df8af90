export { Daemon, type DaemonOptions, type InstanceLister, type ReloadOutcome, type StartResult } from './daemon';
export { EventBus, type DaemonEvents, type EventName, type Listener } from './events';
export type { DaemonContext, Extension } from './extension';
export { CounterRegistry } from './counters';
export { EXIT } from './exit-codes';
export { installSignalHandlers } from './signals';
export { createNotifier, statusLine, parseNotifyEnv, type Notifier, type DatagramSender } from './sd-notify';
export { startWatchdog, type Watchdog, type WatchdogOptions } from './watchdog';
export type { DaemonStatus, InstanceStatus } from './status';
