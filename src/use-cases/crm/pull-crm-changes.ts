// Inbound changes from a feed-based CRM (Salesforce Change Data Capture, replayed by id): pull a page of
// events after the saved cursor, drop our own writes, store the rest in the inbox (deduplicated on the
// event key, exactly as webhook deliveries are), then save the cursor. Storing before saving makes it
// at-least-once: a crash between the two replays the page, and the inbox ignores what it already has.
// A cursor the feed no longer knows (retention passed, or a reset) is a gap: events may be lost, so the
// reconcile sweep (SystemModstamp) runs at once and the feed continues from its tip.
import { feedCursor, findConnection, saveFeedCursor } from '../../data/repositories/connections';
import { insertInboxEvents, type InboxInsert } from '../../data/repositories/inbox';
import { adapterFor, type CrmServices } from '../../crm/crm-services';
import { decideRetry } from '../../crm/retry-decision';
import { CrmError } from '../../crm/crm-adapter';

export type FeedOutcome =
  | { outcome: 'done'; stored: number; echoes: number; reason?: string }
  | { outcome: 'wait'; stored: number; echoes: number; afterMs: number; reason: string }
  | { outcome: 'inactive'; stored: number; echoes: number; status: string };

/** Events asked for per pull. */
export const FEED_PAGE = 200;
/** Pulls per job before it hands over to a fresh job (other connections' jobs get a turn). */
const FEED_MAX_PAGES = 25;
/** Pause between empty pulls when the feed is not long-polled (SALESFORCE_FEED_WAIT_MS=0). */
export const FEED_IDLE_MS = 1000;
/** How often an org that serves no feed is asked again. */
export const FEED_UNAVAILABLE_RETRY_MS = 15 * 60_000;

export async function reconcileNow(s: CrmServices, connectionId: string): Promise<void> {
  await s.redis.del(`${s.prefix}:crm-reconcile-due:${connectionId}`);
  await s.jobs.reconcile(connectionId);
}

/**
 * One round of the feed for a connection. The job is perpetual: it answers "wait" to be run again
 * (at once while events keep coming, after FEED_IDLE_MS when the feed is quiet).
 */
export async function pullFeed(s: CrmServices, connectionId: string, opts: { maxPages?: number; waitMs?: number; random?: () => number } = {}): Promise<FeedOutcome> {
  let stored = 0;
  let echoes = 0;
  const connection = await findConnection(s.ctx.prisma, connectionId);
  if (!connection || connection.status !== 'active') return { outcome: 'inactive', stored, echoes, status: connection?.status ?? 'missing' };
  const adapter = adapterFor(s, connection);
  if (!adapter.pullChanges) return { outcome: 'done', stored, echoes, reason: `${connection.crm} pushes its changes (webhooks): no feed to pull` };
  const log = s.ctx.log.child({ component: 'crm-feed', crm: connection.crm, connectionId });
  const waitMs = opts.waitMs ?? (connection.crm === 'salesforce' ? s.settings.salesforce.feedWaitMs : 0);
  let { cursor } = await feedCursor(s.ctx.prisma, connectionId);
  try {
    if (cursor === null) {
      // First pull: remember where the feed is now. What happened before is the backfill's job.
      const tip = await adapter.pullChanges(null, { limit: 1, waitMs: 0 });
      cursor = tip.cursor;
      await saveFeedCursor(s.ctx.prisma, connectionId, cursor, s.ctx.clock());
      log.info({ cursor }, 'change feed started at its tip');
    }
    for (let n = 0; n < (opts.maxPages ?? FEED_MAX_PAGES); n++) {
      // Long-poll only when the last page said nothing more is waiting (the first pull of a round too).
      const page = await adapter.pullChanges(cursor, { limit: FEED_PAGE, waitMs: n === 0 ? waitMs : 0 });
      const rows: InboxInsert[] = [];
      for (const e of page.events) {
        if (e.origin.kind === 'self') echoes++;
        else rows.push({ connectionId, event: e });
      }
      const result = await insertInboxEvents(s.ctx.prisma, rows, { receivedAt: s.ctx.clock() });
      stored += result.stored;
      cursor = page.cursor;
      await saveFeedCursor(s.ctx.prisma, connectionId, cursor, s.ctx.clock());
      countFeed(s, connection.crm, result.stored, result.duplicates, page.events.length - rows.length);
      if (result.stored > 0) await s.jobs.inbox(connectionId);
      if (page.gap) {
        log.warn({ cursor }, 'change feed gap (replay id unknown or expired): catching up with a SystemModstamp sweep, continuing from the tip');
        s.ctx.metrics.webhookEvents.inc({ crm: connection.crm, result: 'gap' });
        await reconcileNow(s, connectionId);
        return { outcome: 'wait', stored, echoes, afterMs: 0, reason: 'feed gap: reconcile queued' };
      }
      if (!page.more) return { outcome: 'wait', stored, echoes, afterMs: waitMs > 0 ? 0 : FEED_IDLE_MS, reason: 'feed caught up' };
    }
    return { outcome: 'wait', stored, echoes, afterMs: 0, reason: 'page budget used: continuing in a new round' };
  } catch (err) {
    if (err instanceof CrmError && err.code === 'NOT_FOUND') {
      // The org serves no feed at this address (a real org delivers CDC over the Pub/Sub API, which this
      // build does not subscribe to): the SystemModstamp sweep keeps it in sync. Look again now and then,
      // not every second: every call counts against the org's daily allowance.
      log.warn({ err: err.message, retryInMs: FEED_UNAVAILABLE_RETRY_MS }, 'no change feed at this org; relying on the reconcile sweep');
      return { outcome: 'wait', stored, echoes, afterMs: FEED_UNAVAILABLE_RETRY_MS, reason: 'no change feed' };
    }
    const d = decideRetry(err, 1, opts.random);
    if (d.action === 'park') return { outcome: 'inactive', stored, echoes, status: 'parked' };
    log.warn({ err: (err as Error).message, action: d.action, waitMs: d.waitMs }, 'change feed pull failed; trying again later');
    return { outcome: 'wait', stored, echoes, afterMs: Math.max(d.waitMs, FEED_IDLE_MS), reason: d.reason };
  }
}

function countFeed(s: CrmServices, crm: string, stored: number, duplicates: number, echoes: number): void {
  if (stored > 0) s.ctx.metrics.webhookEvents.inc({ crm, result: 'stored' }, stored);
  if (duplicates > 0) s.ctx.metrics.webhookEvents.inc({ crm, result: 'duplicate' }, duplicates);
  if (echoes > 0) s.ctx.metrics.webhookEvents.inc({ crm, result: 'echo' }, echoes);
}
