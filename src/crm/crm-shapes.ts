// Ours, as zod schemas: the canonical shapes of crm-adapter.ts (CrmOpportunity, CrmAccount, …), which
// every connector's mappers parse their output with, so that a mapper drifting from crm-adapter.ts fails
// loudly. The wire shapes (what each CRM sends) stay in the connector's own *-wire.ts (STYLE.md 2).
import { z } from 'zod';
import type { ChangeOrigin, CrmAccount, CrmFieldInfo, CrmOpportunity, CrmOwner, CrmPipelineInfo, CrmStageInfo } from './crm-adapter';

export const changeOriginSchema: z.ZodType<ChangeOrigin> = z.union([
  z.object({ kind: z.literal('self') }),
  z.object({ kind: z.literal('user'), userId: z.string() }),
  z.object({ kind: z.literal('other'), source: z.string() }),
]);

/** YYYY-MM-DD. */
export const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const crmOpportunitySchema: z.ZodType<CrmOpportunity> = z.object({
  externalId: z.string().min(1),
  registrationId: z.string().nullable(),
  name: z.string(),
  amount: z.number().nullable(),
  currency: z.string().nullable(),
  closeDate: isoDate.nullable(),
  pipelineId: z.string().nullable(),
  stageId: z.string().nullable(),
  isClosed: z.boolean(),
  isWon: z.boolean(),
  ownerId: z.string().nullable(),
  accountExternalIds: z.array(z.string()),
  fields: z.record(z.string(), z.string().nullable()),
  fieldChanges: z.record(z.string(), z.object({ at: z.string(), origin: changeOriginSchema })).optional(),
  updatedAt: z.string(),
  mergedIds: z.array(z.string()),
});

export const crmAccountSchema: z.ZodType<CrmAccount> = z.object({
  externalId: z.string().min(1),
  name: z.string(),
  domains: z.array(z.string()),
  country: z.string().nullable(),
  ownerId: z.string().nullable(),
  isCustomer: z.boolean(),
  updatedAt: z.string(),
  mergedIds: z.array(z.string()),
});

export const crmOwnerSchema: z.ZodType<CrmOwner> = z.object({
  id: z.string().min(1),
  name: z.string().nullable(),
  email: z.string().nullable(),
  teamIds: z.array(z.string()),
  userId: z.string().nullable(),
});

export const crmFieldInfoSchema: z.ZodType<CrmFieldInfo> = z.object({
  name: z.string(),
  label: z.string(),
  type: z.enum(['string', 'number', 'date', 'datetime', 'enumeration', 'boolean', 'reference']),
  options: z.array(z.object({ value: z.string(), label: z.string() })).optional(),
  readOnly: z.boolean(),
  unique: z.boolean(),
});

export const crmStageSchema: z.ZodType<CrmStageInfo> = z.object({
  id: z.string(),
  label: z.string(),
  isClosed: z.boolean(),
  isWon: z.boolean(),
  order: z.number(),
});

export const crmPipelineSchema: z.ZodType<CrmPipelineInfo> = z.object({ id: z.string(), label: z.string(), stages: z.array(crmStageSchema) });

/** The first three issues of a failed parse, `path: message` each, for an "unexpected body" error. */
export function zodProblem(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
