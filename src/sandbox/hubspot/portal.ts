// One HubSpot account ("portal", hub id) with the app installed in it: its CRM data, schema,
// credentials, limits and webhook settings. Portals never see each other's data.
import { RollingWindow } from '../common/rolling-window';
import { defaultGroups, defaultPipeline, defaultProperties } from './catalog';
import type { CrmRecord, DeliveryLogEntry, GroupDef, OwnerDef, PipelineDef, PropertyDef, WebhookEvent } from './model';
import { OBJECT_TYPES, type ObjectType } from './object-types';

export interface LimitConfig {
  max: number;
  intervalMs: number;
}

export interface WebhookSettings {
  targetUrl: string | null;
  maxConcurrentRequests: number;
  retry: { initialDelayMs: number; maxAttempts: number; maxDelayMs: number };
  /** Test knobs: deliver some batches twice, draw events out of order. */
  chaos: { duplicateProbability: number; shuffle: boolean; seed: number };
}

export interface PortalStats {
  requests: number;
  byStatus: Record<string, number>;
  byRoute: Record<string, number>;
  rateLimited: number;
  searchRateLimited: number;
  faultsInjected: number;
  unauthorized: number;
  uiEdits: number;
  webhooks: { eventsEmitted: number; eventsDroppedNoTarget: number; deliveries: number; failedAttempts: number; gaveUp: number; duplicatesSent: number };
}

/** Deal→company association type ids (HUBSPOT_DEFINED): unlabeled and primary. */
export const DEAL_TO_COMPANY = { unlabeled: 341, primary: 5 } as const;
export const COMPANY_TO_DEAL = { unlabeled: 342, primary: 6 } as const;

export const DEFAULT_RATE_LIMIT: LimitConfig = { max: 110, intervalMs: 10_000 };
export const DEFAULT_SEARCH_LIMIT: LimitConfig = { max: 5, intervalMs: 1_000 };

type PerType<T> = Record<ObjectType, T>;

function perType<T>(make: (t: ObjectType) => T): PerType<T> {
  return { deals: make('deals'), companies: make('companies') };
}

export function emptyStats(): PortalStats {
  return {
    requests: 0, byStatus: {}, byRoute: {}, rateLimited: 0, searchRateLimited: 0, faultsInjected: 0, unauthorized: 0, uiEdits: 0,
    webhooks: { eventsEmitted: 0, eventsDroppedNoTarget: 0, deliveries: 0, failedAttempts: 0, gaveUp: 0, duplicatesSent: 0 },
  };
}

export interface PortalCredentials {
  portalId: number;
  appId: number;
  clientId: string;
  clientSecret: string;
  privateAppToken: string;
}

export class Portal {
  readonly portalId: number;
  appId: number;
  clientId: string;
  clientSecret: string;
  privateAppToken: string;
  tokenTtlSeconds = 1800;
  rateLimit: LimitConfig = { ...DEFAULT_RATE_LIMIT };
  searchRateLimit: LimitConfig = { ...DEFAULT_SEARCH_LIMIT };
  /** Search sees writes only this long after they happen (HubSpot's index lags); 0 = immediately. */
  searchLagMs = 0;
  webhook: WebhookSettings = {
    targetUrl: null,
    maxConcurrentRequests: 10,
    retry: { initialDelayMs: 200, maxAttempts: 10, maxDelayMs: 10_000 },
    chaos: { duplicateProbability: 0, shuffle: false, seed: 1 },
  };

  readonly objects: PerType<Map<string, CrmRecord>> = perType(() => new Map());
  /** property → value → record id, for `hasUniqueValue` properties (live records only). */
  readonly unique: PerType<Map<string, Map<string, string>>> = perType(() => new Map());
  /** Ids merged away → the surviving record's id. */
  readonly merged: PerType<Map<string, string>> = perType(() => new Map());
  /** dealId → companyId → deal→company type ids (341 always, 5 when primary). */
  readonly dealCompanies = new Map<string, Map<string, Set<number>>>();
  /** companyId → dealIds (reverse index). */
  readonly companyDeals = new Map<string, Set<string>>();
  readonly properties: PerType<Map<string, PropertyDef>>;
  readonly groups: PerType<Map<string, GroupDef>>;
  readonly owners = new Map<string, OwnerDef>();
  readonly pipelines = new Map<string, PipelineDef>();
  readonly subscriptionIds = new Map<string, number>();
  /** Previous search-visible state of records written within `searchLagMs` (null = not yet visible). */
  readonly searchShadow: PerType<Map<string, { until: number; record: CrmRecord | null }>> = perType(() => new Map());

  webhookQueue: WebhookEvent[] = [];
  deliveryLog: DeliveryLogEntry[] = [];
  stats: PortalStats = emptyStats();

  window: RollingWindow;
  searchWindow: RollingWindow;

  constructor(creds: PortalCredentials, at: number) {
    this.portalId = creds.portalId;
    this.appId = creds.appId;
    this.clientId = creds.clientId;
    this.clientSecret = creds.clientSecret;
    this.privateAppToken = creds.privateAppToken;
    this.properties = perType((t) => new Map(defaultProperties(t, at).map((p) => [p.name, p])));
    this.groups = perType((t) => new Map(defaultGroups(t).map((g) => [g.name, g])));
    const pipeline = defaultPipeline(at);
    this.pipelines.set(pipeline.id, pipeline);
    this.window = new RollingWindow(this.rateLimit.max, this.rateLimit.intervalMs);
    this.searchWindow = new RollingWindow(this.searchRateLimit.max, this.searchRateLimit.intervalMs);
  }

