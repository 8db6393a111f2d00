// Starts the background side of dealreg: outbox dispatcher, workers and repeatable schedules.
import { Worker, UnrecoverableError, type ConnectionOptions } from 'bullmq';
import type { UseCaseContext } from '../use-cases/context';
import { OutboxDispatcher } from './outbox-dispatcher';
import { createQueues, MAINTENANCE_JOBS, QUEUES, registrationEventJob, type Queues } from './queues';
import { handleRegistrationEvent, type RegistrationEventReaction } from './workers/registration-events.worker';
import { handleMaintenanceJob } from './workers/maintenance.worker';
import { crmCleanup, crmJobs, crmSweep, processCrmJob } from './crm-jobs';
import type { CrmJobs, CrmServices } from '../crm/crm-services';
import { crmSyncReaction } from '../use-cases/crm/mark-for-sync';

export interface JobRuntimeOptions {
  connection: ConnectionOptions;
  prefix: string;
  outboxPollMs: number;
  protectionSweepMs: number;
  reactions?: RegistrationEventReaction[];
  concurrency?: number;
  /** Run the dispatcher and workers (false: only enqueue, e.g. an API-only process). */
  work: boolean;
  /** CRM connectors: how to build their services once the queues exist, and how often the CRM sweep runs. */
  crm?: { build: (jobs: CrmJobs) => CrmServices; sweepMs: number; concurrency?: number };
}

export interface JobRuntime {
  queues: Queues;
  crm: CrmServices | null;
  dispatcher: OutboxDispatcher;
  workers: Worker[];
  close(): Promise<void>;
}

export async function startJobRuntime(ctx: UseCaseContext, o: JobRuntimeOptions): Promise<JobRuntime> {
  const queues = createQueues(o.connection, o.prefix);
  const dispatcher = new OutboxDispatcher({ prisma: ctx.prisma, queue: queues.registrationEvents, log: ctx.log.child({ component: 'outbox' }), metrics: ctx.metrics, pollMs: o.outboxPollMs });
  const workers: Worker[] = [];
  const crm = o.crm ? o.crm.build(crmJobs(queues.crmSync)) : null;
  if (o.work) {
    const reactions = [...(o.reactions ?? []), ...(crm ? [crmSyncReaction(crm)] : [])];
    const events = new Worker(
      QUEUES.registrationEvents,
      async (job) => {
        const parsed = registrationEventJob.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError(`malformed job data: ${parsed.error.message}`);
        return handleRegistrationEvent(ctx, reactions, parsed.data);
      },
      { connection: o.connection, prefix: o.prefix, concurrency: o.concurrency ?? 8 },
    );
    const maintenance = new Worker(
      QUEUES.maintenance,
      async (job) => {
        if (job.name === MAINTENANCE_JOBS.crmSweep) return crm ? crmSweep(crm) : {};
        const r = await handleMaintenanceJob(ctx, job.name);
        if (job.name === MAINTENANCE_JOBS.outboxCleanup && crm) return { ...r, inboxDeleted: await crmCleanup(crm) };
        return r;
      },
      { connection: o.connection, prefix: o.prefix, concurrency: 1 },
    );
    const own = [events, maintenance];
    if (crm) {
      own.push(new Worker(QUEUES.crmSync, async (job, token) => processCrmJob(crm, job, token), { connection: o.connection, prefix: o.prefix, concurrency: o.crm?.concurrency ?? 8 }));
    }
    for (const w of own) {
      w.on('failed', (job, err) => {
        ctx.metrics.jobsProcessed.inc({ queue: w.name, result: 'failed' });
        ctx.log.warn({ err, jobId: job?.id, queue: w.name, attemptsMade: job?.attemptsMade }, 'job failed');
      });
      w.on('completed', () => ctx.metrics.jobsProcessed.inc({ queue: w.name, result: 'completed' }));
      w.on('error', (err) => ctx.log.error({ err, queue: w.name }, 'worker error'));
      workers.push(w);
    }
    await queues.maintenance.upsertJobScheduler(MAINTENANCE_JOBS.protectionSweep, { every: o.protectionSweepMs }, { name: MAINTENANCE_JOBS.protectionSweep });
    await queues.maintenance.upsertJobScheduler(MAINTENANCE_JOBS.outboxCleanup, { every: 3_600_000 }, { name: MAINTENANCE_JOBS.outboxCleanup });
    if (crm) await queues.maintenance.upsertJobScheduler(MAINTENANCE_JOBS.crmSweep, { every: o.crm!.sweepMs }, { name: MAINTENANCE_JOBS.crmSweep });
    dispatcher.start();
  }
  const depthTimer = setInterval(() => {
    for (const q of queues.all) {
      q.getJobCounts('waiting', 'active', 'delayed', 'failed')
        .then((c) => {
          for (const [state, n] of Object.entries(c)) ctx.metrics.queueDepth.set({ queue: q.name, state }, n);
        })
        .catch(() => undefined);
    }
  }, 5000);
  depthTimer.unref();
  return {
    queues,
    crm,
    dispatcher,
    workers,
    close: async () => {
      clearInterval(depthTimer);
      await dispatcher.stop();
      await Promise.all(workers.map((w) => w.close()));
      await queues.close();
    },
  };
}
