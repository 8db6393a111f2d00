// Inbound sync: CRM records (read back after a webhook or change event, found by a reconcile sweep, or
// listed by a backfill) applied to the account mirror and to the registrations they belong to, through
// one path. Field ownership comes from the sync mapping; our own writes coming back are recognised
// (the link's known values and their hash) and change nothing.
import { findConnection, type ConnectionRecord } from '../../data/repositories/connections';
import { linksByExternalIds, requestRepush, updateKnown, type LinkRow } from '../../data/repositories/crm-links';
import { claimPendingInbox, markInboxProcessed, type InboxOutcome, type PendingInboxEvent } from '../../data/repositories/inbox';
import {
  deleteMirrorAccounts,
  deleteMirrorOpportunities,
  upsertMirrorAccounts,
  upsertMirrorOpportunities,
  type MirrorOpportunityWrite,
} from '../../data/repositories/mirror';
import { withPartner, type RegistrationRow } from '../../data/repositories/registrations';
import { appendLedgerEvent } from '../../data/ledger';
import { companyNameKey } from '../../domain/company-name';
import { ownerRole, stageOutcome, type SyncMapping } from '../../domain/sync-mapping';
import { KNOWN_OWNER, planInbound, type InboundPlan } from '../../domain/sync-plan';
import type { ChangeOrigin, CrmAccount, CrmAdapter, CrmDescribe, CrmOpportunity, CrmOwner } from '../../crm/crm-adapter';
import { adapterFor, cachedDescribe, cachedOwners, type CrmServices } from '../../crm/crm-services';
import { decideRetry } from '../../crm/retry-decision';
import { applyCrmFieldChanges, closeRegistration, type CrmFieldChanges } from '../registration-lifecycle';
import type { CrmUserPrincipal, SystemPrincipal } from '../context';
import { mappingInForce } from './mappings';
import { registrationFacts } from './registration-facts';
import { hashKnown } from './push-to-crm';

type Outcome = Exclude<InboxOutcome, 'failed'>;

interface ApplyContext {
  s: CrmServices;
  connection: ConnectionRecord;
  adapter: CrmAdapter;
  mapping: SyncMapping;
  describe: CrmDescribe;
  owners: Map<string, CrmOwner>;
}

export async function applyContext(s: CrmServices, connection: ConnectionRecord, adapter: CrmAdapter): Promise<ApplyContext> {
  const [{ mapping }, describe, owners] = await Promise.all([
    mappingInForce(s, s.ctx.prisma, connection.workspaceId, connection.crm),
    cachedDescribe(s, connection, adapter),
    cachedOwners(s, connection, adapter),
  ]);
  return { s, connection, adapter, mapping, describe, owners };
}

function principalFor(c: ConnectionRecord, origin: ChangeOrigin | undefined): CrmUserPrincipal | SystemPrincipal {
  if (origin?.kind === 'user') return { kind: 'crm_user', workspaceId: c.workspaceId, crm: c.crm, userId: origin.userId, role: 'viewer' };
  return { kind: 'system', workspaceId: c.workspaceId, source: `crm:${c.crm}` };
}

/** The CRM fields to read back for inbound changes: everything the mapping mentions. */
export function mappedFields(mapping: SyncMapping): string[] {
  return [...new Set(mapping.fields.map((f) => f.crmField))];
}

function mirrorRow(a: ApplyContext, o: CrmOpportunity, registrationId: string | null): MirrorOpportunityWrite {
  const owner = o.ownerId ? a.owners.get(o.ownerId) : undefined;
  return {
    externalId: o.externalId,
    accountExternalId: o.accountExternalIds[0] ?? null,
    name: o.name,
    stage: o.stageId,
    isClosed: o.isClosed,
    isWon: o.isWon,
    amount: o.amount,
    ownerExternalId: o.ownerId,
    ownerName: owner?.name ?? owner?.email ?? null,
    registrationId,
    externalUpdatedAt: new Date(o.updatedAt),
  };
}

/**
 * Applies current CRM opportunities. `origins` says who made the change that brought each one here
 * (from the webhook / change event); records found by a sweep have none (treated as "the CRM").
 */
