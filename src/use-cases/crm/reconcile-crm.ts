// The safety nets of inbound sync:
// - backfill: fills the account mirror of a newly connected CRM account, a page at a time, resumable
//   (the page cursor is saved after each page, so a crash or restart continues where it stopped), with a
//   progress line in the log and on GET /v1/connections;
// - reconcile: a repeatable sweep that re-reads every record modified since the last sweep (with an
//   overlap) and applies it through the same path as webhooks, catching anything a missed webhook lost.
import { findConnection, updateBackfill, type BackfillProgress, type ConnectionRecord } from '../../data/repositories/connections';
import { markForSync } from '../../data/repositories/crm-links';
import { markMirrorSynced, mirrorCursor } from '../../data/repositories/mirror';
import { isActive } from '../../domain/registration-state';
import { CrmError, type CrmAdapter, type CrmOpportunity } from '../../crm/crm-adapter';
import { adapterFor, type CrmServices } from '../../crm/crm-services';
import { decideRetry } from '../../crm/retry-decision';
import { applyAccounts, applyContext, applyOpportunities, mappedFields } from './apply-crm-changes';

export type SweepOutcome =
  | { outcome: 'done'; accounts: number; opportunities: number }
  | { outcome: 'wait'; accounts: number; opportunities: number; afterMs: number; reason: string }
  | { outcome: 'inactive'; status: string };

/** Re-read records modified this long before the cursor too: clocks and search indexes lag. */
export const RECONCILE_OVERLAP_MS = 2 * 60_000;
const SWEEP_PAGE = 100;
const SWEEP_MAX_PAGES = 50;

interface Cursor {
  accounts?: string;
  opportunities?: string;
}

function parseCursor(raw: string | null | undefined): Cursor {
  if (!raw) return {};
  try {
    return JSON.parse(raw) as Cursor;
  } catch {
    return {};
  }
}

function minus(iso: string, ms: number): string {
  return new Date(new Date(iso).getTime() - ms).toISOString();
}

async function active(s: CrmServices, connectionId: string): Promise<ConnectionRecord | null> {
  const c = await findConnection(s.ctx.prisma, connectionId);
  return c && c.status === 'active' ? c : null;
}

/** A deal that carries one of our registration ids but has no link (a lost link, a restored backup): adopt it. */
async function adoptOrphans(s: CrmServices, connection: ConnectionRecord, opps: CrmOpportunity[]): Promise<void> {
  const candidates = opps.filter((o) => o.registrationId && /^[0-9a-f-]{36}$/i.test(o.registrationId));
  if (candidates.length === 0) return;
  const existing = await s.ctx.prisma.crmLink.findMany({ where: { connectionId: connection.id, registrationId: { in: candidates.map((o) => o.registrationId!) } }, select: { registrationId: true } });
  const have = new Set(existing.map((e) => e.registrationId));
  const regs = await s.ctx.prisma.registration.findMany({
    where: { workspaceId: connection.workspaceId, id: { in: candidates.map((o) => o.registrationId!).filter((id) => !have.has(id)) } },
    select: { id: true, version: true, status: true },
  });
  if (regs.length === 0) return;
  const byReg = new Map(candidates.map((o) => [o.registrationId!, o]));
  for (const r of regs) {
    await s.ctx.prisma.crmLink.create({
      data: { connectionId: connection.id, registrationId: r.id, workspaceId: connection.workspaceId, crm: connection.crm, externalId: byReg.get(r.id)!.externalId, state: 'synced', wantedVersion: r.version, pushedVersion: 0 },
    }).catch(() => undefined); // a concurrent adopt or push created it: fine
  }
  // pushed 0 < wanted: the next push writes our current values onto the adopted record.
  await markForSync(s.ctx.prisma, regs.filter((r) => isActive(r.status) || r.status === 'won' || r.status === 'lost').map((r) => ({ connectionId: connection.id, registrationId: r.id, workspaceId: connection.workspaceId, crm: connection.crm, version: r.version })));
  await s.jobs.push(connection.id);
}

export async function reconcileConnection(s: CrmServices, connectionId: string, opts: { random?: () => number } = {}): Promise<SweepOutcome> {
  const connection = await active(s, connectionId);
  if (!connection) return { outcome: 'inactive', status: 'not active' };
  if (connection.backfill.state !== 'done') return { outcome: 'done', accounts: 0, opportunities: 0 }; // the backfill covers it
  const adapter = adapterFor(s, connection);
  const state = await mirrorCursor(s.ctx.prisma, connection.workspaceId, connection.crm);
  const cursor = parseCursor(state?.cursor);
  const startedAt = s.ctx.clock().toISOString();
  const fallback = connection.backfill.startedAt ?? connection.createdAt.toISOString();
  let accounts = 0;
  let opportunities = 0;
  try {
    const a = await applyContext(s, connection, adapter);
    const fields = mappedFields(a.mapping);
    for (const kind of ['accounts', 'opportunities'] as const) {
      let since = minus(cursor[kind] ?? fallback, RECONCILE_OVERLAP_MS);
      for (let page = 0; page < SWEEP_MAX_PAGES; page++) {
        if (kind === 'accounts') {
          const r = await adapter.accountsChangedSince(since, SWEEP_PAGE);
          accounts += await applyAccounts(a, r.records);
          if (r.newestAt) cursor.accounts = r.newestAt;
          if (!r.more || !r.newestAt || r.newestAt === since) break;
          since = r.newestAt;
        } else {
          const r = await adapter.opportunitiesChangedSince(since, SWEEP_PAGE, fields);
          await applyOpportunities(a, r.records);
          await adoptOrphans(s, connection, r.records);
          opportunities += r.records.length;
          if (r.newestAt) cursor.opportunities = r.newestAt;
          if (!r.more || !r.newestAt || r.newestAt === since) break;
          since = r.newestAt;
        }
      }
      // Nothing changed: the sweep itself proves the mirror fresh up to when it started.
      cursor[kind] ??= startedAt;
    }
    await markMirrorSynced(s.ctx.prisma, connection.workspaceId, connection.crm, new Date(startedAt), JSON.stringify(cursor));
    return { outcome: 'done', accounts, opportunities };
  } catch (err) {
    // Keep what was learned so far: the next sweep starts from there.
    await markMirrorSynced(s.ctx.prisma, connection.workspaceId, connection.crm, state?.syncedAt ?? new Date(0), JSON.stringify(cursor)).catch(() => undefined);
    return failed(err, accounts, opportunities, opts.random);
  }
}

