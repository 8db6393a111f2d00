// Two schemas per entity (STYLE.md 2): HubSpot's wire shape, parsed with zod at the adapter edge, and
// ours (the canonical CrmOpportunity / CrmAccount / … of crm-adapter.ts, as schemas in ../crm-shapes.ts),
// with the mappers between them.
// Nothing past the adapter sees a HubSpot property name except inside `fields` records.
import { z } from 'zod';
import { normaliseDomain } from '../../domain/domain-name';
import type { ChangeOrigin, CrmAccount, CrmFieldInfo, CrmOpportunity, CrmOwner, CrmPipelineInfo } from '../crm-adapter';
import { crmAccountSchema, crmFieldInfoSchema, crmOpportunitySchema, crmOwnerSchema, crmPipelineSchema } from '../crm-shapes';
import { REGISTRATION_ID_PROPERTY } from './hubspot-schema';

// ---------------------------------------------------------------------------------------------------
// Wire shapes (what HubSpot sends). Lenient where HubSpot is inconsistent (ids as numbers or strings),
// strict where we depend on a field.

const wireId = z.union([z.string(), z.number()]).transform(String);
const wireValue = z
  .union([z.string(), z.number(), z.boolean(), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined ? null : String(v)));

export const hsHistoryEntryWire = z.object({
  value: z.string().nullable().optional(),
  timestamp: z.string(),
  sourceType: z.string().optional(),
  sourceId: z.string().nullable().optional(),
  updatedByUserId: z.union([z.number(), z.string()]).nullable().optional(),
});

const v3AssociationsWire = z.record(
  z.string(),
  z.object({ results: z.array(z.object({ id: wireId, type: z.string().optional() })).default([]) }),
);

