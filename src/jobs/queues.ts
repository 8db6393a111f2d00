// Queue names, job-data schemas (ids only) and default options, in one place.
import { Queue, type ConnectionOptions, type DefaultJobOptions } from 'bullmq';
import { z } from 'zod';

export const QUEUES = {
  /** One job per outbox row (job id "outbox-<id>"): a registration changed; reactions (CRM sync) run from here. */
  registrationEvents: 'registration-events',
  /** Repeatable housekeeping: protection sweep (expiry + reminders), outbox cleanup, CRM sweep. */
  maintenance: 'maintenance',
  /** Per CRM connection (job data: the connection id): push, inbox, backfill, reconcile (src/jobs/crm-jobs.ts). */
  crmSync: 'crm-sync',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const registrationEventJob = z
  .object({
    outboxId: z.string().regex(/^\d+$/),
    workspaceId: z.string().uuid(),
    registrationId: z.string().uuid().nullable(),
    topic: z.string(),
    event: z.string().nullable(),
  })
  .strict();
export type RegistrationEventJob = z.infer<typeof registrationEventJob>;

export const MAINTENANCE_JOBS = { protectionSweep: 'protection-sweep', outboxCleanup: 'outbox-cleanup', crmSweep: 'crm-sweep' } as const;

export const defaultJobOptions: DefaultJobOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  // Completed jobs are kept a week: their ids are what makes re-dispatching an outbox row a no-op.
  removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** BullMQ job ids must not contain ':'. */
export const outboxJobId = (outboxId: bigint | string | number) => `outbox-${outboxId}`;

export interface Queues {
  registrationEvents: Queue;
  maintenance: Queue;
  crmSync: Queue;
  all: Queue[];
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, prefix: string): Queues {
  const registrationEvents = new Queue(QUEUES.registrationEvents, { connection, prefix, defaultJobOptions });
  const maintenance = new Queue(QUEUES.maintenance, {
    connection,
    prefix,
    defaultJobOptions: { ...defaultJobOptions, attempts: 3, removeOnComplete: { count: 1000 } },
  });
  // CRM jobs wait by delaying themselves (rate limits, backoff), so attempts only count real failures.
  const crmSync = new Queue(QUEUES.crmSync, {
    connection,
    prefix,
    defaultJobOptions: { attempts: 20, backoff: { type: 'exponential', delay: 2000, jitter: 0.5 }, removeOnComplete: { count: 1000 }, removeOnFail: { age: 30 * 24 * 3600 } },
  });
  const all = [registrationEvents, maintenance, crmSync];
  return {
    registrationEvents,
    maintenance,
    crmSync,
    all,
    close: async () => {
      await Promise.all(all.map((q) => q.close()));
    },
  };
}