export async function applyOpportunities(a: ApplyContext, opps: CrmOpportunity[], origins: Map<string, ChangeOrigin> = new Map()): Promise<Map<string, Outcome>> {
  const { s, connection } = a;
  const out = new Map<string, Outcome>();
  if (opps.length === 0) return out;
  const links = await linksByExternalIds(s.ctx.prisma, connection.id, opps.map((o) => o.externalId));
  await upsertMirrorOpportunities(s.ctx.prisma, connection.workspaceId, connection.crm, opps.map((o) => mirrorRow(a, o, links.get(o.externalId)?.registrationId ?? o.registrationId)), s.ctx.clock());
  const repush: string[] = [];
  // The registrations behind these records, in one query (each change below re-reads its own, version-guarded).
  const linkedIds = [...links.values()].filter((l) => l.state !== 'deleted').map((l) => l.registrationId);
  const regs = new Map(
    (linkedIds.length > 0 ? await s.ctx.prisma.registration.findMany({ where: { workspaceId: connection.workspaceId, id: { in: linkedIds } }, include: withPartner }) : []).map((r) => [r.id, r]),
  );
  for (const o of opps) {
    const link = links.get(o.externalId);
    if (!link || link.state === 'deleted') {
      out.set(o.externalId, 'ignored'); // not one of ours (or one we stopped syncing): the mirror is all it feeds
      continue;
    }
    const outcome = await applyToRegistration(a, link, regs.get(link.registrationId), o, origins.get(o.externalId));
    if (outcome.repush) repush.push(link.registrationId);
    out.set(o.externalId, outcome.outcome);
  }
  await requestRepush(s.ctx.prisma, connection.id, repush);
  if (repush.length > 0) await s.jobs.push(connection.id);
  return out;
}

async function applyToRegistration(a: ApplyContext, link: LinkRow, reg: RegistrationRow | undefined, o: CrmOpportunity, origin: ChangeOrigin | undefined): Promise<{ outcome: Outcome; repush: boolean }> {
  const { s, connection, mapping } = a;
  if (!reg) return { outcome: 'ignored', repush: false };
  const localPendingSince = link.pushedVersion < link.wantedVersion ? reg.updatedAt.toISOString() : null;
  // Records dealreg creates belong to the CRM user it connects as (Salesforce sets OwnerId to the
  // integration user): seeing that owner first is not a change of owner.
  const selfUserId = typeof connection.settings.userId === 'string' ? connection.settings.userId : null;
  const known = selfUserId && !(KNOWN_OWNER in link.known) ? { [KNOWN_OWNER]: selfUserId, ...link.known } : link.known;
  const plan = planInbound({
    facts: registrationFacts(reg, s.settings.publicBaseUrl),
    mapping,
    known,
    crm: { fields: o.fields, stageId: o.stageId, pipelineId: o.pipelineId, ownerId: o.ownerId, changedAt: o.updatedAt },
    stageOutcome: stageOutcome(mapping, a.describe, o.stageId, o.pipelineId),
    localPendingSince,
  });
  const now = s.ctx.clock();
  const hash = hashKnown(plan.knownAfter);
  // The hash is the quick check ("exactly what we last wrote"); it must never hide a close or a change.
  if (plan.echo || (hash === link.pushedHash && plan.close === null && plan.changes.length === 0 && !plan.repush && plan.ownerChange === null)) {
    s.ctx.metrics.crmChangesApplied.inc({ crm: connection.crm, outcome: 'echo' });
    return { outcome: 'echo', repush: false };
  }
  // Record what the CRM holds first: the pushes our own changes trigger then see no difference.
  const by = principalFor(connection, origin);
  const crmFacts = { crm: connection.crm, externalId: o.externalId };
  const source = `crm:${connection.crm}`;
  await s.ctx.prisma.$transaction(async (tx) => {
    await updateKnown(tx, connection.id, link.registrationId, plan.knownAfter, hash, now);
    if (plan.ownerChange) {
      const owner = plan.ownerChange.to ? a.owners.get(plan.ownerChange.to) : undefined;
      await appendLedgerEvent(tx, {
        workspaceId: connection.workspaceId,
        registrationId: link.registrationId,
        type: 'registration.crm_owner_changed',
        actor: actorFor(by, source),
        data: { ...crmFacts, from: plan.ownerChange.from, to: plan.ownerChange.to, toName: owner?.name ?? owner?.email ?? null },
        at: now,
      });
    }
  });
  const changes = toFieldChanges(plan);
  if (Object.keys(changes).length > 0) await applyCrmFieldChanges(s.ctx, by, reg.id, changes, crmFacts, source);
  if (plan.close) {
    const amount = o.amount ?? (reg.amountValue === null ? null : Number(reg.amountValue));
    const currency = o.currency ?? reg.amountCurrency;
    // Won freezes the attribution with the CRM's amount (the event records the split: `attribution`).
    await closeRegistration(s.ctx, by, reg.id, plan.close, { ...crmFacts, stageId: o.stageId, amount, currency }, source, { value: amount, currency });
  }
  for (const n of plan.notes) s.ctx.log.info({ component: 'crm-inbound', crm: connection.crm, registrationId: reg.id, externalId: o.externalId }, n);
  s.ctx.metrics.crmChangesApplied.inc({ crm: connection.crm, outcome: 'applied' });
  return { outcome: 'applied', repush: plan.repush };
}

