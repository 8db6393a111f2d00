// One Salesforce org: its settings, connected app, tables of records, unique indexes, API usage and
// change-event log. `OrgData` is the JSON-serialisable part; indexes and the schema are derived from it.
import { buildSchema, type OrgSchema, type RecordTypeInfo, type SObjectDef, type StageInfo } from './schema';
import type { ChangeEvent } from './change-events';

export type Row = Record<string, unknown> & { Id: string; IsDeleted?: boolean };

export interface OrgSettings {
  dailyApiLimit: number;
  tokenTtlSeconds: number;
  withDealregFields: boolean;
  /** How many change events are retained (the oldest are dropped first). */
  eventRetention: number;
  /** Change events older than this are dropped too (Salesforce keeps 72 hours). */
  eventRetentionHours: number;
  /** Open query cursors per user; opening one more invalidates the oldest (Salesforce: 10). */
  maxOpenCursors: number;
  recordTypes: Record<string, RecordTypeInfo[]>;
}

export interface ConnectedApp {
  clientId: string;
  clientSecret: string;
  /** PEM (certificate or public key) the JWT bearer assertions must be signed for. */
  jwtCertificate: string | null;
  /** Allowed callback URLs; empty = any. */
  redirectUris: string[];
}

export interface OrgStats {
  apiRequests: number;
  limitExceeded: number;
  faultsServed: number;
  byStatus: Record<string, number>;
}

export interface OrgData {
  id: string;
  name: string;
  createdAt: number;
  settings: OrgSettings;
  app: ConnectedApp;
  integrationUserId: string;
  tables: Record<string, Row[]>;
  /** API requests per UTC hour: [hourIndex, count], the last 24 hours make the rolling daily usage. */
  usage: Array<[number, number]>;
  stats: OrgStats;
  events: { log: ChangeEvent[]; nextReplayId: number };
}

export const TABLES = ['User', 'Account', 'Opportunity', 'Partner', 'OpportunityPartner', 'OpportunityStage'] as const;

export class Org {
  readonly id: string;
  readonly tables = new Map<string, Map<string, Row>>();
  private schemaCache: OrgSchema | null = null;
  private stageCache: Map<string, Row> | null = null;
  private readonly uniqueFieldCache = new Map<string, string[]>();
  /** `Sobject.Field` → lower-cased value → record id (live records only). */
  private readonly unique = new Map<string, Map<string, string>>();
  events: { log: ChangeEvent[]; nextReplayId: number };

  constructor(readonly data: Omit<OrgData, 'tables' | 'events'>, tables: Record<string, Row[]>, events: OrgData['events']) {
    this.id = data.id;
    for (const name of TABLES) this.tables.set(name, new Map((tables[name] ?? []).map((r) => [r.Id, r])));
    this.events = events;
    this.rebuildIndexes();
  }

  get settings(): OrgSettings {
    return this.data.settings;
  }

  get schema(): OrgSchema {
    if (!this.schemaCache) {
      const stages: StageInfo[] = [...this.table('OpportunityStage').values()].map((r) => ({
        ApiName: String(r.ApiName),
        MasterLabel: String(r.MasterLabel),
        IsActive: r.IsActive === true,
        SortOrder: Number(r.SortOrder ?? 0),
        DefaultProbability: Number(r.DefaultProbability ?? 0),
      }));
      this.schemaCache = buildSchema({ withDealregFields: this.settings.withDealregFields, recordTypes: this.settings.recordTypes, stages });
    }
    return this.schemaCache;
  }

  invalidateSchema(): void {
    this.schemaCache = null;
    this.stageCache = null;
    this.uniqueFieldCache.clear();
  }

  /** The OpportunityStage row behind a StageName value. */
  stage(apiName: string): Row | undefined {
    if (!this.stageCache) {
      this.stageCache = new Map();
      for (const r of this.table('OpportunityStage').values()) this.stageCache.set(String(r.ApiName), r);
    }
    return this.stageCache.get(apiName);
  }

  sobject(name: string): SObjectDef | undefined {
    return this.schema.get(name.toLowerCase());
  }

  table(name: string): Map<string, Row> {
    const t = this.tables.get(name);
    if (!t) throw new Error(`no table ${name}`);
    return t;
  }

  /** Finds a live record by id in any table. */
  findAnywhere(id: string): { sobject: string; row: Row } | null {
    for (const [name, t] of this.tables) {
      const row = t.get(id);
      if (row && name !== 'OpportunityPartner') return { sobject: name, row };
    }
    return null;
  }

  private uniqueFields(sobject: string): string[] {
    let list = this.uniqueFieldCache.get(sobject);
    if (!list) {
      const def = this.sobject(sobject);
      list = def ? def.fields.filter((f) => f.unique).map((f) => f.name) : [];
      this.uniqueFieldCache.set(sobject, list);
    }
    return list;
  }

  rebuildIndexes(): void {
    this.unique.clear();
    for (const [name, t] of this.tables) for (const row of t.values()) this.indexRow(name, null, row);
  }

  /** Keeps the unique indexes in step with a row change (null = absent or deleted). */
  indexRow(sobject: string, before: Row | null, after: Row | null): void {
    for (const f of this.uniqueFields(sobject)) {
      const key = `${sobject}.${f}`;
      let idx = this.unique.get(key);
      if (!idx) {
        idx = new Map();
        this.unique.set(key, idx);
      }
      const b = before && !before.IsDeleted ? before[f] : null;
      const a = after && !after.IsDeleted ? after[f] : null;
      if (b === a) continue;
      if (typeof b === 'string' && idx.get(b.toLowerCase()) === before!.Id) idx.delete(b.toLowerCase());
      if (typeof a === 'string') idx.set(a.toLowerCase(), after!.Id);
    }
  }

  findByUnique(sobject: string, field: string, value: string): Row | undefined {
    const id = this.unique.get(`${sobject}.${field}`)?.get(value.toLowerCase());
    return id ? this.table(sobject).get(id) : undefined;
  }

  /** The rows of a table. The sObject's schema may lack fields a row still carries (e.g. dealreg fields). */
  rows(sobject: string): IterableIterator<Row> {
    return this.table(sobject).values();
  }

  toData(): OrgData {
    const tables: Record<string, Row[]> = {};
    for (const [name, t] of this.tables) tables[name] = [...t.values()];
    return { ...this.data, tables, events: this.events };
  }
}
