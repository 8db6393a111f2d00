// CRM connections: tokens are stored as AES-256-GCM envelopes and decrypted only where a call needs them.
// Plain objects out; nothing here returns a token unless the function name says so.
import type { CrmName } from '../../domain/types';
import { decrypt, encrypt } from '../../lib/crypto';
import { poolOf, type Db, type Prisma } from '../prisma';

export type ConnectionStatus = 'active' | 'parked' | 'disconnected';
export type AuthType = 'oauth' | 'private_app' | 'jwt';

export interface BackfillProgress {
  state?: 'pending' | 'running' | 'done' | 'failed';
  accounts?: number;
  opportunities?: number;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
}

/** A connection without its secrets. */
export interface ConnectionRecord {
  id: string;
  workspaceId: string;
  crm: CrmName;
  externalAccountId: string;
  authType: AuthType;
  settings: Record<string, unknown>;
  status: ConnectionStatus;
  statusReason: string | null;
  statusChangedAt: Date;
  accessTokenExpiresAt: Date | null;
  hasRefreshToken: boolean;
  backfill: BackfillProgress;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface TokenSet {
  accessToken: string;
  refreshToken?: string | null;
  /** Absolute expiry; null for tokens that do not expire (private-app tokens). */
  expiresAt: Date | null;
}

const select = {
  id: true,
  workspaceId: true,
  crm: true,
  externalAccountId: true,
  authType: true,
  settings: true,
  status: true,
  statusReason: true,
  statusChangedAt: true,
  accessTokenExpiresAt: true,
  refreshTokenEnc: true,
  backfill: true,
  createdBy: true,
  createdAt: true,
  updatedAt: true,
} as const;

type Row = Prisma.CrmConnectionGetPayload<{ select: typeof select }>;

function toRecord(r: Row): ConnectionRecord {
  const { refreshTokenEnc, ...rest } = r;
  return {
    ...rest,
    crm: r.crm as CrmName,
    authType: r.authType as AuthType,
    settings: (r.settings ?? {}) as Record<string, unknown>,
    backfill: (r.backfill ?? {}) as BackfillProgress,
    hasRefreshToken: refreshTokenEnc !== null,
  };
}

export async function findConnection(db: Db, id: string, workspaceId?: string): Promise<ConnectionRecord | null> {
  const r = await db.crmConnection.findFirst({ where: { id, ...(workspaceId ? { workspaceId } : {}) }, select });
  return r ? toRecord(r) : null;
}

export async function listConnections(db: Db, workspaceId: string): Promise<ConnectionRecord[]> {
  const rows = await db.crmConnection.findMany({ where: { workspaceId }, orderBy: { createdAt: 'asc' }, select });
  return rows.map(toRecord);
}

export async function activeConnections(db: Db, where: { workspaceId?: string; crm?: CrmName } = {}): Promise<ConnectionRecord[]> {
  const rows = await db.crmConnection.findMany({ where: { ...where, status: 'active' }, orderBy: { createdAt: 'asc' }, select });
  return rows.map(toRecord);
}

/** Connections whose registrations are tracked: active ones, and parked ones (their work waits for a reconnect). */
export async function syncingConnections(db: Db, workspaceId: string): Promise<ConnectionRecord[]> {
  // Runs for every outbox job (every registration change), so on the pool as a named prepared statement:
  // through Prisma it cost the single Node thread about as much as the rest of the job.
  const pool = poolOf(db);
  if (pool) {
    const { rows } = await pool.query<Row>({ name: 'dealreg_syncing_connections_v1', text: SYNCING_CONNECTIONS_SQL, values: [workspaceId] });
    return rows.map(toRecord);
  }
  const rows = await db.crmConnection.findMany({ where: { workspaceId, status: { in: ['active', 'parked'] } }, orderBy: { createdAt: 'asc' }, select });
  return rows.map(toRecord);
}

// The columns of `select`, named as Prisma names them.
const SYNCING_CONNECTIONS_SQL = `
  SELECT id, workspace_id AS "workspaceId", crm, external_account_id AS "externalAccountId", auth_type AS "authType", settings,
         status::text AS status, status_reason AS "statusReason", status_changed_at AS "statusChangedAt",
         access_token_expires_at AS "accessTokenExpiresAt", refresh_token_enc AS "refreshTokenEnc", backfill, created_by AS "createdBy",
         created_at AS "createdAt", updated_at AS "updatedAt"
  FROM crm_connections WHERE workspace_id = $1::uuid AND status IN ('active', 'parked') ORDER BY created_at`;

/** Creates the connection, or brings a disconnected / parked one of the same CRM account back with new tokens. */
export async function saveConnection(
  db: Db,
  key: Buffer,
  c: { workspaceId: string; crm: CrmName; externalAccountId: string; authType: AuthType; tokens: TokenSet; settings: Record<string, unknown>; secrets?: Record<string, string> | null; createdBy: string; now: Date },
): Promise<ConnectionRecord> {
  const data = {
    authType: c.authType,
    accessTokenEnc: encrypt(c.tokens.accessToken, key),
    refreshTokenEnc: c.tokens.refreshToken ? encrypt(c.tokens.refreshToken, key) : null,
    accessTokenExpiresAt: c.tokens.expiresAt,
    secretsEnc: c.secrets ? encrypt(JSON.stringify(c.secrets), key) : null,
    settings: c.settings as Prisma.InputJsonValue,
    status: 'active' as const,
    statusReason: null,
    statusChangedAt: c.now,
    backfill: { state: 'pending' } as Prisma.InputJsonValue,
  };
  const r = await db.crmConnection.upsert({
    where: { workspaceId_crm_externalAccountId: { workspaceId: c.workspaceId, crm: c.crm, externalAccountId: c.externalAccountId } },
    create: { workspaceId: c.workspaceId, crm: c.crm, externalAccountId: c.externalAccountId, createdBy: c.createdBy, ...data },
    update: data,
    select,
  });
  return toRecord(r);
}

/** The stored tokens, decrypted (for the token source only). */
export async function readTokens(db: Db, key: Buffer, id: string): Promise<(TokenSet & { status: ConnectionStatus }) | null> {
  const r = await db.crmConnection.findUnique({ where: { id }, select: { accessTokenEnc: true, refreshTokenEnc: true, accessTokenExpiresAt: true, status: true } });
  if (!r || !r.accessTokenEnc) return null;
  return {
    accessToken: decrypt(r.accessTokenEnc, key),
    refreshToken: r.refreshTokenEnc ? decrypt(r.refreshTokenEnc, key) : null,
    expiresAt: r.accessTokenExpiresAt,
    status: r.status,
  };
}

/** The other secrets stored with a connection (a JWT private key), decrypted (for the connector's refresher only). */
export async function readSecrets(db: Db, key: Buffer, id: string): Promise<Record<string, string> | null> {
  const r = await db.crmConnection.findUnique({ where: { id }, select: { secretsEnc: true } });
  return r?.secretsEnc ? (JSON.parse(decrypt(r.secretsEnc, key)) as Record<string, string>) : null;
}

/** Where the connection's change-event feed continues (Salesforce replay id), and when it was last read. */
export async function feedCursor(db: Db, id: string): Promise<{ cursor: string | null; readAt: Date | null }> {
  const r = await db.crmConnection.findUnique({ where: { id }, select: { feedCursor: true, feedReadAt: true } });
  return { cursor: r?.feedCursor ?? null, readAt: r?.feedReadAt ?? null };
}

/** Saves the feed position once the events before it are in the inbox. */
export async function saveFeedCursor(db: Db, id: string, cursor: string | null, at: Date): Promise<void> {
  await db.crmConnection.update({ where: { id }, data: { feedCursor: cursor, feedReadAt: at } });
}

export async function storeRefreshedTokens(db: Db, key: Buffer, id: string, t: TokenSet): Promise<void> {
  await db.crmConnection.update({
    where: { id },
    data: {
      accessTokenEnc: encrypt(t.accessToken, key),
      accessTokenExpiresAt: t.expiresAt,
      ...(t.refreshToken ? { refreshTokenEnc: encrypt(t.refreshToken, key) } : {}),
    },
  });
}

export async function setConnectionStatus(db: Db, id: string, status: ConnectionStatus, reason: string | null, now: Date): Promise<void> {
  await db.crmConnection.update({
    where: { id },
    data: {
      status,
      statusReason: reason,
      statusChangedAt: now,
      // A disconnected connection keeps no credentials.
      ...(status === 'disconnected' ? { accessTokenEnc: null, refreshTokenEnc: null, secretsEnc: null, accessTokenExpiresAt: null } : {}),
    },
  });
}

/** Parks an active connection (credentials dead). Returns false if it was not active any more. */
export async function parkConnection(db: Db, id: string, reason: string, now: Date): Promise<boolean> {
  const r = await db.crmConnection.updateMany({ where: { id, status: 'active' }, data: { status: 'parked', statusReason: reason, statusChangedAt: now } });
  return r.count === 1;
}

/** Merges keys into the connection's settings (one statement: concurrent writers of other keys are kept). */
export async function mergeConnectionSettings(db: Db, id: string, patch: Record<string, unknown>): Promise<void> {
  await db.$executeRaw`UPDATE crm_connections SET settings = settings || ${JSON.stringify(patch)}::jsonb, updated_at = now() WHERE id = ${id}::uuid`;
}

export async function updateBackfill(db: Db, id: string, progress: BackfillProgress): Promise<void> {
  await db.crmConnection.update({ where: { id }, data: { backfill: progress as Prisma.InputJsonValue } });
}
