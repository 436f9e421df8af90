// Nginx control: proxy model -> nginx.conf, safe apply, supervision, upstream checks, health track.
export type { NginxConfig, UpstreamConfig, HttpServerConfig, StreamServerConfig } from '../config/nginx/schema';
export { checkNginx } from '../config/nginx/rules';
export { renderNginxConf, pairKey, STATUS_PATH, GENERATION_PATH, GENERATION_HEADER, type RenderInput, type RenderResult } from './render';
export { checkPair, type CertificateFacts } from '../config/nginx/certificates';
export { checkNginxFiles, tlsPairs } from '../config/nginx/local-files';
export { TlsStore, type CertificateFigure } from './tls-store';
export { certificateAlarms, type CertificateAlarm } from './certificate-alarms';
export { resolveSettings, prefixPaths, type NginxSettings } from './settings';
export { NginxApplier, type ApplyResult } from './apply';
export { NginxSupervisor } from './supervisor';
export { NginxHealth } from './health';
export { UpstreamChecks } from './upstream-checks';
export { ReloadScheduler } from './reload-scheduler';
export { NginxController, type NginxStatus } from './controller';
export { NginxExtension } from './extension';
export { effectiveDown, serverKey } from './upstream-state';
