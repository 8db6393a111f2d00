// Outbound sync for one connection: take the links waiting to be pushed (a batch at a time), plan each
// registration's write (pure), write the batch in one CRM call, record what the CRM now holds.
// Registrations never wait on the CRM: this runs in a job, per connection, and simply stops when the
// connection's rate limit says so (the job is delayed, not retried).
import { findConnection, type ConnectionRecord } from '../../data/repositories/connections';
import { linksToPush, pushBacklog, recordPushFailures, recordPushSuccesses, type PushFailure, type PushSuccess } from '../../data/repositories/crm-links';
import { accountsForDomains, upsertMirrorAccounts, upsertMirrorOpportunities } from '../../data/repositories/mirror';
import { withPartner } from '../../data/repositories/registrations';
import { companyNameKey } from '../../domain/company-name';
import { createStage } from '../../domain/sync-mapping';
import { KNOWN_STAGE, planOutbound, type OutboundPlan } from '../../domain/sync-plan';
import { canonicalJson, sha256Hex } from '../../lib/crypto';
import { CrmError, type CrmAdapter, type OpportunityWrite } from '../../crm/crm-adapter';
import { adapterFor, cachedDescribe, connectorFor, type CrmServices } from '../../crm/crm-services';
import { decideRetry } from '../../crm/retry-decision';
import { mappingInForce } from './mappings';
import { registrationFacts } from './registration-facts';

export type PushOutcome =
  | { outcome: 'done'; pushed: number }
  /** Come back later: rate limited, backing off, or more links become due at `afterMs`. */
  | { outcome: 'wait'; pushed: number; afterMs: number; reason: string }
  /** The connection is not active (parked, disconnected): nothing to do until someone reconnects. */
  | { outcome: 'inactive'; pushed: number; status: string };

export interface PushOptions {
  /** Stop after this many batches (the job re-enqueues itself), so one job does not run forever. */
  maxBatches?: number;
  random?: () => number;
}

export async function pushPending(s: CrmServices, connectionId: string, opts: PushOptions = {}): Promise<PushOutcome> {
  const random = opts.random ?? Math.random;
  const maxBatches = opts.maxBatches ?? 100;
  let pushed = 0;
  let adapter: CrmAdapter | null = null;
  for (let batchNo = 0; batchNo < maxBatches; batchNo++) {
    const connection = await findConnection(s.ctx.prisma, connectionId);
    if (!connection || connection.status !== 'active') return { outcome: 'inactive', pushed, status: connection?.status ?? 'missing' };
    adapter ??= adapterFor(s, connection);
    const now = s.ctx.clock();
    const links = await linksToPush(s.ctx.prisma, connectionId, adapter.writeBatchSize, now);
    if (links.length === 0) {
      const backlog = await pushBacklog(s.ctx.prisma, connectionId);
      if (backlog.waiting > 0 && backlog.nextNotBefore) {
        return { outcome: 'wait', pushed, afterMs: Math.max(50, backlog.nextNotBefore.getTime() - now.getTime()), reason: 'backing off failed writes' };
      }
      return { outcome: 'done', pushed };
    }
    try {
      pushed += await pushBatch(s, connection, adapter, links, random);
    } catch (err) {
      const d = decideRetry(err, 1, random);
      const log = s.ctx.log.child({ component: 'crm-push', crm: connection.crm, connectionId });
      if (d.action === 'pause') {
        if (err instanceof CrmError && err.crmCode !== 'LOCAL_LIMIT' && err.crmCode !== 'PAUSED') s.ctx.metrics.crmRateLimited.inc({ crm: connection.crm });
        return { outcome: 'wait', pushed, afterMs: d.waitMs, reason: d.reason };
      }
      if (d.action === 'park') return { outcome: 'inactive', pushed, status: 'parked' };
      // A whole-call failure (5xx, timeout, invalid input for the whole call): back off every link in the batch.
      const failures: PushFailure[] = links.map((l) => {
        const dd = decideRetry(err, l.attempts + 1, random);
        return { registrationId: l.registrationId, error: dd.reason, retryAt: dd.action === 'retry' ? new Date(now.getTime() + dd.waitMs) : null };
      });
      await recordPushFailures(s.ctx.prisma, connectionId, failures);
      s.ctx.metrics.crmRecordsPushed.inc({ crm: connection.crm, result: 'failed' }, failures.length);
      log.warn({ err: err instanceof Error ? err.message : String(err), links: links.length, action: d.action }, 'CRM write failed for a whole batch');
    }
  }
  return { outcome: 'wait', pushed, afterMs: 0, reason: 'batch budget used: continuing in a new job' };
}

