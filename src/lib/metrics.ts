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
  };
}
