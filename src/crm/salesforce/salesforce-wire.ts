// Two schemas per entity (STYLE.md 2): Salesforce's wire shapes, parsed with zod at the adapter edge, and
// the mappers to ours (CrmOpportunity, CrmAccount, … of crm-adapter.ts, checked with ../crm-shapes.ts).
// Nothing past the adapter sees a Salesforce field API name except inside `fields` records and
// sync-mapping configuration.
import { z } from 'zod';
import { normaliseDomain } from '../../domain/domain-name';
import type { CrmAccount, CrmFieldInfo, CrmOpportunity, CrmOwner, CrmPipelineInfo, CrmStageInfo } from '../crm-adapter';
import { crmAccountSchema, crmOpportunitySchema } from '../crm-shapes';
import { toId18 } from './salesforce-ids';
import { SALESFORCE_DEFAULT_PIPELINE } from './salesforce-mapping-defaults';

// ---------------------------------------------------------------------------------------------------
// Wire shapes.

/** An id as Salesforce sends it, in our 18-char form. */
const wireId = z.string().transform((s, ctx) => {
  const id = toId18(s);
  if (id === null) {
    ctx.addIssue({ code: 'custom', message: `not a Salesforce id: ${s.slice(0, 40)}` });
    return z.NEVER;
  }
  return id;
});
const optionalId = z.union([wireId, z.null()]).optional().transform((v) => v ?? null);

/** `GET /query` and `/query/{locator}` (and `nextRecordsUrl` pages). */
export function sfQueryWire<T extends z.ZodTypeAny>(record: T) {
  return z.object({
    totalSize: z.number(),
    done: z.boolean(),
    nextRecordsUrl: z.string().optional(),
    records: z.array(record),
  });
}

/** One result of an sObject Collections create / update / upsert, in the order of the records sent. */
export const sfSaveResultWire = z.object({
  id: z.string().nullable().optional(),
  success: z.boolean(),
  created: z.boolean().optional(),
  errors: z
    .array(z.object({ statusCode: z.string().optional(), message: z.string().optional(), fields: z.array(z.string()).optional() }))
    .default([]),
});
export type SfSaveResult = z.infer<typeof sfSaveResultWire>;
export const sfSaveResultsWire = z.array(sfSaveResultWire);

export const sfPicklistValueWire = z.object({ active: z.boolean(), label: z.string().nullable(), value: z.string() });

export const sfFieldWire = z.object({
  name: z.string(),
  label: z.string().default(''),
  type: z.string(),
  createable: z.boolean().default(false),
  updateable: z.boolean().default(false),
  calculated: z.boolean().default(false),
  externalId: z.boolean().default(false),
  unique: z.boolean().default(false),
  picklistValues: z.array(sfPicklistValueWire).default([]),
});
export type SfField = z.infer<typeof sfFieldWire>;

export const sfRecordTypeInfoWire = z.object({
  recordTypeId: z.string(),
  name: z.string(),
  developerName: z.string().optional(),
  active: z.boolean().default(true),
  available: z.boolean().default(true),
  master: z.boolean().default(false),
});

/** `GET /sobjects/{type}/describe`: the parts dealreg reads. */
export const sfDescribeWire = z.object({
  name: z.string(),
  fields: z.array(sfFieldWire),
  recordTypeInfos: z.array(sfRecordTypeInfoWire).default([]),
});
export type SfDescribe = z.infer<typeof sfDescribeWire>;

export const sfStageRowWire = z.object({
  ApiName: z.string(),
  MasterLabel: z.string(),
  IsClosed: z.boolean(),
  IsWon: z.boolean(),
  SortOrder: z.number().nullable(),
});

export const sfUserRowWire = z.object({
  Id: wireId,
  Name: z.string().nullable().optional(),
  Email: z.string().nullable().optional(),
  UserRoleId: optionalId,
  UserType: z.string().nullable().optional(),
});
export type SfUserRow = z.infer<typeof sfUserRowWire>;

