// Starts the background side of dealreg: outbox dispatcher, workers and repeatable schedules.
import { Worker, UnrecoverableError, type ConnectionOptions } from 'bullmq';
import type { UseCaseContext } from '../use-cases/context';
import { OutboxDispatcher } from './outbox-dispatcher';
import { createQueues, MAINTENANCE_JOBS, QUEUES, registrationEventJob, type Queues } from './queues';
import { handleRegistrationEvent, type RegistrationEventReaction } from './workers/registration-events.worker';
import { handleMaintenanceJob } from './workers/maintenance.worker';

export interface JobRuntimeOptions {
  connection: ConnectionOptions;
  prefix: string;
  outboxPollMs: number;
  protectionSweepMs: number;
  reactions?: RegistrationEventReaction[];
  concurrency?: number;
  /** Run the dispatcher and workers (false: only enqueue, e.g. an API-only process). */
  work: boolean;
}

export interface JobRuntime {
  queues: Queues;
  dispatcher: OutboxDispatcher;
  workers: Worker[];
  close(): Promise<void>;
}

export async function startJobRuntime(ctx: UseCaseContext, o: JobRuntimeOptions): Promise<JobRuntime> {
  const queues = createQueues(o.connection, o.prefix);
  const dispatcher = new OutboxDispatcher({ prisma: ctx.prisma, queue: queues.registrationEvents, log: ctx.log.child({ component: 'outbox' }), metrics: ctx.metrics, pollMs: o.outboxPollMs });
  const workers: Worker[] = [];
  if (o.work) {
    const reactions = o.reactions ?? [];
    const events = new Worker(
      QUEUES.registrationEvents,
      async (job) => {
        const parsed = registrationEventJob.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError(`malformed job data: ${parsed.error.message}`);
        return handleRegistrationEvent(ctx, reactions, parsed.data);
      },
      { connection: o.connection, prefix: o.prefix, concurrency: o.concurrency ?? 8 },
    );
    const maintenance = new Worker(QUEUES.maintenance, async (job) => handleMaintenanceJob(ctx, job.name), {
      connection: o.connection,
      prefix: o.prefix,
      concurrency: 1,
    });
    for (const w of [events, maintenance]) {
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