  setRateLimit(limit: LimitConfig): void {
    this.rateLimit = { ...limit };
    this.window = new RollingWindow(limit.max, limit.intervalMs);
  }

  setSearchRateLimit(limit: LimitConfig): void {
    this.searchRateLimit = { ...limit };
    this.searchWindow = new RollingWindow(limit.max, limit.intervalMs);
  }

  /** A live (not archived) record, following merges. */
  live(type: ObjectType, id: string): CrmRecord | undefined {
    const r = this.objects[type].get(id) ?? this.followMerge(type, id);
    return r && !r.archived ? r : undefined;
  }

  private followMerge(type: ObjectType, id: string): CrmRecord | undefined {
    let target = this.merged[type].get(id);
    for (let hops = 0; target !== undefined && hops < 10; hops++) {
      const r = this.objects[type].get(target);
      if (r) return r;
      target = this.merged[type].get(target);
    }
    return undefined;
  }

  uniqueProperties(type: ObjectType): PropertyDef[] {
    const out: PropertyDef[] = [];
    for (const p of this.properties[type].values()) if (p.hasUniqueValue && !p.archived) out.push(p);
    return out;
  }

  subscriptionId(key: string, next: () => number): number {
    let id = this.subscriptionIds.get(key);
    if (id === undefined) {
      id = next();
      this.subscriptionIds.set(key, id);
    }
    return id;
  }

  /** Rebuilds the unique-value index from records (after restore or schema change). */
  reindexUnique(type: ObjectType): void {
    const index = this.unique[type];
    index.clear();
    for (const p of this.uniqueProperties(type)) index.set(p.name, new Map());
    for (const r of this.objects[type].values()) {
      if (r.archived) continue;
      for (const [name, values] of index) {
        const v = r.props[name];
        if (v !== undefined) values.set(v, r.id);
      }
    }
  }

  toJSON(): PortalSnapshot {
    const assoc: PortalSnapshot['associations'] = [];
    for (const [dealId, companies] of this.dealCompanies) {
      for (const [companyId, types] of companies) assoc.push([dealId, companyId, [...types]]);
    }
    return {
      portalId: this.portalId,
      appId: this.appId,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      privateAppToken: this.privateAppToken,
      tokenTtlSeconds: this.tokenTtlSeconds,
      rateLimit: this.rateLimit,
      searchRateLimit: this.searchRateLimit,
      searchLagMs: this.searchLagMs,
      webhook: this.webhook,
      objects: perType((t) => [...this.objects[t].values()]),
      merged: perType((t) => [...this.merged[t].entries()]),
      associations: assoc,
      properties: perType((t) => [...this.properties[t].values()]),
      groups: perType((t) => [...this.groups[t].values()]),
      owners: [...this.owners.values()],
      pipelines: [...this.pipelines.values()],
      subscriptionIds: [...this.subscriptionIds.entries()],
      webhookQueue: this.webhookQueue,
      stats: this.stats,
    };
  }

  static fromJSON(s: PortalSnapshot, at: number): Portal {
    const p = new Portal(s, at);
    p.tokenTtlSeconds = s.tokenTtlSeconds;
    p.setRateLimit(s.rateLimit);
    p.setSearchRateLimit(s.searchRateLimit);
    p.searchLagMs = s.searchLagMs ?? 0;
    p.webhook = structuredClone(s.webhook);
    for (const t of OBJECT_TYPES) {
      p.properties[t].clear();
      for (const prop of s.properties[t]) p.properties[t].set(prop.name, structuredClone(prop));
      p.groups[t].clear();
      for (const g of s.groups[t]) p.groups[t].set(g.name, { ...g });
      for (const r of s.objects[t]) p.objects[t].set(r.id, structuredClone(r));
      for (const [from, to] of s.merged[t]) p.merged[t].set(from, to);
      p.reindexUnique(t);
    }
    for (const [dealId, companyId, types] of s.associations) {
      let m = p.dealCompanies.get(dealId);
      if (!m) p.dealCompanies.set(dealId, (m = new Map()));
      m.set(companyId, new Set(types));
      let rev = p.companyDeals.get(companyId);
      if (!rev) p.companyDeals.set(companyId, (rev = new Set()));
      rev.add(dealId);
    }
    for (const o of s.owners) p.owners.set(o.id, structuredClone(o));
    p.pipelines.clear();
    for (const pl of s.pipelines) p.pipelines.set(pl.id, structuredClone(pl));
    for (const [k, v] of s.subscriptionIds) p.subscriptionIds.set(k, v);
    p.webhookQueue = structuredClone(s.webhookQueue);
    p.stats = structuredClone(s.stats);
    return p;
  }
}

export interface PortalSnapshot extends PortalCredentials {
  tokenTtlSeconds: number;
  rateLimit: LimitConfig;
  searchRateLimit: LimitConfig;
  searchLagMs: number;
  webhook: WebhookSettings;
  objects: PerType<CrmRecord[]>;
  merged: PerType<Array<[string, string]>>;
  associations: Array<[dealId: string, companyId: string, typeIds: number[]]>;
  properties: PerType<PropertyDef[]>;
  groups: PerType<GroupDef[]>;
  owners: OwnerDef[];
  pipelines: PipelineDef[];
  subscriptionIds: Array<[string, number]>;
  webhookQueue: WebhookEvent[];
  stats: PortalStats;
}