function failed(err: unknown, accounts: number, opportunities: number, random?: () => number): SweepOutcome {
  const d = decideRetry(err, 1, random);
  if (d.action === 'park') return { outcome: 'inactive', status: 'parked' };
  if (d.action === 'fail') throw err;
  return { outcome: 'wait', accounts, opportunities, afterMs: d.waitMs, reason: d.reason };
}

interface BackfillCursor {
  phase: 'accounts' | 'opportunities';
  page: string | null;
}

/**
 * Fills the mirror for a newly connected CRM account. Resumable: the page cursor is saved with the
 * progress after every page. Logs a progress line per page.
 */
export async function backfillConnection(s: CrmServices, connectionId: string, opts: { maxPages?: number; random?: () => number } = {}): Promise<SweepOutcome> {
  const connection = await active(s, connectionId);
  if (!connection) return { outcome: 'inactive', status: 'not active' };
  if (connection.backfill.state === 'done') return { outcome: 'done', accounts: connection.backfill.accounts ?? 0, opportunities: connection.backfill.opportunities ?? 0 };
  const log = s.ctx.log.child({ component: 'crm-backfill', crm: connection.crm, connectionId });
  const adapter: CrmAdapter = adapterFor(s, connection);
  const saved = connection.backfill as BackfillProgress & { cursor?: BackfillCursor };
  const progress: BackfillProgress & { cursor: BackfillCursor } = {
    state: 'running',
    accounts: saved.accounts ?? 0,
    opportunities: saved.opportunities ?? 0,
    startedAt: saved.startedAt ?? s.ctx.clock().toISOString(),
    cursor: saved.cursor ?? { phase: 'accounts', page: null },
  };
  if (!saved.startedAt) log.info({ externalAccountId: connection.externalAccountId }, 'backfill started: reading every account and opportunity into the mirror');
  try {
    const a = await applyContext(s, connection, adapter);
    const fields = mappedFields(a.mapping);
    for (let n = 0; n < (opts.maxPages ?? Number.POSITIVE_INFINITY); n++) {
      if (progress.cursor.phase === 'accounts') {
        const page = await adapter.listAccounts(progress.cursor.page);
        progress.accounts! += await applyAccounts(a, page.records);
        progress.cursor = page.next ? { phase: 'accounts', page: page.next } : { phase: 'opportunities', page: null };
      } else {
        const page = await adapter.listOpportunities(progress.cursor.page, fields);
        await applyOpportunities(a, page.records);
        await adoptOrphans(s, connection, page.records);
        progress.opportunities! += page.records.length;
        if (!page.next) {
          const done: BackfillProgress = { state: 'done', accounts: progress.accounts, opportunities: progress.opportunities, startedAt: progress.startedAt, finishedAt: s.ctx.clock().toISOString() };
          await updateBackfill(s.ctx.prisma, connectionId, done);
          // The reconcile sweep continues from when the backfill started.
          const since = progress.startedAt!;
          await markMirrorSynced(s.ctx.prisma, connection.workspaceId, connection.crm, s.ctx.clock(), JSON.stringify({ accounts: since, opportunities: since }));
          log.info({ accounts: progress.accounts, opportunities: progress.opportunities }, 'backfill done');
          return { outcome: 'done', accounts: progress.accounts!, opportunities: progress.opportunities! };
        }
        progress.cursor = { phase: 'opportunities', page: page.next };
      }
      await updateBackfill(s.ctx.prisma, connectionId, progress);
      log.info({ accounts: progress.accounts, opportunities: progress.opportunities, phase: progress.cursor.phase }, 'backfill progress');
    }
    return { outcome: 'wait', accounts: progress.accounts!, opportunities: progress.opportunities!, afterMs: 0, reason: 'page budget used' };
  } catch (err) {
    await updateBackfill(s.ctx.prisma, connectionId, { ...progress, error: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
    if (err instanceof CrmError) log.warn({ code: err.code, err: err.message }, 'backfill interrupted; it resumes from the last page');
    return failed(err, progress.accounts!, progress.opportunities!, opts.random);
  }
}
