// Creating and configuring portals (the control API's job): credentials, limits, webhook settings,
// owners, and bulk seeding of companies and deals.
import { randomUUID } from 'node:crypto';
import { associate } from './association-store';
import { badRequest, failProperties, type PropertyError } from './errors';
import type { Actor, OwnerDef, TeamRef } from './model';
import { Portal, type LimitConfig } from './portal';
import { createRecord } from './records';
import { hubspotToken, type SandboxState, type WriteCtx } from './state';
import { issueRefreshToken } from './oauth';
import { claim, uniqueConflicts, validateProperties } from './values';
import { DEFAULT_SCOPES } from './state';

export interface PortalOptions {
  portalId?: number;
  appId?: number;
  clientId?: string;
  clientSecret?: string;
  rateLimit?: LimitConfig;
  searchRateLimit?: LimitConfig;
  tokenTtlSeconds?: number;
  webhookTargetUrl?: string | null;
  webhookMaxConcurrentRequests?: number;
  webhookRetry?: Partial<Portal['webhook']['retry']>;
  webhookChaos?: Partial<Portal['webhook']['chaos']>;
  searchLagMs?: number;
}

export interface PortalCreated {
  portalId: number;
  appId: number;
  clientId: string;
  clientSecret: string;
  accessToken: string;
  refreshToken: string;
}

function positiveInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) badRequest(`${name} must be a positive integer`);
  return v;
}

function limit(v: unknown, name: string): LimitConfig {
  const o = (v ?? {}) as Record<string, unknown>;
  return { max: positiveInt(o.max, `${name}.max`), intervalMs: positiveInt(o.intervalMs, `${name}.intervalMs`) };
}

function targetUrl(v: unknown): string | null {
  if (v === null || v === '') return null;
  if (typeof v !== 'string' || !/^https?:\/\/[^\s]+$/.test(v)) badRequest('webhookTargetUrl must be an absolute http(s) URL or null');
  return v;
}

/** Applies the configurable settings of `PortalOptions` (creation and PATCH share this). */
export function configurePortal(portal: Portal, o: PortalOptions): void {
  if (o.rateLimit !== undefined) portal.setRateLimit(limit(o.rateLimit, 'rateLimit'));
  if (o.searchRateLimit !== undefined) portal.setSearchRateLimit(limit(o.searchRateLimit, 'searchRateLimit'));
  if (o.tokenTtlSeconds !== undefined) portal.tokenTtlSeconds = positiveInt(o.tokenTtlSeconds, 'tokenTtlSeconds');
  if (o.webhookTargetUrl !== undefined) portal.webhook.targetUrl = targetUrl(o.webhookTargetUrl);
  if (o.webhookMaxConcurrentRequests !== undefined) portal.webhook.maxConcurrentRequests = positiveInt(o.webhookMaxConcurrentRequests, 'webhookMaxConcurrentRequests');
  if (o.webhookRetry !== undefined) {
    const r = o.webhookRetry;
    if (r.initialDelayMs !== undefined) portal.webhook.retry.initialDelayMs = positiveInt(r.initialDelayMs, 'webhookRetry.initialDelayMs');
    if (r.maxAttempts !== undefined) portal.webhook.retry.maxAttempts = positiveInt(r.maxAttempts, 'webhookRetry.maxAttempts');
    if (r.maxDelayMs !== undefined) portal.webhook.retry.maxDelayMs = positiveInt(r.maxDelayMs, 'webhookRetry.maxDelayMs');
  }
  if (o.webhookChaos !== undefined) {
    const c = o.webhookChaos;
    if (c.duplicateProbability !== undefined) {
      if (typeof c.duplicateProbability !== 'number' || c.duplicateProbability < 0 || c.duplicateProbability > 1) badRequest('webhookChaos.duplicateProbability must be between 0 and 1');
      portal.webhook.chaos.duplicateProbability = c.duplicateProbability;
    }
    if (c.shuffle !== undefined) portal.webhook.chaos.shuffle = c.shuffle === true;
    if (c.seed !== undefined) portal.webhook.chaos.seed = positiveInt(c.seed, 'webhookChaos.seed');
  }
  if (o.searchLagMs !== undefined) {
    if (typeof o.searchLagMs !== 'number' || o.searchLagMs < 0) badRequest('searchLagMs must be a non-negative number');
    portal.searchLagMs = o.searchLagMs;
  }
}

