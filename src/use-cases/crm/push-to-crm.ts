// Outbound sync for one connection: take the links waiting to be pushed (a batch at a time), plan each
// registration's write (pure), write the batch in one CRM call, record what the CRM now holds.
// Registrations never wait on the CRM: this runs in a job, per connection, and simply stops when the
// connection's rate limit says so (the job is delayed, not retried).
import { findConnection, mergeConnectionSettings, type ConnectionRecord } from '../../data/repositories/connections';
import { claimLinksToPush, pushBacklog, recordPushFailures, recordPushSuccesses, releaseLinks, type LinkRow, type PushFailure, type PushSuccess } from '../../data/repositories/crm-links';
import { accountsForDomains, upsertMirrorAccounts, upsertMirrorOpportunities } from '../../data/repositories/mirror';
import { withPartner } from '../../data/repositories/registrations';
import { companyNameKey } from '../../domain/company-name';
import { createStage } from '../../domain/sync-mapping';
import { KNOWN_STAGE, planOutbound, type OutboundPlan } from '../../domain/sync-plan';
import { canonicalJson, sha256Hex } from '../../lib/crypto';
import { CrmError, type CrmAdapter, type OpportunityWrite } from '../../crm/crm-adapter';
import { adapterFor, cachedDescribe, connectorFor, forgetCaches, type CrmServices } from '../../crm/crm-services';
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

/** Batches of one connection in flight at once: the database work of one overlaps the CRM call of another. */
export const PUSH_PIPELINE = 3;
/** How long a claimed batch stays reserved for its pusher (a crashed pusher's links come back after it). */
const LEASE_MS = 60_000;

