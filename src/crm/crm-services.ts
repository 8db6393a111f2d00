// What the CRM use cases and workers share: database and Redis, the encryption key, CRM settings, the
// connectors (a typed record, one per CRM), and a way to enqueue connection jobs. Builds adapters for a
// connection: its token source and its shared rate limiter.
import type { Redis } from 'ioredis';
import type { UseCaseContext } from '../use-cases/context';
import type { ConnectionRecord, TokenSet } from '../data/repositories/connections';
import type { SyncMappingInput } from '../domain/sync-mapping';
import type { ConnectionDraft } from '../use-cases/crm/connections';
import type { CrmName } from '../domain/types';
import { AppError } from '../lib/errors';
import { createCallGate, type GateLimits } from './call-gate';
import { createTokenSource, type Refresher } from './token-source';
import type { AccessTokenSource, CallGate, CrmAdapter, CrmDescribe, CrmOwner } from './crm-adapter';

export interface CrmSettings {
  publicBaseUrl: string;
  hubspot: {
    apiBaseUrl: string;
    /** HubSpot's app host for installs (`/oauth/authorize` is added). */
    appBaseUrl: string;
    appId?: string;
    clientId?: string;
    clientSecret?: string;
    requestsPerSecond: number;
    searchesPerSecond: number;
  };
  salesforce: {
    /** Where OAuth and JWT logins go (login.salesforce.com, test.salesforce.com, a My Domain, the sandbox). */
    loginUrl: string;
    /** The REST API version every call names ("66.0"): jsforce's own default (50.0) is never used. */
    apiVersion: string;
    /** dealreg's connected app (web-server flow with PKCE; JWT bearer uses the client id as issuer). */
    clientId?: string;
    clientSecret?: string;
    /** PEM private key of the connected app's certificate, for JWT bearer connections that bring none. */
    jwtPrivateKey?: string;
    /** Calls per second per org, shared by all workers (Salesforce meters a daily total, not a rate). */
    requestsPerSecond: number;
    /** Share of the org's daily API allowance dealreg may spend (percent); it slows down before, stops at it. */
    apiBudgetPercent: number;
    /** How long one change-feed pull waits for events when none are waiting (ms). */
    feedWaitMs: number;
  };
  /** How often the reconcile sweep runs per connection (ms). */
  reconcileMs: number;
  /** How long describe (fields, stages) and owners stay cached (ms). */
  describeCacheMs: number;
}

export interface CrmJobs {
  push(connectionId: string, delayMs?: number): Promise<void>;
  inbox(connectionId: string): Promise<void>;
  backfill(connectionId: string): Promise<void>;
  reconcile(connectionId: string): Promise<void>;
  /** Pulls the change feed (feed-based CRMs); the job keeps itself going while the connection is active. */
  feed(connectionId: string): Promise<void>;
  /** Removes queued (not running) jobs of a connection. */
  cancel(connectionId: string): Promise<void>;
}

/** A browser install through the CRM's OAuth consent page (GET /oauth/<crm>/install and /callback). */
export interface OauthFlow {
  /**
   * Starts an install: what to keep with the single-use state until the callback (a PKCE verifier, the
   * login host), and the consent URL for that state. Throws CrmError INVALID when the app is not configured.
   */
  begin(s: CrmServices, query: Record<string, string | undefined>): { keep: Record<string, string>; authorizeUrl(state: string): string };
  /** The callback's authorization code, with what `begin` kept → a connection draft (the account id comes from the CRM). */
  complete(s: CrmServices, code: string, kept: Record<string, string>): Promise<ConnectionDraft>;
}

