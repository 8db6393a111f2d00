// The local account mirror (DESIGN.md "Account mirror"): CRM accounts with their registrable domains,
// owners and owner roles, and open opportunities, written in batches (one statement per table per
// batch) by backfills, webhooks / change events and reconcile sweeps. The evidence query reads it.
import { sqlPool, type PrismaClient } from '../prisma';
import type { CrmName } from '../../domain/types';

export interface MirrorAccountWrite {
  externalId: string;
  name: string;
  nameKey: string;
  domains: string[];
  country: string | null;
  ownerExternalId: string | null;
  ownerName: string | null;
  ownerRole: 'direct' | 'partner' | 'unknown';
  isCustomer: boolean;
  externalUpdatedAt: Date | null;
}

export interface MirrorOpportunityWrite {
  externalId: string;
  accountExternalId: string | null;
  name: string;
  stage: string | null;
  isClosed: boolean;
  isWon: boolean;
  amount: number | null;
  ownerExternalId: string | null;
  ownerName: string | null;
  registrationId: string | null;
  externalUpdatedAt: Date | null;
}

/**
 * Upserts accounts and replaces their domains. A row is only overwritten by data at least as new as what
 * it holds (webhooks arrive out of order; a stale read must not undo a newer one).
 */
export async function upsertMirrorAccounts(prisma: PrismaClient, workspaceId: string, crm: CrmName, accounts: MirrorAccountWrite[], now: Date): Promise<number> {
  if (accounts.length === 0) return 0;
  const client = await sqlPool(prisma).connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ id: string; external_id: string }>(
      `INSERT INTO mirror_accounts (id, workspace_id, crm, external_id, name, name_key, country, owner_external_id, owner_name, owner_role, is_customer, external_updated_at, synced_at)
       SELECT gen_random_uuid(), $1::uuid, $2, x.external_id, x.name, x.name_key, x.country, x.owner_external_id, x.owner_name, x.owner_role, x.is_customer, x.updated_at, $3
       FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bool[], $12::timestamptz[])
         AS x(external_id, name, name_key, country, owner_external_id, owner_name, owner_role, is_customer, updated_at)
       ON CONFLICT (workspace_id, crm, external_id) DO UPDATE SET
         name = EXCLUDED.name, name_key = EXCLUDED.name_key, country = EXCLUDED.country,
         owner_external_id = EXCLUDED.owner_external_id, owner_name = EXCLUDED.owner_name, owner_role = EXCLUDED.owner_role,
         is_customer = EXCLUDED.is_customer, external_updated_at = EXCLUDED.external_updated_at, synced_at = EXCLUDED.synced_at
       WHERE mirror_accounts.external_updated_at IS NULL OR EXCLUDED.external_updated_at IS NULL
          OR EXCLUDED.external_updated_at >= mirror_accounts.external_updated_at
       RETURNING id, external_id`,
      [
        workspaceId,
        crm,
        now,
        accounts.map((a) => a.externalId),
        accounts.map((a) => a.name),
        accounts.map((a) => a.nameKey),
        accounts.map((a) => a.country),
        accounts.map((a) => a.ownerExternalId),
        accounts.map((a) => a.ownerName),
        accounts.map((a) => a.ownerRole),
        accounts.map((a) => a.isCustomer),
        accounts.map((a) => a.externalUpdatedAt),
      ],
    );
    if (rows.length > 0) {
      const byExternal = new Map(accounts.map((a) => [a.externalId, a]));
      const ids = rows.map((r) => r.id);
      await client.query('DELETE FROM mirror_account_domains WHERE account_id = ANY($1::uuid[])', [ids]);
      const pairs = rows.flatMap((r) => [...new Set(byExternal.get(r.external_id)!.domains)].map((d) => [r.id, d] as const));
      if (pairs.length > 0) {
        await client.query(
          `INSERT INTO mirror_account_domains (workspace_id, domain, account_id)
           SELECT $1::uuid, x.domain, x.account_id FROM unnest($2::text[], $3::uuid[]) AS x(domain, account_id) ON CONFLICT DO NOTHING`,
          [workspaceId, pairs.map((p) => p[1]), pairs.map((p) => p[0])],
        );
      }
    }
    await client.query('COMMIT');
    return rows.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export async function deleteMirrorAccounts(prisma: PrismaClient, workspaceId: string, crm: CrmName, externalIds: string[]): Promise<number> {
  if (externalIds.length === 0) return 0;
  const r = await prisma.mirrorAccount.deleteMany({ where: { workspaceId, crm, externalId: { in: externalIds } } });
  return r.count;
}

