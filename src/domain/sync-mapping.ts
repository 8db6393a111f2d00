// Sync mappings (RevOps): which registration fields go to which CRM fields, in which direction, who owns
// each field, which pipeline stages registration statuses map to, and how owners count as direct sales.
// Pure: the schema, the defaults' shape, and validation against a CRM's describe (fields and stages).
// CRM field names here are configuration data; the CRM-specific defaults live in src/crm/<name>/.
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { REGISTRATION_STATUSES, type RegistrationStatus } from './types';
import type { CrmDescribe, CrmFieldInfo } from '../crm/crm-adapter';

/** Registration facts a mapping can read (outbound). */
export const REGISTRATION_FIELDS = [
  'registration.id',
  'registration.url',
  'status',
  'source',
  'company.name',
  'company.domain',
  'company.country',
  'contact.name',
  'contact.email',
  'amount.value',
  'amount.currency',
  'expectedCloseDate',
  'notes',
  'partner.name',
  'partner.type',
  'partner.tier',
  'protection.startsAt',
  'protection.endsAt',
  'verdict.outcome',
  'verdict.summary',
] as const;
export type RegistrationField = (typeof REGISTRATION_FIELDS)[number];

/** Registration fields a CRM change may write back (inbound). */
export const INBOUND_FIELDS = ['amount.value', 'amount.currency', 'expectedCloseDate'] as const satisfies readonly RegistrationField[];
export type InboundField = (typeof INBOUND_FIELDS)[number];

export const TRANSFORMS = ['none', 'number', 'date', 'datetime', 'upper', 'lower'] as const;
export type Transform = (typeof TRANSFORMS)[number];

/**
 * to_crm: dealreg writes it; from_crm: the CRM's changes flow back; both: either way.
 * owner (who wins): dealreg (a CRM edit is undone on the next push), crm (written on create only; CRM
 * edits flow back when the direction allows), latest (the most recent change wins on either side).
 */