export interface CrmConnector {
  crm: CrmName;
  /** The opportunity field holding the registration id (the upsert key). */
  registrationIdField: string;
  /** The key in a partner's `crmRefs` naming the partner's own account in this CRM. */
  partnerRefKey: string;
  defaultMapping(): SyncMappingInput;
  limits(settings: CrmSettings): GateLimits;
  createAdapter(args: { connection: ConnectionRecord; tokens: AccessTokenSource; gate: CallGate; services: CrmServices }): CrmAdapter;
  /**
   * How this connection gets a new access token (undefined: it cannot). `secrets` are the draft's when the
   * connection is not stored yet; otherwise the refresher reads the stored (encrypted) ones itself.
   */
  refresher(connection: ConnectionRecord, services: CrmServices, secrets?: Record<string, string> | null): Refresher | undefined;
  /** Revokes what can be revoked on disconnect (best effort). */
  revoke?(connection: ConnectionRecord, tokens: TokenSet, services: CrmServices): Promise<void>;
  /** POST /v1/connections/<crm>: the JSON body → a draft (parse with zod: a ZodError answers 422 VALIDATION_FAILED). */
  draftFromRequest(body: unknown, services: CrmServices): Promise<ConnectionDraft>;
  oauth?: OauthFlow;
}

export type Connectors = Partial<Record<CrmName, CrmConnector>>;

export interface CrmServices {
  ctx: UseCaseContext;
  redis: Redis;
  prefix: string;
  key: Buffer | null;
  settings: CrmSettings;
  connectors: Connectors;
  jobs: CrmJobs;
}

export function connectorFor(s: CrmServices, crm: CrmName): CrmConnector {
  const c = s.connectors[crm];
  if (!c) throw new AppError(404, 'CRM_NOT_SUPPORTED', `dealreg has no ${crm} connector in this installation.`);
  return c;
}

export function requireKey(s: CrmServices): Buffer {
  if (!s.key) {
    throw new AppError(503, 'ENCRYPTION_KEY_MISSING', 'CRM tokens are encrypted at rest: set ENCRYPTION_KEY (32 bytes, e.g. `openssl rand -hex 32`) and restart.');
  }
  return s.key;
}

export function adapterFor(s: CrmServices, connection: ConnectionRecord): CrmAdapter {
  const connector = connectorFor(s, connection.crm);
  const key = requireKey(s);
  const log = s.ctx.log.child({ component: 'crm', crm: connection.crm, connectionId: connection.id });
  const tokens = createTokenSource({
    prisma: s.ctx.prisma,
    redis: s.redis,
    prefix: s.prefix,
    key,
    crm: connection.crm,
    connectionId: connection.id,
    refresher: connector.refresher(connection, s),
    clock: s.ctx.clock,
    log,
    onParked: () => s.ctx.metrics.crmConnectionsParked.inc({ crm: connection.crm }),
  });
  const gate = createCallGate({ redis: s.redis, prefix: s.prefix, crm: connection.crm, connectionId: connection.id, limits: connector.limits(s.settings) });
  return connector.createAdapter({ connection, tokens, gate, services: s });
}

/** Describe (fields, pipelines) is cached in Redis: mapping validation and every push need it. */
export async function cachedDescribe(s: CrmServices, connection: ConnectionRecord, adapter?: CrmAdapter, opts: { refresh?: boolean } = {}): Promise<CrmDescribe> {
  const k = `${s.prefix}:crm-describe:${connection.id}`;
  if (!opts.refresh) {
    const hit = await s.redis.get(k);
    if (hit) return JSON.parse(hit) as CrmDescribe;
  }
  const d = await (adapter ?? adapterFor(s, connection)).describe();
  await s.redis.set(k, JSON.stringify(d), 'PX', s.settings.describeCacheMs);
  return d;
}

export async function cachedOwners(s: CrmServices, connection: ConnectionRecord, adapter?: CrmAdapter): Promise<Map<string, CrmOwner>> {
  const k = `${s.prefix}:crm-owners:${connection.id}`;
  const hit = await s.redis.get(k);
  const owners = hit ? (JSON.parse(hit) as CrmOwner[]) : await (adapter ?? adapterFor(s, connection)).listOwners();
  if (!hit) await s.redis.set(k, JSON.stringify(owners), 'PX', s.settings.describeCacheMs);
  return new Map(owners.map((o) => [o.id, o]));
}

export async function forgetCaches(s: CrmServices, connectionId: string): Promise<void> {
  await s.redis.del(`${s.prefix}:crm-describe:${connectionId}`, `${s.prefix}:crm-owners:${connectionId}`);
}