/** The Opportunity fields a CrmOpportunity is built from; RecordTypeId, CurrencyIsoCode and the registration id only when the org has them. */
export const OPPORTUNITY_BASE_FIELDS = [
  'Id', 'Name', 'Amount', 'CloseDate', 'StageName', 'IsClosed', 'IsWon', 'OwnerId', 'AccountId', 'LastModifiedDate', 'SystemModstamp',
] as const;
export const OPPORTUNITY_OPTIONAL_FIELDS = ['RecordTypeId', 'CurrencyIsoCode'] as const;

export const sfOpportunityRowWire = z.looseObject({
  Id: wireId,
  Name: z.string().nullable(),
  Amount: z.number().nullable(),
  CloseDate: z.string().nullable(),
  StageName: z.string().nullable(),
  IsClosed: z.boolean(),
  IsWon: z.boolean(),
  OwnerId: optionalId,
  AccountId: optionalId,
  SystemModstamp: z.string(),
  RecordTypeId: optionalId,
  CurrencyIsoCode: z.string().nullable().optional(),
});
export type SfOpportunityRow = z.infer<typeof sfOpportunityRowWire>;

export const ACCOUNT_FIELDS = ['Id', 'Name', 'Website', 'BillingCountry', 'OwnerId', 'Type', 'SystemModstamp'] as const;

export const sfAccountRowWire = z.object({
  Id: wireId,
  Name: z.string().nullable(),
  Website: z.string().nullable().optional(),
  BillingCountry: z.string().nullable().optional(),
  OwnerId: optionalId,
  Type: z.string().nullable().optional(),
  SystemModstamp: z.string(),
});
export type SfAccountRow = z.infer<typeof sfAccountRowWire>;

/** `GET /services/oauth2/userinfo` (OpenID Connect). */
export const sfUserInfoWire = z.object({ organization_id: wireId, user_id: wireId });

/** `GET …/sandbox/change-events`: CDC events as JSON (see salesforce-change-events.ts). */
export const sfChangeEventHeaderWire = z.object({
  entityName: z.string(),
  recordIds: z.array(z.string()),
  changeType: z.string(),
  changeOrigin: z.string().default(''),
  commitTimestamp: z.number(),
  commitUser: z.string().default(''),
  changedFields: z.array(z.string()).default([]),
  nulledFields: z.array(z.string()).default([]),
});
export type SfChangeEventHeader = z.infer<typeof sfChangeEventHeaderWire>;

export const sfChangeEventWire = z.object({
  replayId: z.number(),
  payload: z.looseObject({ ChangeEventHeader: sfChangeEventHeaderWire }),
});
export type SfChangeEvent = z.infer<typeof sfChangeEventWire>;

export const sfChangeFeedWire = z.object({
  events: z.array(sfChangeEventWire),
  nextReplayId: z.number(),
  latestReplayId: z.number().optional(),
  hasMore: z.boolean().default(false),
});

/** The 400 INVALID_REPLAY_ID body names where the feed stands now. */
export const sfInvalidReplayWire = z.array(z.looseObject({ errorCode: z.literal('INVALID_REPLAY_ID'), latestReplayId: z.number().optional() })).min(1);

// ---------------------------------------------------------------------------------------------------
// Mappers: wire → ours.

const empty = (v: string | null | undefined): string | null => (v === undefined || v === null || v === '' ? null : v);

