// CRM connections (admin): connect with credentials (a static token or the result of an OAuth install),
// list them with their health, disconnect. Credentials are checked and the CRM provisioned (the fields
// dealreg writes) before anything is stored; tokens are encrypted at rest and never shown again.
import { randomBytes } from 'node:crypto';
import {
  activeConnections,
  feedCursor,
  findConnection,
  listConnections,
  readTokens,
  saveConnection,
  setConnectionStatus,
  type AuthType,
  type ConnectionRecord,
  type TokenSet,
} from '../../data/repositories/connections';
import { pushBacklog } from '../../data/repositories/crm-links';
import { sqlPool } from '../../data/prisma';
import { appendLedgerEvent } from '../../data/ledger';
import type { CrmName } from '../../domain/types';
import { AppError, badRequest, conflict, notFound } from '../../lib/errors';
import { CrmError, type AccessTokenSource, type SchemaReport } from '../../crm/crm-adapter';
import { createCallGate, pausedForMs } from '../../crm/call-gate';
import { connectorFor, forgetCaches, requireKey, type CrmServices } from '../../crm/crm-services';
import { actorOf, type StaffPrincipal } from '../context';
import { seedLinks } from './mark-for-sync';

export interface ConnectionDraft {
  crm: CrmName;
  externalAccountId: string;
  authType: AuthType;
  tokens: TokenSet;
  settings: Record<string, unknown>;
  secrets?: Record<string, string> | null;
}

/** A token source over credentials not stored yet (checking them before saving). */
function draftTokens(s: CrmServices, draft: ConnectionDraft): AccessTokenSource {
  let current = draft.tokens.accessToken;
  return {
    current: async () => current,
    refresh: async () => {
      const refresher = connectorFor(s, draft.crm).refresher({ ...fakeRecord(draft), hasRefreshToken: Boolean(draft.tokens.refreshToken) }, s, draft.secrets ?? null);
      if (!refresher) throw new CrmError(draft.crm, 'AUTH', 'the CRM rejected the access token');
      const fresh = await refresher(draft.tokens.refreshToken ?? null);
      draft.tokens = { ...fresh, refreshToken: fresh.refreshToken ?? draft.tokens.refreshToken };
      current = fresh.accessToken;
      return current;
    },
  };
}

function fakeRecord(d: ConnectionDraft): ConnectionRecord {
  const now = new Date();
  return {
    id: `pending-${d.crm}-${d.externalAccountId}`,
    workspaceId: '',
    crm: d.crm,
    externalAccountId: d.externalAccountId,
    authType: d.authType,
    settings: d.settings,
    status: 'active',
    statusReason: null,
    statusChangedAt: now,
    accessTokenExpiresAt: d.tokens.expiresAt,
    hasRefreshToken: Boolean(d.tokens.refreshToken),
    backfill: {},
    createdBy: '',
    createdAt: now,
    updatedAt: now,
  };
}

/** A CRM failure while connecting → the answer: refused credentials 422, a refused request 422, anything else 502. */
export function crmFailure(crm: CrmName, err: unknown, what: string): AppError {
  if (err instanceof CrmError) {
    if (err.code === 'AUTH') return new AppError(422, 'CRM_CREDENTIALS_REJECTED', `${crm} rejected the credentials while ${what}: ${err.message}`);
    if (err.code === 'INVALID' || err.code === 'NOT_FOUND') return new AppError(422, 'CRM_REQUEST_REFUSED', `${crm} refused a request while ${what}: ${err.message}`, { crmCode: err.crmCode });
    return new AppError(502, 'CRM_UNAVAILABLE', `${crm} did not answer properly while ${what} (${err.code}: ${err.message}). Nothing was stored; try again.`, { crmError: err.code });
  }
  return new AppError(502, 'CRM_UNAVAILABLE', `could not reach ${crm} while ${what}: ${(err as Error).message}. Nothing was stored; try again.`);
}