async function pushBatch(s: CrmServices, connection: ConnectionRecord, adapter: CrmAdapter, links: Awaited<ReturnType<typeof linksToPush>>, random: () => number): Promise<number> {
  const { prisma } = s.ctx;
  const crm = connection.crm;
  const connector = connectorFor(s, crm);
  const now = s.ctx.clock();
  const { mapping } = await mappingInForce(s, prisma, connection.workspaceId, crm);
  const describe = await cachedDescribe(s, connection, adapter);
  const regs = await prisma.registration.findMany({ where: { id: { in: links.map((l) => l.registrationId) }, workspaceId: connection.workspaceId }, include: withPartner });
  const byId = new Map(regs.map((r) => [r.id, r]));
  const createStageId = createStage(mapping, describe);

  const planned: { link: (typeof links)[number]; plan: OutboundPlan; version: number; domain: string; name: string; amount: number | null }[] = [];
  const nothingToDo: PushSuccess[] = [];
  const gone: PushFailure[] = [];
  for (const link of links) {
    const reg = byId.get(link.registrationId);
    if (!reg) {
      gone.push({ registrationId: link.registrationId, error: 'registration no longer exists', retryAt: null });
      continue;
    }
    const plan = planOutbound({ facts: registrationFacts(reg, s.settings.publicBaseUrl), mapping, link: { externalId: link.externalId, known: link.known }, createStageId });
    if (plan.kind === 'none') {
      nothingToDo.push({ registrationId: reg.id, externalId: link.externalId!, version: reg.version, known: plan.knownAfter, hash: hashKnown(plan.knownAfter) });
      continue;
    }
    planned.push({ link, plan, version: reg.version, domain: reg.companyDomain, name: `${reg.companyName} (${reg.partner.name})`, amount: reg.amountValue === null ? null : Number(reg.amountValue) });
  }

  // Accounts: matched by domain in the mirror (no CRM call); created when the mapping says so.
  const creates = planned.filter((p) => p.plan.kind === 'create');
  let accounts = new Map<string, string>();
  if (creates.length > 0 && mapping.accounts.associate) {
    accounts = await accountsForDomains(prisma, connection.workspaceId, crm, [...new Set(creates.map((c) => c.domain))]);
    const missing = [...new Map(creates.filter((c) => !accounts.has(c.domain)).map((c) => [c.domain, c.name])).entries()];
    if (mapping.accounts.createIfMissing && missing.length > 0) {
      const made = await adapter.createAccounts(missing.map(([domain, name]) => ({ key: domain, name, domain })));
      const ok = made.filter((m): m is Extract<typeof m, { ok: true }> => m.ok);
      for (const m of ok) accounts.set(m.key, m.externalId);
      await upsertMirrorAccounts(
        prisma,
        connection.workspaceId,
        crm,
        ok.map((m) => {
          const name = missing.find(([d]) => d === m.key)![1];
          return { externalId: m.externalId, name, nameKey: companyNameKey(name), domains: [m.key], country: null, ownerExternalId: null, ownerName: null, ownerRole: mapping.owners.unassignedRole, isCustomer: false, externalUpdatedAt: now };
        }),
        now,
      );
    }
  }

  const writes: OpportunityWrite[] = planned.map((p) => ({
    registrationId: p.link.registrationId,
    externalId: p.link.externalId,
    fields: p.plan.kind === 'create' ? { ...p.plan.fields, [connector.registrationIdField]: p.link.registrationId } : p.plan.fields,
    pipelineId: p.plan.pipelineId,
    stageId: p.plan.stageId,
    accountExternalId: p.plan.kind === 'create' ? (accounts.get(p.domain) ?? null) : null,
  }));
  const results = writes.length > 0 ? await adapter.writeOpportunities(writes) : [];
  s.ctx.metrics.crmCalls.inc({ crm, op: 'write', result: 'ok' });

  const byReg = new Map(planned.map((p) => [p.link.registrationId, p]));
  const ok: PushSuccess[] = [...nothingToDo];
  const failed: PushFailure[] = [...gone];
  const mirrorRows = [];
  for (const r of results) {
    const p = byReg.get(r.registrationId);
    if (!p) continue;
    if (r.ok) {
      ok.push({ registrationId: r.registrationId, externalId: r.externalId, version: p.version, known: p.plan.knownAfter, hash: hashKnown(p.plan.knownAfter) });
      if (p.plan.kind !== 'create') continue;
      mirrorRows.push({
        externalId: r.externalId,
        accountExternalId: accounts.get(p.domain) ?? null,
        name: p.name,
        stage: (p.plan.knownAfter[KNOWN_STAGE] as string | undefined) ?? null,
        isClosed: false,
        isWon: false,
        amount: p.amount,
        ownerExternalId: null,
        ownerName: null,
        registrationId: r.registrationId,
        externalUpdatedAt: null,
      });
    } else {
      const d = decideRetry(r.error, p.link.attempts + 1, random);
      failed.push({
        registrationId: r.registrationId,
        error: `${r.error.code}: ${r.error.message}`,
        retryAt: d.action === 'retry' || d.action === 'pause' ? new Date(now.getTime() + d.waitMs) : null,
        deleted: r.error.code === 'NOT_FOUND' && p.link.externalId !== null,
      });
    }
  }
  await recordPushSuccesses(prisma, connection.id, ok, now);
  await recordPushFailures(prisma, connection.id, failed);
  // Our own writes come back as echoes (dropped), so the mirror learns about our records from us.
  // Only new records: an update must not overwrite a stage or owner the CRM changed since.
  await upsertMirrorOpportunities(prisma, connection.workspaceId, crm, mirrorRows, now);
  const created = results.filter((r) => r.ok && r.created).length;
  s.ctx.metrics.crmRecordsPushed.inc({ crm, result: 'created' }, created);
  s.ctx.metrics.crmRecordsPushed.inc({ crm, result: 'updated' }, results.filter((r) => r.ok && !r.created).length);
  s.ctx.metrics.crmRecordsPushed.inc({ crm, result: 'skipped' }, nothingToDo.length);
  if (failed.length > 0) {
    s.ctx.metrics.crmRecordsPushed.inc({ crm, result: 'failed' }, failed.length);
    s.ctx.log.warn({ component: 'crm-push', crm, connectionId: connection.id, failed: failed.length, first: failed[0]?.error }, 'some CRM writes failed');
  }
  return ok.length;
}

export function hashKnown(known: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(known));
}
