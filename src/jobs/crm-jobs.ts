// CRM connection jobs on the crm-sync queue (push, inbox, backfill, reconcile, and the change feed of
// feed-based CRMs). Job data is the connection id only (the job re-reads
// everything, tokens included, from the database); each kind of job is deduplicated per connection, so
// enqueueing is cheap and idempotent. A job that has to wait (rate limit, backoff) moves itself to
// "delayed": waiting never spends one of its attempts. Unexpected errors (database down) are retried by
// BullMQ with backoff.
import { DelayedError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import { z } from 'zod';
import type { CrmJobs, CrmServices } from '../crm/crm-services';
import { activeConnections } from '../data/repositories/connections';
import { connectionsWithBacklog } from '../data/repositories/crm-links';
import { connectionsWithPendingInbox, deleteProcessedInboxBefore } from '../data/repositories/inbox';
import { pushPending } from '../use-cases/crm/push-to-crm';
import { drainInbox } from '../use-cases/crm/apply-crm-changes';
import { backfillConnection, reconcileConnection } from '../use-cases/crm/reconcile-crm';
import { pullFeed } from '../use-cases/crm/pull-crm-changes';
import { adapterFor } from '../crm/crm-services';

export const CRM_JOBS = { push: 'push', inbox: 'inbox', backfill: 'backfill', reconcile: 'reconcile', feed: 'feed' } as const;
export type CrmJobName = (typeof CRM_JOBS)[keyof typeof CRM_JOBS];

export const crmJobData = z.object({ connectionId: z.string().uuid() }).strict();

const dedupId = (name: CrmJobName, connectionId: string) => `${name}-${connectionId}`;

export function crmJobs(queue: Queue): CrmJobs {
  const add = async (name: CrmJobName, connectionId: string, delayMs = 0) => {
    await queue.add(name, { connectionId }, { deduplication: { id: dedupId(name, connectionId) }, ...(delayMs > 0 ? { delay: delayMs } : {}) });
  };
  return {
    push: (id, delayMs) => add(CRM_JOBS.push, id, delayMs),
    inbox: (id) => add(CRM_JOBS.inbox, id),
    backfill: (id) => add(CRM_JOBS.backfill, id),
    reconcile: (id) => add(CRM_JOBS.reconcile, id),
    feed: (id) => add(CRM_JOBS.feed, id),
    cancel: async (connectionId) => {
      for (const name of Object.values(CRM_JOBS)) {
        const jobId = await queue.getDeduplicationJobId(dedupId(name, connectionId));
        if (!jobId) continue;
        const job = await queue.getJob(jobId);
        // An active job cannot be removed; it sees the connection is no longer active at its next batch.
        if (job && !(await job.isActive())) await job.remove().catch(() => undefined);
        await queue.removeDeduplicationKey(dedupId(name, connectionId)).catch(() => undefined);
      }
    },
  };
}

type Result = { outcome: 'done' | 'wait' | 'inactive'; afterMs?: number; reason?: string } & Record<string, unknown>;

/** Runs one crm-sync job. A "wait" outcome delays this same job (keeping its deduplication id). */
export async function processCrmJob(s: CrmServices, job: Job, token: string | undefined): Promise<Result> {
  const parsed = crmJobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed crm-sync job data: ${parsed.error.message}`);
  const { connectionId } = parsed.data;
  let r: Result;
  switch (job.name as CrmJobName) {
    case CRM_JOBS.push:
      r = await pushPending(s, connectionId);
      break;
    case CRM_JOBS.inbox:
      r = await drainInbox(s, connectionId);
      break;
    case CRM_JOBS.backfill:
      r = await backfillConnection(s, connectionId, { maxPages: 200 });
      break;
    case CRM_JOBS.reconcile:
      r = await reconcileConnection(s, connectionId);
      break;
    case CRM_JOBS.feed:
      r = await pullFeed(s, connectionId);
      break;
    default:
      throw new UnrecoverableError(`unknown crm-sync job ${job.name}`);
  }
  if (r.outcome === 'wait') {
    s.ctx.log.debug({ component: 'crm-jobs', job: job.name, connectionId, afterMs: r.afterMs, reason: r.reason }, 'crm job waits');
    await job.moveToDelayed(Date.now() + Math.max(0, r.afterMs ?? 0), token);
    throw new DelayedError();
  }
  return r;
}

/**
 * The safety net, run every few seconds: queue the work the database says is waiting (a job lost with
 * Redis, an enqueue that raced a finishing job), the reconcile sweep when it is due, and a backfill that
 * has not finished.
 */
export async function crmSweep(s: CrmServices): Promise<Record<string, number>> {
  const now = s.ctx.clock();
  const [backlog, inbox, active] = await Promise.all([connectionsWithBacklog(s.ctx.prisma, now), connectionsWithPendingInbox(s.ctx.prisma), activeConnections(s.ctx.prisma)]);
  const activeIds = new Set(active.map((c) => c.id));
  for (const id of backlog) await s.jobs.push(id);
  for (const id of inbox.filter((i) => activeIds.has(i))) await s.jobs.inbox(id);
  let reconciles = 0;
  let backfills = 0;
  let feeds = 0;
  for (const c of active) {
    // Feed-based CRMs (Salesforce): the feed job is perpetual; this only restarts one that was lost.
    if (s.key && adapterFor(s, c).pullChanges) {
      await s.jobs.feed(c.id);
      feeds++;
    }
    if (c.backfill.state !== 'done') {
      await s.jobs.backfill(c.id);
      backfills++;
      continue;
    }
    // SET NX with the interval as TTL: at most one reconcile per interval per connection, across processes.
    const due = await s.redis.set(`${s.prefix}:crm-reconcile-due:${c.id}`, '1', 'PX', s.settings.reconcileMs, 'NX');
    if (due === 'OK') {
      await s.jobs.reconcile(c.id);
      reconciles++;
    }
  }
  return { pushes: backlog.length, inboxes: inbox.length, reconciles, backfills, feeds };
}

/** Processed inbox rows are kept a week (duplicates arriving late are still recognised), then deleted. */
export async function crmCleanup(s: CrmServices): Promise<number> {
  return deleteProcessedInboxBefore(s.ctx.prisma, new Date(s.ctx.clock().getTime() - 7 * 86_400_000));
}
