// Links between registrations and their CRM records (one per connection). `wanted_version` is the
// registration version the CRM should reflect, `pushed_version` the one it does: a link with
// pushed < wanted is waiting to be pushed. `pushed_values` is what the CRM holds as far as we know
// (the echo check), `pushed_hash` its hash.
import { sqlPool, type Db, type PrismaClient } from '../prisma';
import type { CrmName } from '../../domain/types';
import type { KnownValues } from '../../domain/sync-plan';

export interface LinkRow {
  connectionId: string;
  registrationId: string;
  workspaceId: string;
  crm: CrmName;
  externalId: string | null;
  state: 'pending' | 'synced' | 'deleted' | 'failed';
  wantedVersion: number;
  pushedVersion: number;
  pushedHash: string | null;
  known: KnownValues;
  attempts: number;
  lastError: string | null;
  lastPushedAt: Date | null;
  updatedAt: Date;
}

const columns = (t: string) => `${t}.connection_id AS "connectionId", ${t}.registration_id AS "registrationId", ${t}.workspace_id AS "workspaceId", ${t}.crm,
  ${t}.external_id AS "externalId", ${t}.state, ${t}.wanted_version AS "wantedVersion", ${t}.pushed_version AS "pushedVersion",
  ${t}.pushed_hash AS "pushedHash", COALESCE(${t}.pushed_values, '{}'::jsonb) AS "known", ${t}.attempts, ${t}.last_error AS "lastError",
  ${t}.last_pushed_at AS "lastPushedAt", ${t}.updated_at AS "updatedAt"`;
const COLUMNS = columns('crm_links');

/**
 * Registration versions to reflect in the CRM. Creates links that do not exist yet; never lowers a wanted
 * version; revives failed links (a new change deserves a new try); leaves deleted ones alone.
 */
