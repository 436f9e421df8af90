import type { CertificateFigure } from './tls-store';

export interface CertificateAlarm {
  id: string;
  active: boolean;
  severity: 'warning' | 'critical';
  message: string;
}

/**
 * Alarm changes for the certificate figures, given the alarms active so far (updated in place):
 * `certificate-expiring:<file>` (warning; critical once expired) while fewer than the threshold's
 * days are left, `certificate-invalid:<file>` (critical) while the files on disk are refused and
 * the last good pair is served. Each alarm is raised once and cleared once.
 */
export function certificateAlarms(active: Map<string, CertificateAlarm>, figures: CertificateFigure[], alarmDays: number): CertificateAlarm[] {
  const now = new Map<string, CertificateAlarm>();
  for (const f of figures) {
    const file = f.certificate_file;
    if (f.days_left !== null && f.days_left < alarmDays) {
      const expired = f.days_left < 0;
      now.set(`certificate-expiring:${file}`, {
        id: `certificate-expiring:${file}`,
        active: true,
        severity: expired ? 'critical' : 'warning',
        message: expired
          ? `certificate ${file} (${f.subject}) expired on ${f.not_after}`
          : `certificate ${file} (${f.subject}) expires in ${f.days_left} days (${f.not_after}; alarm below ${alarmDays})`,
      });
    }
    if (f.error !== null) {
      now.set(`certificate-invalid:${file}`, {
        id: `certificate-invalid:${file}`,
        active: true,
        severity: 'critical',
        message: `certificate ${file}: ${f.error}; ${f.fingerprint ? 'the last good pair keeps serving' : 'no good pair to serve'}`,
      });
    }
  }
  const changes: CertificateAlarm[] = [];
  for (const [id, a] of now) {
    const prev = active.get(id);
    if (!prev || prev.severity !== a.severity) {
      changes.push(a);
      active.set(id, a);
    }
  }
  for (const [id, a] of [...active]) {
    if (now.has(id)) continue;
    active.delete(id);
    changes.push({ ...a, active: false, message: a.id.startsWith('certificate-expiring') ? `certificate ${a.id.slice(a.id.indexOf(':') + 1)} renewed or no longer used` : `certificate ${a.id.slice(a.id.indexOf(':') + 1)} valid again or no longer used` });
  }
  return changes;
}