function actorFor(p: CrmUserPrincipal | SystemPrincipal, source: string) {
  return p.kind === 'crm_user' ? { type: 'crm_user' as const, id: `${p.crm}:${p.userId}`, source } : { type: 'system' as const, id: null, source };
}

function toFieldChanges(plan: InboundPlan): CrmFieldChanges {
  const out: CrmFieldChanges = {};
  for (const c of plan.changes) {
    if (c.field === 'amount.value') out.amountValue = typeof c.to === 'number' ? c.to : c.to === null ? null : Number(c.to);
    else if (c.field === 'amount.currency') out.amountCurrency = c.to === null ? null : String(c.to).toUpperCase();
    else if (c.field === 'expectedCloseDate') out.expectedCloseDate = c.to === null ? null : String(c.to).slice(0, 10);
  }
  return out;
}

/** Records deleted in the CRM: the mirror forgets them; linked registrations stop syncing (said in the ledger). */
export async function applyDeletedOpportunities(a: ApplyContext, ids: string[], origins: Map<string, ChangeOrigin> = new Map()): Promise<void> {
  const { s, connection } = a;
  if (ids.length === 0) return;
  const links = await linksByExternalIds(s.ctx.prisma, connection.id, ids);
  await deleteMirrorOpportunities(s.ctx.prisma, connection.workspaceId, connection.crm, ids);
  const now = s.ctx.clock();
  for (const [externalId, link] of links) {
    if (link.state === 'deleted') continue;
    const by = principalFor(connection, origins.get(externalId));
    await s.ctx.prisma.$transaction(async (tx) => {
      await tx.crmLink.update({ where: { connectionId_registrationId: { connectionId: connection.id, registrationId: link.registrationId } }, data: { state: 'deleted', lastError: 'deleted in the CRM' } });
      await appendLedgerEvent(tx, {
        workspaceId: connection.workspaceId,
        registrationId: link.registrationId,
        type: 'registration.crm_record_deleted',
        actor: actorFor(by, `crm:${connection.crm}`),
        data: { crm: connection.crm, externalId, note: 'dealreg will not recreate it; the registration itself is unchanged' },
        at: now,
      });
    });
  }
}

