export { Logger, SubsystemLogger, type LoggerOptions, type RecordListener } from './logger';
export { LEVELS, SUBSYSTEMS, isLevel, isSubsystem, levelEnabled, type Level, type Subsystem } from './levels';
export { formatJson, formatRecord, formatText, formatTextBody, type LogFormat } from './format';
export { LogOutputs, streamId, type DatagramSend, type LogOutputSettings } from './outputs';
export { SYSLOG_FACILITIES, SYSLOG_SEVERITY, facilityCode, journalPrefix, rfc3164Time, stdoutIsJournal, syslogDatagram, withJournalPrefix, type SyslogFacility } from './syslog';
export type { LogFields, LogRecord } from './record';
export { RingBuffer } from './ring';
export { memorySink, streamSink, type LogSink } from './sink';
export { redactUrlCredentials, redactFields } from './redact';
