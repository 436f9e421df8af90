// The audit trail of fleet requests: every accepted state-changing request and every refusal,
// as a log line and a bus event (which MQTT publishes on `event`). A hostile publisher must not be
// able to flood the log, the bus or the event outbox (which would push real transitions out of
// it), so refusals are reported individually up to a rate and summarised beyond it.
import type { SubsystemLogger } from '../../log';
import { TokenBucket } from './rate-limit';
import { REFUSAL_REASONS, type RefusalReason } from './refusals';

export interface AuditRecord {
  kind: 'request-accepted' | 'request-refused' | 'refusals-summary';
  command?: string;
  reason?: RefusalReason;
  /** The trusted key's name, when the request named one. */
  key?: string;
  role?: string;
  fingerprint?: string;
  nonce?: string;
  message: string;
  /** refusals-summary: refusals not reported one by one since the last summary, by reason. */
  counts?: Partial<Record<RefusalReason, number>>;
  at: number;
}

export interface AuditOptions {
  emit(record: AuditRecord): void;
  log(): SubsystemLogger | undefined;
  now(): number;
  /** Refusals reported one by one per second, and back to back. */
  rate?: number;
  burst?: number;
  /** How often suppressed refusals are summarised, ms. */
  summaryMs?: number;
}

export class AuditTrail {
  private readonly bucket: TokenBucket;
  private suppressed: Partial<Record<RefusalReason, number>> = {};
  private timer: NodeJS.Timeout | undefined;
  /** Refusals that were not reported individually (also in the summaries). */
  suppressedTotal = 0;

  constructor(private readonly opts: AuditOptions) {
    this.bucket = new TokenBucket(opts.rate ?? 2, opts.burst ?? 10);
  }

  accepted(r: Omit<AuditRecord, 'kind' | 'at'>): void {
    const rec: AuditRecord = { kind: 'request-accepted', ...r, at: this.opts.now() };
    this.opts.log()?.info(`audit: ${r.message}`);
    this.opts.emit(rec);
  }

  refused(r: Omit<AuditRecord, 'kind' | 'at'> & { reason: RefusalReason }, quiet = false): void {
    if (quiet || !this.bucket.take(this.opts.now())) {
      this.suppressed[r.reason] = (this.suppressed[r.reason] ?? 0) + 1;
      this.suppressedTotal++;
      this.armSummary();
      return;
    }
    this.opts.log()?.warn(`audit: ${r.message}`);
    this.opts.emit({ kind: 'request-refused', ...r, at: this.opts.now() });
  }

  /** Emits the pending summary now (stop, tests). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const counts = this.suppressed;
    const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
    if (total === 0) return;
    this.suppressed = {};
    const by = REFUSAL_REASONS.filter((k) => counts[k]).map((k) => `${k} ${counts[k]}`).join(', ');
    const message = `${total} more request(s) refused (${by})`;
    this.opts.log()?.warn(`audit: ${message}`);
    this.opts.emit({ kind: 'refusals-summary', message, counts, at: this.opts.now() });
  }

  stop(): void {
    this.flush();
  }

  private armSummary(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.opts.summaryMs ?? 10_000);
    this.timer.unref();
  }
}
