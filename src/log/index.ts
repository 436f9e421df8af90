export { Logger, SubsystemLogger, type LoggerOptions, type RecordListener } from './logger';
export { LEVELS, SUBSYSTEMS, isLevel, isSubsystem, levelEnabled, type Level, type Subsystem } from './levels';
export { formatJson, formatRecord, formatText, type LogFormat } from './format';
export type { LogFields, LogRecord } from './record';
export { RingBuffer } from './ring';
export { memorySink, streamSink, type LogSink } from './sink';
export { redactUrlCredentials, redactFields } from './redact';