/** Merges: a linked record merged away follows the survivor, unless the survivor belongs to another registration. */
export async function applyMerges(a: ApplyContext, merges: { survivorId: string; mergedIds: string[]; origin?: ChangeOrigin }[]): Promise<void> {
  const { s, connection } = a;
  const now = s.ctx.clock();
  for (const m of merges) {
    const links = await linksByExternalIds(s.ctx.prisma, connection.id, [m.survivorId, ...m.mergedIds]);
    const survivorLink = links.get(m.survivorId);
    await deleteMirrorOpportunities(s.ctx.prisma, connection.workspaceId, connection.crm, m.mergedIds);
    for (const mergedId of m.mergedIds) {
      const link = links.get(mergedId);
      if (!link || link.state === 'deleted') continue;
      const takesOver = !survivorLink || survivorLink.state === 'deleted';
      await s.ctx.prisma.$transaction(async (tx) => {
        if (takesOver && survivorLink) await tx.crmLink.delete({ where: { connectionId_registrationId: { connectionId: connection.id, registrationId: survivorLink.registrationId } } });
        await tx.crmLink.update({
          where: { connectionId_registrationId: { connectionId: connection.id, registrationId: link.registrationId } },
          data: takesOver ? { externalId: m.survivorId } : { state: 'deleted', lastError: `merged into ${m.survivorId}, which belongs to registration ${survivorLink!.registrationId}` },
        });
        await appendLedgerEvent(tx, {
          workspaceId: connection.workspaceId,
          registrationId: link.registrationId,
          type: 'registration.crm_record_merged',
          actor: actorFor(principalFor(connection, m.origin), `crm:${connection.crm}`),
          data: { crm: connection.crm, from: mergedId, into: m.survivorId, followed: takesOver, ...(takesOver ? {} : { survivorRegistrationId: survivorLink!.registrationId }) },
          at: now,
        });
      });
    }
  }
}

/** Accounts (companies) into the mirror, with the owner role the mapping gives their owner. */
export async function applyAccounts(a: ApplyContext, accounts: CrmAccount[]): Promise<number> {
  const { s, connection, mapping } = a;
  if (accounts.length === 0) return 0;
  const merged = accounts.flatMap((x) => x.mergedIds);
  if (merged.length > 0) await deleteMirrorAccounts(s.ctx.prisma, connection.workspaceId, connection.crm, merged);
  return upsertMirrorAccounts(
    s.ctx.prisma,
    connection.workspaceId,
    connection.crm,
    accounts.map((x) => {
      const owner = x.ownerId ? a.owners.get(x.ownerId) : undefined;
      return {
        externalId: x.externalId,
        name: x.name,
        nameKey: companyNameKey(x.name),
        domains: x.domains,
        country: x.country,
        ownerExternalId: x.ownerId,
        ownerName: owner?.name ?? owner?.email ?? null,
        ownerRole: ownerRole(mapping, x.ownerId ? { id: x.ownerId, teamIds: owner?.teamIds ?? [] } : null),
        isCustomer: x.isCustomer,
        externalUpdatedAt: new Date(x.updatedAt),
      };
    }),
    s.ctx.clock(),
  );
}

export type DrainOutcome =
  | { outcome: 'done'; processed: number }
  | { outcome: 'wait'; processed: number; afterMs: number; reason: string }
  | { outcome: 'inactive'; processed: number; status: string };

const INBOX_BATCH = 100;
/** An inbox row that keeps failing is set aside (outcome failed) after this many claims; the reconcile sweep still covers its record. */
const INBOX_MAX_ATTEMPTS = 10;

/** Processes a connection's inbox: events grouped by record, each record read back once, applied once. */
export async function drainInbox(s: CrmServices, connectionId: string, opts: { maxBatches?: number; random?: () => number } = {}): Promise<DrainOutcome> {
  let processed = 0;
  let a: ApplyContext | null = null;
  for (let batchNo = 0; batchNo < (opts.maxBatches ?? 50); batchNo++) {
    const connection = await findConnection(s.ctx.prisma, connectionId);
    if (!connection || connection.status !== 'active') return { outcome: 'inactive', processed, status: connection?.status ?? 'missing' };
    const rows = await claimPendingInbox(s.ctx.prisma, connectionId, INBOX_BATCH);
    if (rows.length === 0) return { outcome: 'done', processed };
    try {
      a ??= await applyContext(s, connection, adapterFor(s, connection));
      await applyInboxBatch(a, rows);
      processed += rows.length;
    } catch (err) {
      const d = decideRetry(err, Math.max(...rows.map((r) => r.attempts)), opts.random);
      if (d.action === 'park') return { outcome: 'inactive', processed, status: 'parked' };
      const stuck = rows.filter((r) => r.attempts >= INBOX_MAX_ATTEMPTS).map((r) => r.id);
      if (stuck.length > 0) {
        await markInboxProcessed(s.ctx.prisma, stuck, 'failed', { at: s.ctx.clock() });
        s.ctx.log.error({ component: 'crm-inbound', connectionId, events: stuck.length, err: (err as Error).message }, 'inbox events set aside after repeated failures (the reconcile sweep covers their records)');
      }
      if (d.action === 'fail') {
        await markInboxProcessed(s.ctx.prisma, rows.map((r) => r.id), 'failed', { at: s.ctx.clock() });
        s.ctx.log.error({ component: 'crm-inbound', connectionId, err: (err as Error).message }, 'inbox batch failed');
        continue;
      }
      return { outcome: 'wait', processed, afterMs: d.waitMs, reason: d.reason };
    }
  }
  return { outcome: 'wait', processed, afterMs: 0, reason: 'batch budget used: continuing in a new job' };
}