export async function pushPending(s: CrmServices, connectionId: string, opts: PushOptions = {}): Promise<PushOutcome> {
  const random = opts.random ?? Math.random;
  const maxBatches = opts.maxBatches ?? 100;
  let pushed = 0;
  let batches = 0;
  let stop: PushOutcome | null = null;
  const connection0 = await findConnection(s.ctx.prisma, connectionId);
  if (!connection0 || connection0.status !== 'active') return { outcome: 'inactive', pushed, status: connection0?.status ?? 'missing' };
  const adapter = adapterFor(s, connection0);
  const log = s.ctx.log.child({ component: 'crm-push', crm: connection0.crm, connectionId });
  const held = await missingFieldsHold(s, connection0, adapter);
  if (held) return { outcome: 'wait', pushed, afterMs: FIELDS_RECHECK_MS, reason: held };

  const worker = async (): Promise<void> => {
    while (!stop && batches < maxBatches) {
      batches++;
      const connection = await findConnection(s.ctx.prisma, connectionId);
      if (!connection || connection.status !== 'active') {
        stop ??= { outcome: 'inactive', pushed, status: connection?.status ?? 'missing' };
        return;
      }
      const now = s.ctx.clock();
      const links = await claimLinksToPush(s.ctx.prisma, connectionId, adapter.writeBatchSize, now, LEASE_MS);
      if (links.length === 0) return;
      try {
        pushed += await pushBatch(s, connection, adapter, links, random);
      } catch (err) {
        const d = decideRetry(err, 1, random);
        if (d.action === 'pause' || d.action === 'park') {
          // Give the batch back: it goes again when the pause is over (or after a reconnect).
          await releaseLinks(s.ctx.prisma, connectionId, links.map((l) => l.registrationId), d.action === 'pause' ? new Date(now.getTime() + d.waitMs) : null);
          if (d.action === 'park') {
            stop ??= { outcome: 'inactive', pushed, status: 'parked' };
            return;
          }
          if (err instanceof CrmError && err.crmCode !== 'LOCAL_LIMIT' && err.crmCode !== 'PAUSED') s.ctx.metrics.crmRateLimited.inc({ crm: connection.crm });
          stop ??= { outcome: 'wait', pushed, afterMs: d.waitMs, reason: d.reason };
          return;
        }
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
  };
  await Promise.all(Array.from({ length: PUSH_PIPELINE }, worker));
  if (stop) return { ...(stop as PushOutcome), pushed };
  if (batches >= maxBatches) return { outcome: 'wait', pushed, afterMs: 0, reason: 'batch budget used: continuing in a new job' };
  const backlog = await pushBacklog(s.ctx.prisma, connectionId);
  const now = s.ctx.clock();
  if (backlog.waiting > 0 && backlog.nextNotBefore) {
    return { outcome: 'wait', pushed, afterMs: Math.max(50, backlog.nextNotBefore.getTime() - now.getTime()), reason: 'backing off failed writes' };
  }
  return { outcome: 'done', pushed };
}

/** How often a connection whose CRM lacks fields dealreg writes checks again (Salesforce: until the metadata is deployed). */
export const FIELDS_RECHECK_MS = 60_000;

/**
 * Salesforce fields are deployed by an admin, not created by dealreg: until the fields the mapping in
 * force writes (and the external-id field) exist, pushes wait instead of failing every record. The
 * schema is checked again at most once a minute; the answer is kept on the connection (`missingFields`).
 */
async function missingFieldsHold(s: CrmServices, connection: ConnectionRecord, adapter: CrmAdapter): Promise<string | null> {
  const known = (connection.settings.schema as { missing?: string[] } | undefined)?.missing ?? [];
  if (known.length === 0) return null;
  let missing = known;
  const due = await s.redis.set(`${s.prefix}:crm-fields-check:${connection.id}`, '1', 'PX', FIELDS_RECHECK_MS, 'NX');
  if (due === 'OK') {
    try {
      missing = (await adapter.ensureSchema()).missing;
    } catch (err) {
      s.ctx.log.warn({ component: 'crm-push', crm: connection.crm, connectionId: connection.id, err: (err as Error).message }, 'could not re-check the CRM fields');
    }
    if (missing.length !== known.length) {
      await mergeConnectionSettings(s.ctx.prisma, connection.id, { schema: { missing, checkedAt: s.ctx.clock().toISOString() } });
      await forgetCaches(s, connection.id);
    }
  }
  if (missing.length === 0) return null;
  const { mapping } = await mappingInForce(s, s.ctx.prisma, connection.workspaceId, connection.crm);
  const needed = new Set([connectorFor(s, connection.crm).registrationIdField, ...mapping.fields.filter((f) => f.direction !== 'from_crm').map((f) => f.crmField)]);
  const blocking = missing.filter((f) => needed.has(f));
  if (blocking.length === 0) return null;
  s.ctx.log.warn({ component: 'crm-push', crm: connection.crm, connectionId: connection.id, missing: blocking }, 'pushes wait: the CRM lacks fields dealreg writes');
  return `the ${connection.crm} account lacks fields dealreg writes: ${blocking.join(', ')}`;
}

async function pushBatch(s: CrmServices, connection: ConnectionRecord, adapter: CrmAdapter, links: LinkRow[], random: () => number): Promise<number> {
  const { prisma } = s.ctx;
  const crm = connection.crm;
  const connector = connectorFor(s, crm);
  const now = s.ctx.clock();
  const t0 = performance.now();
  const { mapping } = await mappingInForce(s, prisma, connection.workspaceId, crm);
  const describe = await cachedDescribe(s, connection, adapter);
  const regs = await prisma.registration.findMany({
    where: { id: { in: links.map((l) => l.registrationId) }, workspaceId: connection.workspaceId },
    include: { partner: { select: { ...withPartner.partner.select, crmRefs: true } } },
  });
  const byId = new Map(regs.map((r) => [r.id, r]));
  const createStageId = createStage(mapping, describe);

  const planned: { link: LinkRow; plan: OutboundPlan; version: number; domain: string; name: string; amount: number | null; partner: OpportunityWrite['partner'] }[] = [];
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
    const partnerAccount = ((reg.partner.crmRefs ?? {}) as Record<string, string | undefined>)[connector.partnerRefKey];
    planned.push({
      link,
      plan,
      version: reg.version,
      domain: reg.companyDomain,
      name: `${reg.companyName} (${reg.partner.name})`,
      amount: reg.amountValue === null ? null : Number(reg.amountValue),
      partner: partnerAccount ? { accountExternalId: partnerAccount, name: reg.partner.name, type: reg.partner.type } : null,
    });
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
    partner: p.plan.kind === 'create' ? p.partner : null,
  }));
  const t1 = performance.now();
  const results = writes.length > 0 ? await adapter.writeOpportunities(writes) : [];
  const t2 = performance.now();
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
  const t3 = performance.now();
  await recordPushFailures(prisma, connection.id, failed);
  // Our own writes come back as echoes (dropped), so the mirror learns about our records from us.
  // Only new records: an update must not overwrite a stage or owner the CRM changed since.
  const t4 = performance.now();
  await upsertMirrorOpportunities(prisma, connection.workspaceId, crm, mirrorRows, now);
  const created = results.filter((r) => r.ok && r.created).length;
  s.ctx.log.debug({ component: 'crm-push', crm, connectionId: connection.id, links: links.length, writes: writes.length, prepareMs: Math.round(t1 - t0), callMs: Math.round(t2 - t1), recordMs: Math.round(performance.now() - t2), successMs: Math.round(t3 - t2), failMs: Math.round(t4 - t3), mirrorMs: Math.round(performance.now() - t4) }, 'pushed a batch');
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