export function createPortal(state: SandboxState, o: PortalOptions, now: number): PortalCreated {
  const portalId = o.portalId !== undefined ? positiveInt(o.portalId, 'portalId') : state.next('portalId');
  if (state.portals.has(portalId)) badRequest(`portal ${portalId} already exists`);
  const appId = o.appId !== undefined ? positiveInt(o.appId, 'appId') : state.next('appId');
  if (o.clientId !== undefined && (typeof o.clientId !== 'string' || o.clientId === '')) badRequest('clientId must be a non-empty string');
  if (o.clientSecret !== undefined && (typeof o.clientSecret !== 'string' || o.clientSecret === '')) badRequest('clientSecret must be a non-empty string');
  const privateAppToken = hubspotToken('pat-na1');
  const portal = new Portal({ portalId, appId, clientId: o.clientId ?? randomUUID(), clientSecret: o.clientSecret ?? randomUUID(), privateAppToken }, now);
  configurePortal(portal, o);
  state.portals.set(portalId, portal);
  state.accessTokens.set(privateAppToken, { portalId, kind: 'private', expiresAt: null, scopes: DEFAULT_SCOPES, userId: 1 });
  const refreshToken = issueRefreshToken(state, portal, DEFAULT_SCOPES, 1);
  return { portalId, appId, clientId: portal.clientId, clientSecret: portal.clientSecret, accessToken: privateAppToken, refreshToken };
}

export function describePortal(portal: Portal): Record<string, unknown> {
  return {
    portalId: portal.portalId,
    appId: portal.appId,
    clientId: portal.clientId,
    tokenTtlSeconds: portal.tokenTtlSeconds,
    rateLimit: portal.rateLimit,
    searchRateLimit: portal.searchRateLimit,
    searchLagMs: portal.searchLagMs,
    webhookTargetUrl: portal.webhook.targetUrl,
    webhookMaxConcurrentRequests: portal.webhook.maxConcurrentRequests,
    webhookRetry: portal.webhook.retry,
    webhookChaos: portal.webhook.chaos,
    counts: { deals: portal.objects.deals.size, companies: portal.objects.companies.size, owners: portal.owners.size },
  };
}

/** Ends every current access token of the portal, the private app token included. */
export function expireTokens(state: SandboxState, portalId: number, now: number): number {
  let n = 0;
  for (const info of state.accessTokens.values()) {
    if (info.portalId !== portalId) continue;
    if (info.expiresAt === null || info.expiresAt > now) {
      info.expiresAt = now;
      n++;
    }
  }
  return n;
}

export function rotatePrivateToken(state: SandboxState, portal: Portal): string {
  const token = hubspotToken('pat-na1');
  portal.privateAppToken = token;
  state.accessTokens.set(token, { portalId: portal.portalId, kind: 'private', expiresAt: null, scopes: DEFAULT_SCOPES, userId: 1 });
  return token;
}

