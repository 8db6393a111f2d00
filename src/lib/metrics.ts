// Prometheus metrics (prom-client). One registry per process (or per test app), never the global one.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  verdicts: Counter<'outcome'>;
  outboxLagSeconds: Gauge;
  outboxPending: Gauge;
  queueDepth: Gauge<'queue' | 'state'>;
  jobsProcessed: Counter<'queue' | 'result'>;
  /** Inbound webhook events by result: stored | duplicate | echo | ignored; `rejected` counts refused requests. */
  webhookEvents: Counter<'crm' | 'result'>;
  /** Time from a webhook request's arrival to our answer. */
  webhookAckSeconds: Histogram<'crm' | 'status'>;
  /** CRM API calls by operation and result (ok, or the CrmError code). */
  crmCalls: Counter<'crm' | 'op' | 'result'>;
  /** Records written to CRMs (created, updated, failed, skipped: nothing to write). */
  crmRecordsPushed: Counter<'crm' | 'result'>;
  /** Inbound CRM changes by outcome (applied, unchanged, echo, ignored, failed). */
  crmChangesApplied: Counter<'crm' | 'outcome'>;
  /** Times a connection was paused by a rate limit, and parked because its credentials died. */
  crmRateLimited: Counter<'crm'>;
  crmConnectionsParked: Counter<'crm'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'dealreg_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'dealreg_http_request_duration_seconds',
      help: 'HTTP request latency by route template',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    verdicts: new Counter({ name: 'dealreg_verdicts_total', help: 'Rules-of-engagement verdicts by outcome', labelNames: ['outcome'], registers: [registry] }),
    outboxLagSeconds: new Gauge({ name: 'dealreg_outbox_lag_seconds', help: 'Age of the oldest undispatched outbox row', registers: [registry] }),
    outboxPending: new Gauge({ name: 'dealreg_outbox_pending', help: 'Undispatched outbox rows', registers: [registry] }),
    queueDepth: new Gauge({ name: 'dealreg_queue_depth', help: 'Jobs per queue and state', labelNames: ['queue', 'state'], registers: [registry] }),
    jobsProcessed: new Counter({ name: 'dealreg_jobs_processed_total', help: 'Jobs finished by queue and result', labelNames: ['queue', 'result'], registers: [registry] }),
    webhookEvents: new Counter({
      name: 'dealreg_webhook_events_total',
      help: 'Inbound CRM change events (HubSpot webhooks, Salesforce change feed) by result (stored, duplicate, echo, ignored, gap); rejected counts refused requests (signature, body)',
      labelNames: ['crm', 'result'],
      registers: [registry],
    }),
    webhookAckSeconds: new Histogram({
      name: 'dealreg_webhook_ack_seconds',
      help: 'Time to answer an inbound CRM webhook request',
      labelNames: ['crm', 'status'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    crmCalls: new Counter({ name: 'dealreg_crm_calls_total', help: 'CRM API calls by operation and result', labelNames: ['crm', 'op', 'result'], registers: [registry] }),
    crmRecordsPushed: new Counter({ name: 'dealreg_crm_records_pushed_total', help: 'Registrations written to CRM records by result', labelNames: ['crm', 'result'], registers: [registry] }),
    crmChangesApplied: new Counter({ name: 'dealreg_crm_changes_total', help: 'Inbound CRM record changes by outcome', labelNames: ['crm', 'outcome'], registers: [registry] }),
    crmRateLimited: new Counter({ name: 'dealreg_crm_rate_limited_total', help: 'Times a CRM connection was paused by a rate limit', labelNames: ['crm'], registers: [registry] }),
    crmConnectionsParked: new Counter({ name: 'dealreg_crm_connections_parked_total', help: 'Times a CRM connection was parked (credentials rejected)', labelNames: ['crm'], registers: [registry] }),
  };
}