export async function upsertMirrorOpportunities(prisma: PrismaClient, workspaceId: string, crm: CrmName, opps: MirrorOpportunityWrite[], now: Date): Promise<number> {
  if (opps.length === 0) return 0;
  const { rowCount } = await sqlPool(prisma).query(
    `INSERT INTO mirror_opportunities (id, workspace_id, crm, external_id, account_external_id, name, stage, is_closed, is_won, amount, owner_external_id, owner_name, registration_id, external_updated_at, synced_at)
     SELECT gen_random_uuid(), $1::uuid, $2, x.external_id, x.account_external_id, x.name, x.stage, x.is_closed, x.is_won, x.amount, x.owner_external_id, x.owner_name, x.registration_id, x.updated_at, $3
     FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::bool[], $10::numeric[], $11::text[], $12::text[], $13::uuid[], $14::timestamptz[])
       AS x(external_id, account_external_id, name, stage, is_closed, is_won, amount, owner_external_id, owner_name, registration_id, updated_at)
     ON CONFLICT (workspace_id, crm, external_id) DO UPDATE SET
       account_external_id = EXCLUDED.account_external_id, name = EXCLUDED.name, stage = EXCLUDED.stage,
       is_closed = EXCLUDED.is_closed, is_won = EXCLUDED.is_won, amount = EXCLUDED.amount,
       owner_external_id = EXCLUDED.owner_external_id, owner_name = EXCLUDED.owner_name,
       registration_id = COALESCE(EXCLUDED.registration_id, mirror_opportunities.registration_id),
       external_updated_at = EXCLUDED.external_updated_at, synced_at = EXCLUDED.synced_at
     WHERE mirror_opportunities.external_updated_at IS NULL OR EXCLUDED.external_updated_at IS NULL
        OR EXCLUDED.external_updated_at >= mirror_opportunities.external_updated_at`,
    [
      workspaceId,
      crm,
      now,
      opps.map((o) => o.externalId),
      opps.map((o) => o.accountExternalId),
      opps.map((o) => o.name),
      opps.map((o) => o.stage),
      opps.map((o) => o.isClosed),
      opps.map((o) => o.isWon),
      opps.map((o) => o.amount),
      opps.map((o) => o.ownerExternalId),
      opps.map((o) => o.ownerName),
      opps.map((o) => o.registrationId),
      opps.map((o) => o.externalUpdatedAt),
    ],
  );
  return rowCount ?? 0;
}

export async function deleteMirrorOpportunities(prisma: PrismaClient, workspaceId: string, crm: CrmName, externalIds: string[]): Promise<number> {
  if (externalIds.length === 0) return 0;
  const r = await prisma.mirrorOpportunity.deleteMany({ where: { workspaceId, crm, externalId: { in: externalIds } } });
  return r.count;
}

/** The mirrored account matching a registrable domain, for associating a new opportunity. */
export async function accountsForDomains(prisma: PrismaClient, workspaceId: string, crm: CrmName, domains: string[]): Promise<Map<string, string>> {
  if (domains.length === 0) return new Map();
  const { rows } = await sqlPool(prisma).query<{ domain: string; external_id: string }>(
    `SELECT DISTINCT ON (d.domain) d.domain, a.external_id
     FROM mirror_account_domains d JOIN mirror_accounts a ON a.id = d.account_id
     WHERE d.workspace_id = $1::uuid AND d.domain = ANY($2::text[]) AND a.crm = $3
     ORDER BY d.domain, a.external_updated_at DESC NULLS LAST`,
    [workspaceId, domains, crm],
  );
  return new Map(rows.map((r) => [r.domain, r.external_id]));
}

export async function markMirrorSynced(prisma: PrismaClient, workspaceId: string, crm: CrmName, at: Date, cursor?: string | null): Promise<void> {
  const count = await prisma.mirrorAccount.count({ where: { workspaceId, crm } });
  await prisma.mirrorState.upsert({
    where: { workspaceId_crm: { workspaceId, crm } },
    create: { workspaceId, crm, syncedAt: at, cursor: cursor ?? null, accountsCount: count },
    update: { syncedAt: at, accountsCount: count, ...(cursor !== undefined ? { cursor } : {}) },
  });
}

export async function mirrorCursor(prisma: PrismaClient, workspaceId: string, crm: CrmName): Promise<{ syncedAt: Date | null; cursor: string | null } | null> {
  return prisma.mirrorState.findUnique({ where: { workspaceId_crm: { workspaceId, crm } }, select: { syncedAt: true, cursor: true } });
}
