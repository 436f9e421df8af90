import { parseStubStatus } from '../../nginx/stub-status';
import type { TelemetryProvider } from './collect';

/**
 * A telemetry provider reading Nginx's stub_status page (e.g. http://127.0.0.1:8081/__status),
 * which the Nginx part renders on loopback. Register it as `nginx` with addTelemetryProvider.
 */
export function nginxStubStatusProvider(url: string, timeoutMs = 1500): TelemetryProvider {
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (!res.ok) throw new Error(`stub_status ${url}: HTTP ${res.status}`);
    const parsed = parseStubStatus(text);
    if (!parsed) throw new Error(`stub_status ${url}: unreadable answer`);
    return parsed;
  };
}