/** SimplePublicObject (with history and v3 associations when asked for). */
export const hsObjectWire = z.object({
  id: wireId,
  properties: z.record(z.string(), wireValue).default({}),
  propertiesWithHistory: z.record(z.string(), z.array(hsHistoryEntryWire)).optional(),
  associations: v3AssociationsWire.optional(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  archived: z.boolean().optional(),
  objectWriteTraceId: z.string().optional(),
});
export type HsObject = z.infer<typeof hsObjectWire>;

/** StandardError of a batch answer. `context` maps to arrays of strings (ids, trace ids, names). */
export const hsBatchErrorWire = z.object({
  status: z.string().optional(),
  category: z.string().optional(),
  subCategory: z.unknown().optional(),
  message: z.string().optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  objectWriteTraceId: z.string().optional(),
});
export type HsBatchError = z.infer<typeof hsBatchErrorWire>;

/** The strings under `context[key]` of a batch error. */
export function errorContext(e: HsBatchError, key: string): string[] {
  const v = e.context?.[key];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}

export function hsBatchWire<T extends z.ZodTypeAny>(item: T) {
  return z.object({
    status: z.string().optional(),
    results: z.array(item).default([]),
    numErrors: z.number().optional(),
    errors: z.array(hsBatchErrorWire).default([]),
  });
}

const pagingWire = z.object({ next: z.object({ after: z.string() }).optional() }).optional();

export function hsPageWire<T extends z.ZodTypeAny>(item: T) {
  return z.object({ results: z.array(item).default([]), paging: pagingWire });
}

export const hsSearchWire = z.object({ total: z.number(), results: z.array(hsObjectWire).default([]), paging: pagingWire });

export const hsPropertyWire = z.object({
  name: z.string(),
  label: z.string().default(''),
  type: z.string(),
  fieldType: z.string().optional(),
  groupName: z.string().optional(),
  options: z.array(z.object({ label: z.string(), value: z.string(), hidden: z.boolean().optional() })).default([]),
  calculated: z.boolean().optional(),
  hasUniqueValue: z.boolean().optional(),
  modificationMetadata: z.object({ readOnlyValue: z.boolean().optional() }).optional(),
  archived: z.boolean().optional(),
});
export type HsProperty = z.infer<typeof hsPropertyWire>;

export const hsPropertyGroupWire = z.object({ name: z.string(), label: z.string().optional(), archived: z.boolean().optional() });

export const hsStageWire = z.object({
  id: z.string(),
  label: z.string(),
  displayOrder: z.number().default(0),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  archived: z.boolean().optional(),
});

export const hsPipelineWire = z.object({
  id: z.string(),
  label: z.string(),
  displayOrder: z.number().default(0),
  stages: z.array(hsStageWire).default([]),
  archived: z.boolean().optional(),
});
export type HsPipeline = z.infer<typeof hsPipelineWire>;

export const hsOwnerWire = z.object({
  id: wireId,
  email: z.string().nullable().optional(),
  firstName: z.string().nullable().optional(),
  lastName: z.string().nullable().optional(),
  userId: z.union([z.number(), z.string()]).nullable().optional(),
  teams: z.array(z.object({ id: wireId, name: z.string().optional(), primary: z.boolean().optional() })).default([]),
  archived: z.boolean().optional(),
});
export type HsOwner = z.infer<typeof hsOwnerWire>;

/** v4 batch association read: per `from` id, the associated ids with their type ids. */
export const hsAssociationsBatchWire = hsBatchWire(
  z.object({
    from: z.object({ id: wireId }),
    to: z
      .array(
        z.object({
          toObjectId: wireId,
          associationTypes: z.array(z.object({ category: z.string().optional(), typeId: z.number(), label: z.string().nullable().optional() })).default([]),
        }),
      )
      .default([]),
  }),
);

/** v4 batch association create answer (we only need the errors). */
export const hsAssociationCreateWire = hsBatchWire(z.unknown());

/** Token endpoint answer: snake_case on the wire (`/oauth/2026-03/token`, `/oauth/v1/token`); camelCase accepted too. */
export const hsTokenWire = z.union([
  z
    .object({ access_token: z.string().min(1), refresh_token: z.string().min(1).optional(), expires_in: z.number(), token_type: z.string().optional() })
    .transform((t) => ({ accessToken: t.access_token, refreshToken: t.refresh_token ?? null, expiresIn: t.expires_in })),
  z
    .object({ accessToken: z.string().min(1), refreshToken: z.string().min(1).optional(), expiresIn: z.number() })
    .transform((t) => ({ accessToken: t.accessToken, refreshToken: t.refreshToken ?? null, expiresIn: t.expiresIn })),
]);

/** GET /oauth/v1/access-tokens/{token}. */
export const hsAccessTokenInfoWire = z.object({
  hub_id: wireId,
  app_id: wireId.nullable().optional(),
  scopes: z.array(z.string()).default([]),
  expires_in: z.number().optional(),
  user_id: wireId.nullable().optional(),
  token_type: z.string().optional(),
});

// ---------------------------------------------------------------------------------------------------
// Mappers: wire → ours.

/** The deal properties a CrmOpportunity is built from (asked for on every read). */
export const OPPORTUNITY_PROPERTIES = [
  'dealname', 'amount', 'deal_currency_code', 'closedate', 'pipeline', 'dealstage', 'hubspot_owner_id', REGISTRATION_ID_PROPERTY,
  'hs_lastmodifieddate', 'hs_is_closed', 'hs_is_closed_won', 'hs_merged_object_ids',
] as const;

/** The company properties a CrmAccount is built from. */
export const ACCOUNT_PROPERTIES = [
  'name', 'domain', 'website', 'hs_additional_domains', 'country', 'hubspot_owner_id', 'lifecyclestage', 'hs_lastmodifieddate', 'hs_merged_object_ids',
] as const;

/** The primary deal→company association type (HUBSPOT_DEFINED). */
export const DEAL_TO_COMPANY_PRIMARY = 5;

const empty = (v: string | null | undefined): string | null => (v === undefined || v === null || v === '' ? null : v);

/** An ISO timestamp from HubSpot's datetime values (ISO strings or epoch milliseconds). */
export function toIso(v: string | null | undefined): string | null {
  const s = empty(v);
  if (s === null) return null;
  const ms = /^-?\d+$/.test(s) ? Number(s) : Date.parse(s);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** YYYY-MM-DD (UTC) from a HubSpot date or datetime value. */
export function toDateOnly(v: string | null | undefined): string | null {
  const s = empty(v);
  if (s === null) return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return s;
  return toIso(s)?.slice(0, 10) ?? null;
}

function toNumber(v: string | null | undefined): number | null {
  const s = empty(v);
  if (s === null) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

const splitIds = (v: string | null | undefined): string[] => (empty(v) ?? '').split(';').map((s) => s.trim()).filter(Boolean);

/** Who made a change, from a propertiesWithHistory entry. `appId` is ours (null when unknown). */
export function changeOriginOf(entry: z.infer<typeof hsHistoryEntryWire>, appId: string | null): ChangeOrigin {
  const type = entry.sourceType ?? 'UNKNOWN';
  const sourceId = entry.sourceId ?? null;
  if (type === 'INTEGRATION' && appId !== null && sourceId === appId) return { kind: 'self' };
  if (type === 'CRM_UI') {
    const m = sourceId ? /^userId:(\d+)$/.exec(sourceId) : null;
    const userId = m?.[1] ?? (entry.updatedByUserId !== undefined && entry.updatedByUserId !== null ? String(entry.updatedByUserId) : null);
    if (userId) return { kind: 'user', userId };
  }
  return { kind: 'other', source: sourceId ? `${type}:${sourceId}` : type };
}

/** Company ids of v3 `associations.companies`, primary first, without duplicates. */
export function companyIdsFromV3(associations: HsObject['associations']): string[] {
  const results = associations?.companies?.results ?? associations?.company?.results ?? [];
  const primary = results.filter((r) => r.type === 'deal_to_company').map((r) => r.id);
  return [...new Set([...primary, ...results.map((r) => r.id)])];
}

/** Company ids of one v4 batch association result, primary (type 5) first, without duplicates. */
export function companyIdsFromV4(to: Array<{ toObjectId: string; associationTypes: Array<{ typeId: number }> }>): string[] {
  const primary = to.filter((t) => t.associationTypes.some((a) => a.typeId === DEAL_TO_COMPANY_PRIMARY)).map((t) => t.toObjectId);
  return [...new Set([...primary, ...to.map((t) => t.toObjectId)])];
}

export interface OpportunityContext {
  /** The CRM field names the caller asked for (mapping fields). */
  fields: readonly string[];
  accountExternalIds: string[];
  /** Our app id, to recognise our own changes in the history. */
  appId: string | null;
}

export function toCrmOpportunity(deal: HsObject, ctx: OpportunityContext): CrmOpportunity {
  const p = deal.properties;
  const fields: Record<string, string | null> = {};
  for (const name of ctx.fields) fields[name] = empty(p[name]);
  const out: CrmOpportunity = {
    externalId: deal.id,
    registrationId: empty(p[REGISTRATION_ID_PROPERTY]),
    name: p.dealname ?? '',
    amount: toNumber(p.amount),
    currency: empty(p.deal_currency_code),
    closeDate: toDateOnly(p.closedate),
    pipelineId: empty(p.pipeline),
    stageId: empty(p.dealstage),
    isClosed: p.hs_is_closed === 'true',
    isWon: p.hs_is_closed_won === 'true',
    ownerId: empty(p.hubspot_owner_id),
    accountExternalIds: ctx.accountExternalIds,
    fields,
    updatedAt: toIso(p.hs_lastmodifieddate) ?? toIso(deal.updatedAt) ?? new Date(0).toISOString(),
    mergedIds: splitIds(p.hs_merged_object_ids),
  };
  if (deal.propertiesWithHistory) {
    const changes: NonNullable<CrmOpportunity['fieldChanges']> = {};
    for (const name of ctx.fields) {
      const entries = deal.propertiesWithHistory[name] ?? [];
      let newest: (typeof entries)[number] | undefined;
      for (const e of entries) if (!newest || Date.parse(e.timestamp) > Date.parse(newest.timestamp)) newest = e;
      if (newest) changes[name] = { at: toIso(newest.timestamp) ?? newest.timestamp, origin: changeOriginOf(newest, ctx.appId) };
    }
    out.fieldChanges = changes;
  }
  return crmOpportunitySchema.parse(out);
}

/** Registrable domains of a company: domain, website and hs_additional_domains, normalised, deduplicated. */
export function companyDomains(p: HsObject['properties']): string[] {
  const raw = [p.domain, p.website, ...(empty(p.hs_additional_domains) ?? '').split(';')];
  const out = new Set<string>();
  for (const r of raw) {
    const s = empty(r?.trim());
    if (s === null) continue;
    const n = normaliseDomain(s);
    if (n.ok) out.add(n.domain);
  }
  return [...out];
}

export function toCrmAccount(company: HsObject): CrmAccount {
  const p = company.properties;
  return crmAccountSchema.parse({
    externalId: company.id,
    name: p.name ?? '',
    domains: companyDomains(p),
    country: empty(p.country),
    ownerId: empty(p.hubspot_owner_id),
    isCustomer: p.lifecyclestage === 'customer',
    updatedAt: toIso(p.hs_lastmodifieddate) ?? toIso(company.updatedAt) ?? new Date(0).toISOString(),
    mergedIds: splitIds(p.hs_merged_object_ids),
  });
}

export function toCrmOwner(o: HsOwner): CrmOwner {
  const name = [o.firstName, o.lastName].filter((s): s is string => typeof s === 'string' && s.trim() !== '').join(' ');
  return crmOwnerSchema.parse({
    id: o.id,
    name: name || null,
    email: empty(o.email),
    teamIds: o.teams.map((t) => t.id),
    userId: o.userId === undefined || o.userId === null ? null : String(o.userId),
  });
}

const FIELD_TYPES: Record<string, CrmFieldInfo['type']> = {
  string: 'string',
  phone_number: 'string',
  number: 'number',
  date: 'date',
  datetime: 'datetime',
  enumeration: 'enumeration',
  bool: 'boolean',
  boolean: 'boolean',
};

export function toCrmFieldInfo(p: HsProperty): CrmFieldInfo {
  const type = FIELD_TYPES[p.type] ?? 'string';
  const info: CrmFieldInfo = {
    name: p.name,
    label: p.label,
    type,
    readOnly: p.modificationMetadata?.readOnlyValue === true || p.calculated === true,
    unique: p.hasUniqueValue === true,
  };
  if (type === 'enumeration' || p.options.length > 0) info.options = p.options.filter((o) => o.hidden !== true).map((o) => ({ value: o.value, label: o.label }));
  return crmFieldInfoSchema.parse(info);
}

export function toCrmPipeline(p: HsPipeline): CrmPipelineInfo {
  const stages = p.stages
    .filter((s) => s.archived !== true)
    .map((s) => {
      const isClosed = s.metadata.isClosed === 'true';
      const probability = Number(s.metadata.probability);
      return { id: s.id, label: s.label, isClosed, isWon: isClosed && probability === 1, order: s.displayOrder };
    })
    .sort((a, b) => a.order - b.order);
  return crmPipelineSchema.parse({ id: p.id, label: p.label, stages });
}