export function addOwners(state: SandboxState, portal: Portal, raw: unknown, now: number): OwnerDef[] {
  const list = Array.isArray((raw as Record<string, unknown>)?.owners) ? ((raw as Record<string, unknown>).owners as unknown[]) : [raw];
  const teamIds = new Map<string, string>();
  for (const o of portal.owners.values()) for (const t of o.teams) teamIds.set(t.name, t.id);
  return list.map((item) => {
    const o = (item ?? {}) as Record<string, unknown>;
    if (typeof o.email !== 'string' || !o.email.includes('@')) badRequest('owner.email is required');
    const teams: TeamRef[] = (Array.isArray(o.teams) ? o.teams : []).map((t: Record<string, unknown>, i) => {
      const name = String(t?.name ?? '');
      if (!name) badRequest('every team needs a name');
      let id = typeof t.id === 'string' ? t.id : teamIds.get(name);
      if (!id) id = String(state.next('teamId'));
      teamIds.set(name, id);
      return { id, name, primary: t.primary === undefined ? i === 0 : t.primary === true };
    });
    const owner: OwnerDef = {
      id: String(state.next('ownerId')),
      email: o.email,
      firstName: typeof o.firstName === 'string' ? o.firstName : '',
      lastName: typeof o.lastName === 'string' ? o.lastName : '',
      userId: typeof o.userId === 'number' ? o.userId : state.next('userId'),
      teams,
      archived: o.archived === true,
      createdAt: now,
      updatedAt: now,
    };
    portal.owners.set(owner.id, owner);
    return owner;
  });
}

export interface SeedResult {
  companies: string[];
  deals: string[];
}

/**
 * Bulk-creates companies and deals (validated like API writes, all or nothing). Deals name their
 * companies by id or by `#<index>` into this request's companies; the first is the primary.
 */
export function seed(state: SandboxState, portal: Portal, raw: unknown, now: number, emit: WriteCtx['emit'] | null, actor: Actor): SeedResult {
  const b = (raw ?? {}) as Record<string, unknown>;
  const companies = Array.isArray(b.companies) ? (b.companies as Array<Record<string, unknown>>) : [];
  const deals = Array.isArray(b.deals) ? (b.deals as Array<Record<string, unknown>>) : [];
  const problems: PropertyError[] = [];
  const claimedCompanies = new Map<string, Map<string, string>>();
  const claimedDeals = new Map<string, Map<string, string>>();
  const companyValues = companies.map((c, i) => {
    const { values, errors } = validateProperties(portal, 'companies', c?.properties ?? {}, undefined);
    errors.push(...uniqueConflicts(portal, 'companies', values, undefined, claimedCompanies));
    claim(claimedCompanies, portal, 'companies', values, `seed-${i}`);
    problems.push(...errors.map((e) => ({ ...e, message: `companies[${i}]: ${e.message}` })));
    return values;
  });
  const dealPlans = deals.map((d, i) => {
    const { values, errors } = validateProperties(portal, 'deals', d?.properties ?? {}, undefined);
    errors.push(...uniqueConflicts(portal, 'deals', values, undefined, claimedDeals));
    claim(claimedDeals, portal, 'deals', values, `seed-${i}`);
    problems.push(...errors.map((e) => ({ ...e, message: `deals[${i}]: ${e.message}` })));
    const refs = Array.isArray(d?.companies) ? d.companies.map(String) : [];
    for (const ref of refs) {
      const ok = ref.startsWith('#') ? Number(ref.slice(1)) < companies.length : !!portal.live('companies', ref);
      if (!ok) problems.push({ name: 'companies', error: 'INVALID_ASSOCIATION', message: `deals[${i}]: company ${ref} does not exist` });
    }
    return { values, refs };
  });
  if (problems.length > 0) failProperties(problems);

  const ctx: WriteCtx = { state, portal, now, actor, emit: emit ?? (() => undefined) };
  const companyIds = companyValues.map((v) => createRecord(ctx, 'companies', v).id);
  const dealIds = dealPlans.map(({ values, refs }) => {
    const deal = createRecord(ctx, 'deals', values);
    refs.forEach((ref, i) => {
      const companyId = ref.startsWith('#') ? companyIds[Number(ref.slice(1))]! : ref;
      associate(ctx, 'deals', deal.id, companyId, i === 0 ? [5] : []);
    });
    return deal.id;
  });
  return { companies: companyIds, deals: dealIds };
}
