// Nginx stub_status text, read by the health probe (src/nginx/health.ts) and by MQTT telemetry.
// ngx_http_stub_status_module prints exactly (LF line ends, a space before some of them):
//   Active connections: 2
//   server accepts handled requests
//    10 10 31
//   Reading: 0 Writing: 1 Waiting: 1

export interface StubStatus {
  active: number;
  accepts: number;
  handled: number;
  requests: number;
  reading: number;
  writing: number;
  waiting: number;
}

const STUB_STATUS =
  /Active connections:\s*(\d+)\s*\nserver accepts handled requests\s*\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\nReading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)/;

export function parseStubStatus(text: string): StubStatus | undefined {
  const m = STUB_STATUS.exec(text);
  if (!m) return undefined;
  const [active, accepts, handled, requests, reading, writing, waiting] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  return { active, accepts, handled, requests, reading, writing, waiting };
}
