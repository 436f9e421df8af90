import { join } from 'node:path';
import { DEFAULT_STATUS } from '../config/nginx/defaults';
import type { NginxConfig } from '../config/nginx/schema';

/** The nginx section with every optional knob resolved (schema defaults live here, see schema.ts). */
export interface NginxSettings {
  binary: string;
  prefix: string;
  keepRunning: boolean;
  user: string | undefined;
  workerProcesses: number | 'auto';
  workerShutdownTimeout: number;
  mimeTypes: string;
  modules: string;
  status: { address: string; port: number };
  certificates: { alarmDays: number; pollIntervalMs: number };
  reload: { minIntervalMs: number; verifyTimeoutMs: number };
  supervise: { restartMinMs: number; restartMaxMs: number; healthIntervalMs: number; healthTimeoutMs: number; fall: number; rise: number };
}

export { DEFAULT_STATUS };

export function resolveSettings(c: NginxConfig): NginxSettings {
  const sup = c.supervise;
  return {
    binary: c.binary,
    prefix: c.prefix,
    keepRunning: c.keep_running ?? false,
    user: c.user,
    workerProcesses: c.worker_processes ?? 1,
    workerShutdownTimeout: c.worker_shutdown_timeout ?? 10,
    mimeTypes: c.mime_types ?? '/etc/nginx/mime.types',
    modules: c.modules ?? '/etc/nginx/modules-enabled/*.conf',
    status: c.status ? { address: c.status.address, port: c.status.port } : { ...DEFAULT_STATUS },
    certificates: { alarmDays: c.certificates?.alarm_days ?? 30, pollIntervalMs: Math.round((c.certificates?.poll_interval ?? 30) * 1000) },
    reload: {
      minIntervalMs: Math.round((c.reload?.min_interval ?? 2) * 1000),
      verifyTimeoutMs: Math.round((c.reload?.verify_timeout ?? 5) * 1000),
    },
    supervise: {
      restartMinMs: Math.round((sup?.restart_min ?? 1) * 1000),
      restartMaxMs: Math.round((sup?.restart_max ?? 30) * 1000),
      healthIntervalMs: Math.round((sup?.health_interval ?? 1) * 1000),
      healthTimeoutMs: Math.round((sup?.health_timeout ?? 1) * 1000),
      fall: sup?.fall ?? 2,
      rise: sup?.rise ?? 1,
    },
  };
}

/** Where twinvip keeps Nginx's files under the prefix; nothing under /etc/nginx is touched. */
export function prefixPaths(prefix: string) {
  return {
    conf: join(prefix, 'conf', 'nginx.conf'),
    next: join(prefix, 'conf', 'nginx.conf.next'),
    good: join(prefix, 'conf', 'nginx.conf.good'),
    confDir: join(prefix, 'conf'),
    pid: join(prefix, 'run', 'nginx.pid'),
    runDir: join(prefix, 'run'),
    errorLog: join(prefix, 'logs', 'error.log'),
    stderrLog: join(prefix, 'logs', 'stderr.log'),
    logsDir: join(prefix, 'logs'),
    tempDir: join(prefix, 'temp'),
    /** Root-only copies of the certificate/key pairs the known good configs use (tls-store.ts). */
    tlsDir: join(prefix, 'tls'),
  };
}

export type PrefixPaths = ReturnType<typeof prefixPaths>;