export async function connectCrm(s: CrmServices, by: StaffPrincipal, draft: ConnectionDraft): Promise<{ connection: Awaited<ReturnType<typeof connectionView>>; schema: SchemaReport }> {
  const key = requireKey(s);
  const connector = connectorFor(s, draft.crm);
  const others = (await activeConnections(s.ctx.prisma, { workspaceId: by.workspaceId, crm: draft.crm })).filter((c) => c.externalAccountId !== draft.externalAccountId);
  if (others.length > 0) {
    throw conflict('CONNECTION_EXISTS', `This workspace is already connected to ${draft.crm} account ${others[0]!.externalAccountId}. Disconnect it first (one ${draft.crm} account per workspace).`, {
      connectionId: others[0]!.id,
    });
  }
  const probe = fakeRecord(draft);
  const adapter = connector.createAdapter({
    connection: probe,
    tokens: draftTokens(s, draft),
    gate: createCallGate({ redis: s.redis, prefix: s.prefix, crm: draft.crm, connectionId: probe.id, limits: connector.limits(s.settings) }),
    services: s,
  });
  let verified: { accountId: string; appId?: string | null };
  try {
    verified = await adapter.verifyCredentials();
  } catch (err) {
    throw crmFailure(draft.crm, err, 'checking the credentials');
  }
  if (verified.accountId && verified.accountId !== draft.externalAccountId) {
    throw new AppError(422, 'ACCOUNT_MISMATCH', `These credentials belong to ${draft.crm} account ${verified.accountId}, not ${draft.externalAccountId}.`, { expected: draft.externalAccountId, actual: verified.accountId });
  }
  let schema: SchemaReport;
  try {
    schema = await adapter.ensureSchema();
  } catch (err) {
    throw crmFailure(draft.crm, err, 'creating the fields dealreg writes');
  }
  const settings = { ...draft.settings, ...(verified.appId ? { appId: String(verified.appId) } : {}), schema: { missing: schema.missing, checkedAt: s.ctx.clock().toISOString() } };
  const saved = await saveConnection(s.ctx.prisma, key, { ...draft, settings, workspaceId: by.workspaceId, createdBy: `${by.kind}:${by.tokenId}`, now: s.ctx.clock() });
  await appendLedgerEvent(s.ctx.prisma, {
    workspaceId: by.workspaceId,
    type: 'connection.connected',
    actor: actorOf(by),
    data: { connectionId: saved.id, crm: saved.crm, externalAccountId: saved.externalAccountId, authType: saved.authType, missingFields: schema.missing },
    at: s.ctx.clock(),
  });
  await forgetCaches(s, saved.id);
  const seeded = await seedLinks(s, saved.id);
  await s.jobs.backfill(saved.id);
  // Feed-based CRMs: start reading changes now (the first pull records the feed's tip).
  if (adapter.pullChanges) await s.jobs.feed(saved.id);
  if (seeded > 0) await s.jobs.push(saved.id);
  s.ctx.log.info({ component: 'crm', crm: saved.crm, connectionId: saved.id, externalAccountId: saved.externalAccountId, created: schema.created, missing: schema.missing, registrationsToPush: seeded }, 'CRM connected');
  return { connection: await connectionView(s, saved), schema };
}

export async function connectionView(s: CrmServices, c: ConnectionRecord) {
  const [backlog, inbox, paused, feed] = await Promise.all([
    pushBacklog(s.ctx.prisma, c.id),
    sqlPool(s.ctx.prisma).query<{ n: string; failed: string }>(
      `SELECT count(*) FILTER (WHERE processed_at IS NULL) AS n, count(*) FILTER (WHERE outcome = 'failed') AS failed FROM inbox_events WHERE connection_id = $1::uuid`,
      [c.id],
    ),
    pausedForMs(s.redis, s.prefix, c.id),
    feedCursor(s.ctx.prisma, c.id),
  ]);
  const failedLinks = await s.ctx.prisma.crmLink.count({ where: { connectionId: c.id, state: 'failed' } });
  const { cursor: _cursor, ...backfill } = c.backfill as typeof c.backfill & { cursor?: unknown };
  return {
    id: c.id,
    crm: c.crm,
    externalAccountId: c.externalAccountId,
    ...(c.crm === 'hubspot' ? { portalId: c.externalAccountId } : { orgId: c.externalAccountId }),
    authType: c.authType,
    status: c.status,
    statusReason: c.statusReason,
    statusChangedAt: c.statusChangedAt.toISOString(),
    accessTokenExpiresAt: c.accessTokenExpiresAt?.toISOString() ?? null,
    canRefresh: c.hasRefreshToken,
    missingFields: ((c.settings.schema as { missing?: string[] } | undefined)?.missing ?? []) as string[],
    backfill,
    health: {
      pendingPushes: backlog.waiting,
      failedPushes: failedLinks,
      pendingInboundEvents: Number(inbox.rows[0]?.n ?? 0),
      failedInboundEvents: Number(inbox.rows[0]?.failed ?? 0),
      rateLimitedForMs: paused,
      // Feed-based CRMs (Salesforce change events): where the feed stands and when it was last read.
      ...(feed.readAt ? { changeFeed: { replayId: feed.cursor, readAt: feed.readAt.toISOString() } } : {}),
    },
    createdAt: c.createdAt.toISOString(),
    createdBy: c.createdBy,
  };
}

