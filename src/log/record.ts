import type { Level, Subsystem } from './levels';

/** Extra structured data of one log event; values must be JSON-serialisable. */
export type LogFields = Record<string, unknown>;

export interface LogRecord {
  /** Epoch milliseconds. */
  ts: number;
  level: Level;
  subsystem: Subsystem;
  /** VRRP instance (e.g. "VI_1") the event concerns, when there is one. */
  instance?: string;
  msg: string;
  fields?: LogFields;
}
