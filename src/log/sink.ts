import type { Writable } from 'node:stream';
import type { LogRecord } from './record';

/**
 * Where formatted lines go, with the record they were made from (its level, for a syslog
 * priority). A sink must never throw: logging cannot be what kills the daemon.
 */
export type LogSink = (line: string, record?: LogRecord) => void;

/**
 * A sink on a stream (stdout under systemd goes to the journal). A closed reader (EPIPE when
 * piped into `head`, the journal restarting) raises an 'error' event asynchronously and can throw
 * synchronously: both are swallowed and the sink goes quiet; the ring buffer still keeps lines.
 */
export function streamSink(stream: Writable): LogSink {
  let broken = false;
  stream.on('error', () => {
    broken = true;
  });
  return (line) => {
    if (broken || stream.destroyed || !stream.writable) return;
    try {
      stream.write(`${line}\n`);
    } catch {
      broken = true;
    }
  };
}

/** Collects lines in memory; for tests. */
export function memorySink(): LogSink & { lines: string[] } {
  const lines: string[] = [];
  const sink = ((line: string) => {
    lines.push(line);
  }) as LogSink & { lines: string[] };
  sink.lines = lines;
  return sink;
}