export async function markForSync(prisma: PrismaClient, rows: { connectionId: string; registrationId: string; workspaceId: string; crm: CrmName; version: number }[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await sqlPool(prisma).query(
    `INSERT INTO crm_links (connection_id, registration_id, workspace_id, crm, wanted_version, updated_at)
     SELECT x.connection_id, x.registration_id, x.workspace_id, x.crm, x.version, now()
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int[]) AS x(connection_id, registration_id, workspace_id, crm, version)
     ON CONFLICT (connection_id, registration_id) DO UPDATE SET
       wanted_version = GREATEST(crm_links.wanted_version, EXCLUDED.wanted_version),
       state = CASE WHEN crm_links.state = 'failed' THEN 'pending' ELSE crm_links.state END,
       attempts = CASE WHEN crm_links.state = 'failed' THEN 0 ELSE crm_links.attempts END,
       not_before = CASE WHEN crm_links.state = 'failed' THEN NULL ELSE crm_links.not_before END,
       updated_at = now()
     WHERE crm_links.state <> 'deleted' AND EXCLUDED.wanted_version > crm_links.wanted_version`,
    [rows.map((r) => r.connectionId), rows.map((r) => r.registrationId), rows.map((r) => r.workspaceId), rows.map((r) => r.crm), rows.map((r) => r.version)],
  );
  return rowCount ?? 0;
}

/** Asks for a push without a registration change (e.g. a dealreg-owned field was edited in the CRM). */
export async function requestRepush(prisma: PrismaClient, connectionId: string, registrationIds: string[]): Promise<void> {
  if (registrationIds.length === 0) return;
  await sqlPool(prisma).query(
    `UPDATE crm_links SET wanted_version = GREATEST(wanted_version, pushed_version + 1), updated_at = now()
     WHERE connection_id = $1::uuid AND registration_id = ANY($2::uuid[]) AND state <> 'deleted'`,
    [connectionId, registrationIds],
  );
}

/**
 * Claims up to `limit` links to push with a lease (not_before = now + leaseMs), so that concurrent pushers
 * (several batches in flight, several workers) never take the same link. Recording a result ends the lease;
 * a pusher that dies leaves links that become claimable again when the lease runs out.
 */
export async function claimLinksToPush(prisma: PrismaClient, connectionId: string, limit: number, now: Date, leaseMs: number): Promise<LinkRow[]> {
  const { rows } = await sqlPool(prisma).query<LinkRow>(
    `UPDATE crm_links l SET not_before = $4
     FROM (
       SELECT connection_id, registration_id FROM crm_links
       WHERE connection_id = $1::uuid AND pushed_version < wanted_version AND state <> 'deleted' AND (not_before IS NULL OR not_before <= $3)
       ORDER BY updated_at LIMIT $2
       FOR UPDATE SKIP LOCKED
     ) c
     WHERE l.connection_id = c.connection_id AND l.registration_id = c.registration_id
     RETURNING ${columns('l')}`,
    [connectionId, limit, now, new Date(now.getTime() + leaseMs)],
  );
  return rows;
}

/** Ends the lease of claimed links without a result (the batch will be retried after `at`). */
export async function releaseLinks(prisma: PrismaClient, connectionId: string, registrationIds: string[], at: Date | null): Promise<void> {
  if (registrationIds.length === 0) return;
  await sqlPool(prisma).query(`UPDATE crm_links SET not_before = $3 WHERE connection_id = $1::uuid AND registration_id = ANY($2::uuid[])`, [connectionId, registrationIds, at]);
}

/** How many links wait, and when the earliest backed-off one may go (for rescheduling). */
export async function pushBacklog(prisma: PrismaClient, connectionId: string): Promise<{ waiting: number; nextNotBefore: Date | null }> {
  const { rows } = await sqlPool(prisma).query<{ waiting: string; next: Date | null }>(
    `SELECT count(*) AS waiting, min(not_before) AS next FROM crm_links
     WHERE connection_id = $1::uuid AND pushed_version < wanted_version AND state <> 'deleted'`,
    [connectionId],
  );
  return { waiting: Number(rows[0]?.waiting ?? 0), nextNotBefore: rows[0]?.next ?? null };
}

export async function connectionsWithBacklog(prisma: PrismaClient, now: Date): Promise<string[]> {
  const { rows } = await sqlPool(prisma).query<{ id: string }>(
    `SELECT DISTINCT l.connection_id AS id FROM crm_links l JOIN crm_connections c ON c.id = l.connection_id AND c.status = 'active'
     WHERE l.pushed_version < l.wanted_version AND l.state <> 'deleted' AND (l.not_before IS NULL OR l.not_before <= $1)`,
    [now],
  );
  return rows.map((r) => r.id);
}

export interface PushSuccess {
  registrationId: string;
  externalId: string;
  version: number;
  known: KnownValues;
  hash: string;
}

export async function recordPushSuccesses(prisma: PrismaClient, connectionId: string, ok: PushSuccess[], now: Date): Promise<void> {
  if (ok.length === 0) return;
  await sqlPool(prisma).query(
    `UPDATE crm_links l SET external_id = x.external_id, state = 'synced', pushed_version = GREATEST(l.pushed_version, x.version),
       pushed_values = x.known, pushed_hash = x.hash, attempts = 0, not_before = NULL, last_error = NULL, last_pushed_at = $2
     FROM unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::text[]) AS x(registration_id, external_id, version, known, hash)
     WHERE l.connection_id = $1::uuid AND l.registration_id = x.registration_id`,
    [connectionId, now, ok.map((o) => o.registrationId), ok.map((o) => o.externalId), ok.map((o) => o.version), ok.map((o) => JSON.stringify(o.known)), ok.map((o) => o.hash)],
  );
}

export interface PushFailure {
  registrationId: string;
  error: string;
  /** null: give up on this version (state failed) until the registration changes again. */
  retryAt: Date | null;
  /** The CRM record is gone (deleted in the CRM): stop syncing this link. */
  deleted?: boolean;
}

export async function recordPushFailures(prisma: PrismaClient, connectionId: string, failed: PushFailure[]): Promise<void> {
  if (failed.length === 0) return;
  await sqlPool(prisma).query(
    `UPDATE crm_links l SET attempts = l.attempts + 1, last_error = x.error, not_before = x.retry_at,
       state = CASE WHEN x.deleted THEN 'deleted' WHEN x.retry_at IS NULL THEN 'failed' ELSE l.state END,
       pushed_version = CASE WHEN x.retry_at IS NULL OR x.deleted THEN l.wanted_version ELSE l.pushed_version END
     FROM unnest($2::uuid[], $3::text[], $4::timestamptz[], $5::bool[]) AS x(registration_id, error, retry_at, deleted)
     WHERE l.connection_id = $1::uuid AND l.registration_id = x.registration_id`,
    [connectionId, failed.map((f) => f.registrationId), failed.map((f) => f.error.slice(0, 1000)), failed.map((f) => f.retryAt), failed.map((f) => f.deleted ?? false)],
  );
}

export async function linksByExternalIds(prisma: PrismaClient, connectionId: string, externalIds: string[]): Promise<Map<string, LinkRow>> {
  if (externalIds.length === 0) return new Map();
  const { rows } = await sqlPool(prisma).query<LinkRow>(`SELECT ${COLUMNS} FROM crm_links WHERE connection_id = $1::uuid AND external_id = ANY($2::text[])`, [connectionId, externalIds]);
  return new Map(rows.map((r) => [r.externalId!, r]));
}

export async function linksByRegistrationIds(prisma: PrismaClient, connectionId: string, registrationIds: string[]): Promise<Map<string, LinkRow>> {
  if (registrationIds.length === 0) return new Map();
  const { rows } = await sqlPool(prisma).query<LinkRow>(`SELECT ${COLUMNS} FROM crm_links WHERE connection_id = $1::uuid AND registration_id = ANY($2::uuid[])`, [connectionId, registrationIds]);
  return new Map(rows.map((r) => [r.registrationId, r]));
}

/** After an inbound change: what the CRM holds now, and when we heard. */
export async function updateKnown(db: Db, connectionId: string, registrationId: string, known: KnownValues, hash: string, now: Date, patch: { externalId?: string; state?: LinkRow['state']; lastError?: string | null } = {}): Promise<void> {
  await db.crmLink.update({
    where: { connectionId_registrationId: { connectionId, registrationId } },
    data: {
      pushedValues: known as object,
      pushedHash: hash,
      lastInboundAt: now,
      ...(patch.externalId !== undefined ? { externalId: patch.externalId } : {}),
      ...(patch.state !== undefined ? { state: patch.state } : {}),
      ...(patch.lastError !== undefined ? { lastError: patch.lastError } : {}),
    },
  });
}

/** The CRM record ids of registrations, per CRM (for the registration JSON's `crm` field). */
export async function crmRefsFor(prisma: PrismaClient, registrationIds: string[]): Promise<Map<string, Partial<Record<CrmName, string>>>> {
  const out = new Map<string, Partial<Record<CrmName, string>>>();
  if (registrationIds.length === 0) return out;
  const { rows } = await sqlPool(prisma).query<{ registration_id: string; crm: CrmName; external_id: string }>(
    `SELECT l.registration_id, l.crm, l.external_id FROM crm_links l JOIN crm_connections c ON c.id = l.connection_id
     WHERE l.registration_id = ANY($1::uuid[]) AND l.external_id IS NOT NULL AND l.state <> 'deleted' AND c.status <> 'disconnected'
     ORDER BY l.created_at`,
    [registrationIds],
  );
  for (const r of rows) {
    const refs = out.get(r.registration_id) ?? {};
    refs[r.crm] = r.external_id;
    out.set(r.registration_id, refs);
  }
  return out;
}