const fieldMapping = z
  .object({
    registrationField: z.enum(REGISTRATION_FIELDS).optional(),
    /** Outbound only: e.g. "{company.name} ({partner.name})". Placeholders are registration fields. */
    template: z.string().min(1).max(500).optional(),
    crmField: z.string().trim().min(1).max(200),
    direction: z.enum(['to_crm', 'from_crm', 'both']).default('to_crm'),
    owner: z.enum(['dealreg', 'crm', 'latest']).optional(),
    transform: z.enum(TRANSFORMS).default('none'),
    /** Outbound value translation (e.g. status → a picklist value); unmapped values pass through. */
    valueMap: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if ((f.registrationField === undefined) === (f.template === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of registrationField or template', path: ['registrationField'] });
    }
    if (f.template !== undefined && f.direction !== 'to_crm') {
      ctx.addIssue({ code: 'custom', message: 'a template can only be written to the CRM (direction "to_crm")', path: ['direction'] });
    }
    if (f.direction !== 'to_crm' && f.registrationField !== undefined && !(INBOUND_FIELDS as readonly string[]).includes(f.registrationField)) {
      ctx.addIssue({
        code: 'custom',
        message: `${f.registrationField} cannot be changed from the CRM; fields that can: ${INBOUND_FIELDS.join(', ')}`,
        path: ['direction'],
      });
    }
    if (f.direction === 'both' && f.owner === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a two-way field needs an owner: "dealreg", "crm" or "latest"', path: ['owner'] });
    }
    if (f.direction === 'from_crm' && f.owner !== undefined && f.owner !== 'crm') {
      ctx.addIssue({ code: 'custom', message: 'a field that only flows from the CRM is owned by the CRM', path: ['owner'] });
    }
    if (f.template) {
      for (const name of templatePlaceholders(f.template)) {
        if (!(REGISTRATION_FIELDS as readonly string[]).includes(name)) {
          ctx.addIssue({ code: 'custom', message: `unknown placeholder {${name}}; known: ${REGISTRATION_FIELDS.join(', ')}`, path: ['template'] });
        }
      }
    }
  });

const statusRecord = z.partialRecord(z.enum(REGISTRATION_STATUSES), z.string().min(1));

export const syncMappingSchema = z
  .object({
    /** Which registrations get a CRM record: approved ones (default), or also those pending review. */
    createWhen: z.enum(['approved', 'submitted']).default('approved'),
    fields: z.array(fieldMapping).max(100).default([]),
    stages: z
      .object({
        pipelineId: z.string().min(1),
        /** Stage of a newly created opportunity (default: the pipeline's first open stage). */
        onCreate: z.string().min(1).optional(),
        /** Move the opportunity to this stage when the registration reaches the status. */
        byStatus: statusRecord.default({}),
        /** Stages that mean won / lost. "auto": the CRM's own closed-won / closed-lost stages. */
        wonStageIds: z.union([z.literal('auto'), z.array(z.string().min(1)).max(50)]).default('auto'),
        lostStageIds: z.union([z.literal('auto'), z.array(z.string().min(1)).max(50)]).default('auto'),
      })
      .strict(),
    accounts: z
      .object({
        /** Associate the opportunity with the CRM account matched by the registration's domain. */
        associate: z.boolean().default(true),
        /** Create the account when none matches (off by default: reps usually own account creation). */
        createIfMissing: z.boolean().default(false),
      })
      .strict()
      .default({ associate: true, createIfMissing: false }),
    /** How an account owner counts for the rules of engagement (DIRECT_OWNED_ACCOUNT). */
    owners: z
      .object({
        /**
         * Role of an owner on no partner team when no direct teams are listed. Once direct teams are
         * listed, an owner on none of the teams is "unknown" (see ownerRole).
         */
        assignedRole: z.enum(['direct', 'partner', 'unknown']).default('direct'),
        /** Role of an account without an owner. */
        unassignedRole: z.enum(['direct', 'partner', 'unknown']).default('unknown'),
        directTeamIds: z.array(z.string().min(1)).max(200).default([]),
        partnerTeamIds: z.array(z.string().min(1)).max(200).default([]),
      })
      .strict()
      .default({ assignedRole: 'direct', unassignedRole: 'unknown', directTeamIds: [], partnerTeamIds: [] }),
  })
  .strict()
  .superRefine((m, ctx) => {
    const seen = new Map<string, number>();
    m.fields.forEach((f, i) => {
      if (f.direction === 'from_crm') return;
      const prev = seen.get(f.crmField);
      if (prev !== undefined) ctx.addIssue({ code: 'custom', message: `${f.crmField} is already written by fields[${prev}]`, path: ['fields', i, 'crmField'] });
      else seen.set(f.crmField, i);
    });
    const inbound = new Map<string, number>();
    m.fields.forEach((f, i) => {
      if (f.direction === 'to_crm' || !f.registrationField) return;
      const prev = inbound.get(f.registrationField);
      if (prev !== undefined) ctx.addIssue({ code: 'custom', message: `${f.registrationField} already flows back from fields[${prev}]`, path: ['fields', i, 'registrationField'] });
      else inbound.set(f.registrationField, i);
    });
  });

export type SyncMapping = z.output<typeof syncMappingSchema>;
export type SyncMappingInput = z.input<typeof syncMappingSchema>;
export type FieldMapping = SyncMapping['fields'][number];
export type FieldOwner = 'dealreg' | 'crm' | 'latest';

export function ownerOf(f: FieldMapping): FieldOwner {
  if (f.owner) return f.owner;
  return f.direction === 'from_crm' ? 'crm' : 'dealreg';
}

export function templatePlaceholders(template: string): string[] {
  return [...template.matchAll(/\{([a-zA-Z.]+)\}/g)].map((m) => m[1]!);
}

export interface MappingIssue {
  path: (string | number)[];
  message: string;
}

/** The type a transform produces, and which CRM field types accept it. */
const ACCEPTS: Record<Transform, CrmFieldInfo['type'][]> = {
  none: ['string', 'enumeration', 'reference'],
  upper: ['string', 'enumeration'],
  lower: ['string', 'enumeration'],
  number: ['number', 'string'],
  date: ['date', 'datetime', 'string'],
  datetime: ['datetime', 'date', 'string'],
};

/** What each registration field naturally is, to catch e.g. a date written into a number field. */
const NATURAL: Partial<Record<RegistrationField, Transform>> = {
  'amount.value': 'number',
  expectedCloseDate: 'date',
  'protection.startsAt': 'date',
  'protection.endsAt': 'date',
};

/**
 * Checks a (schema-valid) mapping against what the CRM account really has. Pure; the caller fetches and
 * caches the describe. `requiredFields` are fields dealreg itself writes (e.g. the external-id field).
 */
export function validateMappingAgainst(mapping: SyncMapping, describe: CrmDescribe, requiredFields: string[] = []): MappingIssue[] {
  const issues: MappingIssue[] = [];
  const fields = new Map(describe.opportunityFields.map((f) => [f.name, f]));
  for (const name of requiredFields) {
    if (!fields.has(name)) issues.push({ path: ['fields'], message: `the CRM has no field ${name}, which dealreg needs (provision it, see README)` });
  }
  mapping.fields.forEach((f, i) => {
    const info = fields.get(f.crmField);
    if (!info) {
      issues.push({ path: ['fields', i, 'crmField'], message: `the CRM has no opportunity field "${f.crmField}"${suggest(f.crmField, [...fields.keys()])}` });
      return;
    }
    if (f.direction !== 'from_crm' && info.readOnly) issues.push({ path: ['fields', i, 'crmField'], message: `"${f.crmField}" is read-only in the CRM: it can only flow from the CRM` });
    const transform = f.transform !== 'none' ? f.transform : f.registrationField ? (NATURAL[f.registrationField] ?? 'none') : 'none';
    if (!ACCEPTS[transform].includes(info.type)) {
      issues.push({ path: ['fields', i, 'transform'], message: `"${f.crmField}" is a ${info.type} field; ${f.registrationField ?? 'the template'} with transform "${f.transform}" does not fit it` });
    }
    if (info.type === 'enumeration' && info.options && f.direction !== 'from_crm' && f.registrationField === 'status') {
      const allowed = new Set(info.options.map((o) => o.value));
      // The value as written: the valueMap first, then the transform (as desiredValue does).
      const written = (v: string) => (f.transform === 'upper' ? v.toUpperCase() : f.transform === 'lower' ? v.toLowerCase() : v);
      const missing = REGISTRATION_STATUSES.map((s) => written(f.valueMap?.[s] ?? s)).filter((v) => !allowed.has(v));
      if (missing.length > 0) issues.push({ path: ['fields', i, 'valueMap'], message: `"${f.crmField}" has no option for: ${missing.join(', ')} (add options or a valueMap)` });
    }
  });
  const pipeline = describe.pipelines.find((p) => p.id === mapping.stages.pipelineId);
  if (!pipeline) {
    issues.push({ path: ['stages', 'pipelineId'], message: `no pipeline "${mapping.stages.pipelineId}"; pipelines: ${describe.pipelines.map((p) => `${p.id} (${p.label})`).join(', ') || 'none'}` });
    return issues;
  }
  const stages = new Map(pipeline.stages.map((s) => [s.id, s]));
  const stageList = pipeline.stages.map((s) => s.id).join(', ');
  if (mapping.stages.onCreate !== undefined) {
    const s = stages.get(mapping.stages.onCreate);
    if (!s) issues.push({ path: ['stages', 'onCreate'], message: `pipeline "${pipeline.label}" has no stage "${mapping.stages.onCreate}"; stages: ${stageList}` });
    else if (s.isClosed) issues.push({ path: ['stages', 'onCreate'], message: `"${s.label}" is a closed stage: a new opportunity must start open` });
  }
  for (const [status, stageId] of Object.entries(mapping.stages.byStatus) as [RegistrationStatus, string][]) {
    const s = stages.get(stageId);
    if (!s) {
      issues.push({ path: ['stages', 'byStatus', status], message: `pipeline "${pipeline.label}" has no stage "${stageId}"; stages: ${stageList}` });
      continue;
    }
    if (status === 'won' && !(s.isClosed && s.isWon)) issues.push({ path: ['stages', 'byStatus', status], message: `"${s.label}" is not a closed-won stage` });
    if (status === 'lost' && !(s.isClosed && !s.isWon)) issues.push({ path: ['stages', 'byStatus', status], message: `"${s.label}" is not a closed-lost stage` });
    if (status === 'pending_review' || status === 'approved') {
      // The inbound sync reads a won / lost stage as the deal closing: an approved registration would close.
      const outcome = stageOutcome(mapping, { pipelines: [pipeline] }, stageId, pipeline.id);
      if (outcome === 'won' || outcome === 'lost') {
        issues.push({
          path: ['stages', 'byStatus', status],
          message: `"${s.label}" means ${outcome}: a registration that is ${status === 'approved' ? 'approved' : 'pending review'} must keep its deal open, or the sync reads the deal as closed ${outcome}`,
        });
      }
    }
  }
  for (const key of ['wonStageIds', 'lostStageIds'] as const) {
    const ids = mapping.stages[key];
    if (ids === 'auto') continue;
    ids.forEach((id, i) => {
      const s = stages.get(id);
      if (!s) issues.push({ path: ['stages', key, i], message: `pipeline "${pipeline.label}" has no stage "${id}"; stages: ${stageList}` });
      else if (!s.isClosed) issues.push({ path: ['stages', key, i], message: `"${s.label}" is an open stage; only closed stages can mean ${key === 'wonStageIds' ? 'won' : 'lost'}` });
    });
  }
  return issues;
}

/** What a stage means for a registration under this mapping. */
export function stageOutcome(mapping: SyncMapping, describe: Pick<CrmDescribe, 'pipelines'>, stageId: string | null, pipelineId: string | null): 'won' | 'lost' | 'open' | 'unknown' {
  if (!stageId) return 'unknown';
  const { wonStageIds, lostStageIds } = mapping.stages;
  if (wonStageIds !== 'auto' && wonStageIds.includes(stageId)) return 'won';
  if (lostStageIds !== 'auto' && lostStageIds.includes(stageId)) return 'lost';
  const pipelines = pipelineId ? describe.pipelines.filter((p) => p.id === pipelineId) : describe.pipelines;
  const stage = pipelines.flatMap((p) => p.stages).find((s) => s.id === stageId);
  if (!stage) return 'unknown';
  if (!stage.isClosed) return 'open';
  if (stage.isWon) return wonStageIds === 'auto' ? 'won' : 'open';
  return lostStageIds === 'auto' ? 'lost' : 'open';
}

/** The stage a new opportunity starts in: the mapping's, or the pipeline's first open stage. */
export function createStage(mapping: SyncMapping, describe: Pick<CrmDescribe, 'pipelines'> | null): string | null {
  if (mapping.stages.onCreate) return mapping.stages.onCreate;
  const pipeline = describe?.pipelines.find((p) => p.id === mapping.stages.pipelineId);
  const open = pipeline?.stages.filter((s) => !s.isClosed).sort((a, b) => a.order - b.order)[0];
  return open?.id ?? null;
}

/** An account owner's role for the rules of engagement. */
export function ownerRole(mapping: SyncMapping, owner: { id: string | null; teamIds: string[] } | null): 'direct' | 'partner' | 'unknown' {
  if (!owner?.id) return mapping.owners.unassignedRole;
  const teams = new Set(owner.teamIds);
  if (mapping.owners.partnerTeamIds.some((t) => teams.has(t))) return 'partner';
  if (mapping.owners.directTeamIds.length > 0) return mapping.owners.directTeamIds.some((t) => teams.has(t)) ? 'direct' : 'unknown';
  return mapping.owners.assignedRole;
}

/** Up to three known names close to `name`: same letters ("close_date"), containing it, or a typo away. */
function suggest(name: string, known: string[]): string {
  const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const wanted = squash(name);
  const typos = Math.max(1, Math.floor(wanted.length / 4));
  const close = known
    .map((k) => ({ k, key: squash(k), d: distance(wanted, squash(k)) }))
    .filter(({ key, d }) => d <= typos || (wanted.length >= 3 && key.length >= 3 && (key.includes(wanted) || wanted.includes(key))))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map(({ k }) => k);
  return close.length > 0 ? ` (did you mean ${close.map((c) => `"${c}"`).join(', ')}?)` : '';
}