export async function listConnectionViews(s: CrmServices, workspaceId: string) {
  const rows = await listConnections(s.ctx.prisma, workspaceId);
  return Promise.all(rows.map((c) => connectionView(s, c)));
}

/** Stops all work for the connection, revokes what the CRM lets us revoke, and forgets the credentials. */
export async function disconnect(s: CrmServices, by: StaffPrincipal, id: string) {
  const c = await findConnection(s.ctx.prisma, id, by.workspaceId);
  if (!c) throw notFound('Connection');
  if (c.status === 'disconnected') return connectionView(s, c);
  const key = requireKey(s);
  const tokens = await readTokens(s.ctx.prisma, key, c.id).catch(() => null);
  // Stop first, so no worker starts a call with credentials about to disappear.
  await setConnectionStatus(s.ctx.prisma, c.id, 'disconnected', `disconnected by ${by.name}`, s.ctx.clock());
  await s.jobs.cancel(c.id);
  let revoked = false;
  const connector = connectorFor(s, c.crm);
  if (tokens && connector.revoke) {
    try {
      await connector.revoke(c, tokens, s);
      revoked = true;
    } catch (err) {
      s.ctx.log.warn({ component: 'crm', crm: c.crm, connectionId: c.id, err: (err as Error).message }, 'could not revoke the CRM token (it is deleted here anyway)');
    }
  }
  await forgetCaches(s, c.id);
  await appendLedgerEvent(s.ctx.prisma, {
    workspaceId: by.workspaceId,
    type: 'connection.disconnected',
    actor: actorOf(by),
    data: { connectionId: c.id, crm: c.crm, externalAccountId: c.externalAccountId, revoked },
    at: s.ctx.clock(),
  });
  s.ctx.log.info({ component: 'crm', crm: c.crm, connectionId: c.id, revoked }, 'CRM disconnected');
  const after = await findConnection(s.ctx.prisma, c.id);
  return { ...(await connectionView(s, after!)), revoked };
}

// OAuth installs: the state parameter is random, single use, bound to the workspace and the admin who
// started the install, and expires after 10 minutes.
const STATE_TTL_S = 600;

export async function createOauthState(s: CrmServices, by: StaffPrincipal, crm: CrmName, extra: Record<string, string> = {}): Promise<string> {
  const state = randomBytes(24).toString('base64url');
  await s.redis.set(`${s.prefix}:oauth-state:${state}`, JSON.stringify({ workspaceId: by.workspaceId, crm, tokenId: by.tokenId, name: by.name, ...extra }), 'EX', STATE_TTL_S);
  return state;
}

export async function consumeOauthState(s: CrmServices, crm: CrmName, state: string | undefined): Promise<{ by: StaffPrincipal; extra: Record<string, string> }> {
  if (!state || state.length > 200) throw badRequest('INVALID_OAUTH_STATE', 'The install link is missing its state: start the install again from dealreg.');
  const raw = await s.redis.getdel(`${s.prefix}:oauth-state:${state}`);
  if (!raw) throw badRequest('INVALID_OAUTH_STATE', 'This install link expired or was already used: start the install again from dealreg.');
  const v = JSON.parse(raw) as { workspaceId: string; crm: CrmName; tokenId: string; name: string } & Record<string, string>;
  if (v.crm !== crm) throw badRequest('INVALID_OAUTH_STATE', 'This install link was made for another CRM.');
  const { workspaceId, tokenId, name, crm: _crm, ...extra } = v;
  return { by: { kind: 'staff', workspaceId, tokenId, role: 'admin', name }, extra };
}