/** ISO (`…Z`) from Salesforce's REST datetime (`2026-01-31T09:15:00.000+0000`). */
export function toIso(v: string | null | undefined): string | null {
  const s = empty(v);
  if (s === null) return null;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** A REST value as the raw string dealreg's mappings compare (null when empty; relationship objects are not values). */
export function rawValue(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

export interface OpportunityContext {
  /** Requested field name (as the mapping spells it) → the name describe spells it with, or null when the org has no such field. */
  fields: ReadonlyMap<string, string | null>;
  registrationIdField: string | null;
}

export function toCrmOpportunity(row: SfOpportunityRow, ctx: OpportunityContext): CrmOpportunity {
  const values = row as Record<string, unknown>;
  const fields: Record<string, string | null> = {};
  for (const [asked, actual] of ctx.fields) fields[asked] = actual === null ? null : rawValue(values[actual]);
  const closeDate = empty(row.CloseDate);
  return crmOpportunitySchema.parse({
    externalId: row.Id,
    registrationId: ctx.registrationIdField ? rawValue(values[ctx.registrationIdField]) : null,
    name: row.Name ?? '',
    amount: row.Amount,
    currency: empty(row.CurrencyIsoCode),
    closeDate: closeDate === null ? null : closeDate.slice(0, 10),
    pipelineId: row.RecordTypeId ?? SALESFORCE_DEFAULT_PIPELINE,
    stageId: empty(row.StageName),
    isClosed: row.IsClosed,
    isWon: row.IsWon,
    ownerId: row.OwnerId,
    accountExternalIds: row.AccountId ? [row.AccountId] : [],
    fields,
    updatedAt: toIso(row.SystemModstamp) ?? new Date(0).toISOString(),
    mergedIds: [],
  });
}

/** The registrable domain of an account's Website; free-mail and unusable values are not company domains. */
export function accountDomains(website: string | null | undefined): string[] {
  const s = empty(website?.trim());
  if (s === null) return [];
  const n = normaliseDomain(s);
  return n.ok ? [n.domain] : [];
}

export function toCrmAccount(row: SfAccountRow): CrmAccount {
  return crmAccountSchema.parse({
    externalId: row.Id,
    name: row.Name ?? '',
    domains: accountDomains(row.Website),
    country: empty(row.BillingCountry),
    ownerId: row.OwnerId,
    // Salesforce's standard Account types: "Customer - Direct", "Customer - Channel".
    isCustomer: (row.Type ?? '').startsWith('Customer'),
    updatedAt: toIso(row.SystemModstamp) ?? new Date(0).toISOString(),
    mergedIds: [],
  });
}

/** Team ids a sync mapping can name: the user's role and user type (`userType:PowerPartner` = partner community user). */
export function toCrmOwner(u: SfUserRow): CrmOwner {
  const teamIds: string[] = [];
  if (u.UserRoleId) teamIds.push(`role:${u.UserRoleId}`);
  if (u.UserType) teamIds.push(`userType:${u.UserType}`);
  return { id: u.Id, name: empty(u.Name), email: empty(u.Email), teamIds, userId: u.Id };
}

const FIELD_TYPES: Record<string, CrmFieldInfo['type']> = {
  string: 'string',
  textarea: 'string',
  email: 'string',
  url: 'string',
  phone: 'string',
  combobox: 'string',
  encryptedstring: 'string',
  id: 'string',
  currency: 'number',
  double: 'number',
  percent: 'number',
  int: 'number',
  long: 'number',
  date: 'date',
  datetime: 'datetime',
  picklist: 'enumeration',
  multipicklist: 'enumeration',
  boolean: 'boolean',
  reference: 'reference',
};

export function toCrmFieldInfo(f: SfField): CrmFieldInfo {
  const type = FIELD_TYPES[f.type] ?? 'string';
  const info: CrmFieldInfo = {
    name: f.name,
    label: f.label,
    type,
    readOnly: f.calculated || (!f.updateable && !f.createable),
    unique: f.externalId || f.unique,
  };
  if (type === 'enumeration') info.options = f.picklistValues.filter((p) => p.active).map((p) => ({ value: p.value, label: p.label ?? p.value }));
  return info;
}

/**
 * Pipelines are record types: "default" writes no RecordTypeId (the running user's default record type,
 * or Master in an org without any), then one per active, non-master Opportunity record type. Every one
 * gets the org's active stages (OpportunityStage), ordered by SortOrder.
 */
export function toPipelines(describe: SfDescribe, stageRows: Array<z.infer<typeof sfStageRowWire>>): CrmPipelineInfo[] {
  const stages: CrmStageInfo[] = stageRows
    .map((s, i) => ({ id: s.ApiName, label: s.MasterLabel, isClosed: s.IsClosed, isWon: s.IsWon, order: s.SortOrder ?? i }))
    .sort((a, b) => a.order - b.order);
  const recordTypes = describe.recordTypeInfos.filter((r) => !r.master && r.active);
  return [
    { id: SALESFORCE_DEFAULT_PIPELINE, label: 'Default', stages },
    ...recordTypes.map((r) => ({ id: toId18(r.recordTypeId) ?? r.recordTypeId, label: r.name, stages })),
  ];
}