async function applyInboxBatch(a: ApplyContext, rows: PendingInboxEvent[]): Promise<void> {
  const { s, connection, adapter, mapping } = a;
  const outcomes = new Map<bigint, InboxOutcome>();
  const oppIds = new Set<string>();
  const accountIds = new Set<string>();
  const deletedOpps = new Set<string>();
  const deletedAccounts = new Set<string>();
  const origins = new Map<string, ChangeOrigin>();
  const merges: { survivorId: string; mergedIds: string[]; origin?: ChangeOrigin }[] = [];
  // Later events about the same record win (arrival order; the read-back gives the current state anyway).
  for (const r of rows) {
    const e = r.event;
    if (e.origin.kind === 'self') {
      outcomes.set(r.id, 'echo');
      continue;
    }
    if (e.object === 'opportunity') {
      if (e.change === 'deleted') {
        deletedOpps.add(e.externalId);
        oppIds.delete(e.externalId);
      } else {
        if (e.change === 'merged' && e.merge) {
          merges.push({ ...e.merge, origin: e.origin });
          oppIds.add(e.merge.survivorId);
        } else oppIds.add(e.externalId);
        deletedOpps.delete(e.externalId);
      }
      origins.set(e.externalId, e.origin);
    } else {
      if (e.change === 'deleted') {
        deletedAccounts.add(e.externalId);
        accountIds.delete(e.externalId);
      } else {
        accountIds.add(e.merge?.survivorId ?? e.externalId);
        deletedAccounts.delete(e.externalId);
      }
    }
  }
  if (merges.length > 0) await applyMerges(a, merges);
  const ids = [...oppIds];
  const fields = mappedFields(mapping);
  const byRecord = new Map<string, Outcome>();
  for (let i = 0; i < ids.length; i += adapter.readBatchSize) {
    const chunk = ids.slice(i, i + adapter.readBatchSize);
    const found = await adapter.readOpportunities(chunk, fields);
    const applied = await applyOpportunities(a, [...found.values()], origins);
    for (const [k, v] of applied) byRecord.set(k, v);
    // Asked for but not there: deleted (or merged away) since the event.
    for (const id of chunk) if (!found.has(id)) deletedOpps.add(id);
  }
  await applyDeletedOpportunities(a, [...deletedOpps], origins);
  const accIds = [...accountIds];
  for (let i = 0; i < accIds.length; i += adapter.readBatchSize) {
    const chunk = accIds.slice(i, i + adapter.readBatchSize);
    const found = await adapter.readAccounts(chunk);
    await applyAccounts(a, [...found.values()]);
    for (const id of chunk) if (!found.has(id)) deletedAccounts.add(id);
  }
  await deleteMirrorAccounts(s.ctx.prisma, connection.workspaceId, connection.crm, [...deletedAccounts]);

  const now = s.ctx.clock();
  const groups = new Map<InboxOutcome, bigint[]>();
  for (const r of rows) {
    const o = outcomes.get(r.id) ?? (r.event.object === 'opportunity' ? (byRecord.get(r.event.externalId) ?? (deletedOpps.has(r.event.externalId) ? 'applied' : 'ignored')) : 'applied');
    groups.set(o, [...(groups.get(o) ?? []), r.id]);
  }
  for (const [o, ids2] of groups) await markInboxProcessed(s.ctx.prisma, ids2, o, { at: now });
}

