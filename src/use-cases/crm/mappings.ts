// Sync mappings (RevOps): read the one in force (a CRM's defaults until someone saves one), replace it
// with a new version after validating it against the connected CRM's real fields and stages, and
// preview what a registration would write, without writing.
import { z } from 'zod';
import { appendLedgerEvent } from '../../data/ledger';
import { activeConnections, type ConnectionRecord } from '../../data/repositories/connections';
import { findRegistration } from '../../data/repositories/registrations';
import { linksByRegistrationIds } from '../../data/repositories/crm-links';
import { accountsForDomains } from '../../data/repositories/mirror';
import { createStage, syncMappingSchema, validateMappingAgainst, type MappingIssue, type SyncMapping } from '../../domain/sync-mapping';
import { planOutbound } from '../../domain/sync-plan';
import type { CrmName } from '../../domain/types';
import { AppError, notFound, unprocessable } from '../../lib/errors';
import type { Db } from '../../data/prisma';
import { CrmError, type CrmDescribe } from '../../crm/crm-adapter';
import { cachedDescribe, connectorFor, type CrmServices } from '../../crm/crm-services';
import { actorOf, type StaffPrincipal } from '../context';
import { registrationFacts } from './registration-facts';

export interface MappingInForce {
  version: number;
  mapping: SyncMapping;
  isDefault: boolean;
  createdAt: Date | null;
  createdBy: string;
}

export async function mappingInForce(s: CrmServices, db: Db, workspaceId: string, crm: CrmName): Promise<MappingInForce> {
  const row = await db.syncMapping.findFirst({ where: { workspaceId, crm }, orderBy: { version: 'desc' } });
  if (row) {
    const parsed = syncMappingSchema.safeParse(row.body);
    if (parsed.success) return { version: row.version, mapping: parsed.data, isDefault: false, createdAt: row.createdAt, createdBy: row.createdBy };
    s.ctx.log.error({ workspaceId, crm, version: row.version }, 'stored sync mapping no longer parses; using the defaults');
  }
  return { version: 0, mapping: syncMappingSchema.parse(connectorFor(s, crm).defaultMapping()), isDefault: true, createdAt: null, createdBy: 'system' };
}

function parseMapping(body: unknown): SyncMapping {
  const r = syncMappingSchema.safeParse(body);
  if (!r.success) {
    throw unprocessable('VALIDATION_FAILED', 'The mapping is not valid: see details for each problem.', {
      issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return r.data;
}

async function activeConnection(s: CrmServices, workspaceId: string, crm: CrmName): Promise<ConnectionRecord | null> {
  return (await activeConnections(s.ctx.prisma, { workspaceId, crm }))[0] ?? null;
}

/** The CRM's describe for validation; a CRM that cannot answer is a 502 with the reason, not a silent pass. */
async function describeFor(s: CrmServices, connection: ConnectionRecord, refresh = false): Promise<CrmDescribe> {
  try {
    return await cachedDescribe(s, connection, undefined, { refresh });
  } catch (err) {
    if (err instanceof CrmError) {
      throw new AppError(502, 'CRM_UNAVAILABLE', `Could not read the ${connection.crm} fields and stages to check the mapping (${err.code}: ${err.message}). Try again shortly.`, { crmError: err.code });
    }
    throw err;
  }
}

interface Validation {
  checkedAgainst: { connectionId: string; externalAccountId: string; fetchedAt: string } | null;
  issues: MappingIssue[];
  note?: string;
}

async function validate(s: CrmServices, workspaceId: string, crm: CrmName, mapping: SyncMapping, refresh = false): Promise<Validation> {
  const connection = await activeConnection(s, workspaceId, crm);
  if (!connection) return { checkedAgainst: null, issues: [], note: `no active ${crm} connection: checked for shape only; it will be checked against the CRM when you connect` };
  const describe = await describeFor(s, connection, refresh);
  const issues = validateMappingAgainst(mapping, describe, [connectorFor(s, crm).registrationIdField]);
  return { checkedAgainst: { connectionId: connection.id, externalAccountId: connection.externalAccountId, fetchedAt: describe.fetchedAt }, issues };
}

export async function getMapping(s: CrmServices, workspaceId: string, crm: CrmName, opts: { refresh?: boolean } = {}) {
  const m = await mappingInForce(s, s.ctx.prisma, workspaceId, crm);
  const validation = await validate(s, workspaceId, crm, m.mapping, opts.refresh).catch((err: unknown) => ({
    checkedAgainst: null,
    issues: [],
    note: err instanceof AppError ? err.message : 'could not check against the CRM',
  }));
  return {
    crm,
    version: m.version,
    isDefault: m.isDefault,
    createdAt: m.createdAt?.toISOString() ?? null,
    createdBy: m.createdBy,
    mapping: m.mapping,
    validation,
    // What a mapping may name in the connected account (from the cached describe): its opportunity fields
    // and its pipelines with their stages. Null when nothing is connected.
    available: validation.checkedAgainst ? await availableIn(s, workspaceId, crm) : null,
  };
}

async function availableIn(s: CrmServices, workspaceId: string, crm: CrmName) {
  const connection = await activeConnection(s, workspaceId, crm);
  if (!connection) return null;
  const d = await describeFor(s, connection, false);
  return {
    fields: d.opportunityFields.map((f) => ({ name: f.name, label: f.label, type: f.type, readOnly: f.readOnly, ...(f.options ? { options: f.options.map((o) => o.value) } : {}) })),
    pipelines: d.pipelines.map((p) => ({ id: p.id, label: p.label, stages: p.stages.map((x) => ({ id: x.id, label: x.label, isClosed: x.isClosed, isWon: x.isWon })) })),
  };
}

export async function replaceMapping(s: CrmServices, by: StaffPrincipal, crm: CrmName, body: unknown) {
  connectorFor(s, crm);
  const mapping = parseMapping(body);
  const validation = await validate(s, by.workspaceId, crm, mapping, true);
  if (validation.issues.length > 0) {
    throw unprocessable('MAPPING_INVALID', `The mapping does not fit the connected ${crm} account: see details for each problem.`, {
      issues: validation.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      checkedAgainst: validation.checkedAgainst,
    });
  }
  const at = s.ctx.clock();
  for (let attempt = 0; ; attempt++) {
    try {
      const row = await s.ctx.prisma.$transaction(async (tx) => {
        const latest = await tx.syncMapping.findFirst({ where: { workspaceId: by.workspaceId, crm }, orderBy: { version: 'desc' }, select: { version: true } });
        const version = (latest?.version ?? 0) + 1;
        const created = await tx.syncMapping.create({ data: { workspaceId: by.workspaceId, crm, version, body: mapping as object, createdBy: `${by.kind}:${by.tokenId}` } });
        await appendLedgerEvent(tx, { workspaceId: by.workspaceId, type: 'mapping.updated', actor: actorOf(by), data: { crm, version, previousVersion: latest?.version ?? null }, at });
        return created;
      });
      return { crm, version: row.version, isDefault: false, createdAt: row.createdAt.toISOString(), createdBy: row.createdBy, mapping, validation };
    } catch (err) {
      if ((err as { code?: string }).code === 'P2002' && attempt < 3) continue;
      throw err;
    }
  }
}

export const previewSchema = z
  .object({
    registrationId: z.string().uuid(),
    /** A proposed mapping to preview instead of the one in force. */
    mapping: z.unknown().optional(),
  })
  .strict();

/** What the registration would write to the CRM under the mapping (in force or proposed), without writing. */
export async function previewMapping(s: CrmServices, by: StaffPrincipal, crm: CrmName, input: z.output<typeof previewSchema>) {
  const connector = connectorFor(s, crm);
  const mapping = input.mapping !== undefined ? parseMapping(input.mapping) : (await mappingInForce(s, s.ctx.prisma, by.workspaceId, crm)).mapping;
  const reg = await findRegistration(s.ctx.prisma, by.workspaceId, input.registrationId);
  if (!reg) throw notFound('Registration');
  const connection = await activeConnection(s, by.workspaceId, crm);
  const describe = connection ? await describeFor(s, connection) : null;
  const link = connection ? ((await linksByRegistrationIds(s.ctx.prisma, connection.id, [reg.id])).get(reg.id) ?? null) : null;
  const account = mapping.accounts.associate ? ((await accountsForDomains(s.ctx.prisma, by.workspaceId, crm, [reg.companyDomain])).get(reg.companyDomain) ?? null) : null;
  const plan = planOutbound({
    facts: registrationFacts(reg, s.settings.publicBaseUrl),
    mapping,
    link: link ? { externalId: link.externalId, known: link.known } : null,
    createStageId: createStage(mapping, describe),
  });
  const warnings: string[] = [];
  const issues = describe ? validateMappingAgainst(mapping, describe, [connector.registrationIdField]) : [];
  if (!connection) warnings.push(`no active ${crm} connection: nothing would be written until one is connected`);
  const syncs = link !== null || reg.status === 'approved' || (mapping.createWhen === 'submitted' && reg.status === 'pending_review');
  if (!syncs) warnings.push(`a ${reg.status} registration without a ${crm} record is not synced (createWhen: ${mapping.createWhen})`);
  if (plan.kind === 'create' && mapping.accounts.associate && !account) {
    warnings.push(mapping.accounts.createIfMissing ? `no ${crm} account matches ${reg.companyDomain}: one would be created` : `no ${crm} account matches ${reg.companyDomain}: the record would have no account`);
  }
  const fields = plan.kind === 'create' ? { ...plan.fields, [connector.registrationIdField]: reg.id } : plan.fields;
  return {
    crm,
    registrationId: reg.id,
    action: syncs ? plan.kind : 'none',
    externalId: link?.externalId ?? null,
    fields,
    pipelineId: plan.pipelineId,
    stageId: plan.stageId,
    accountExternalId: plan.kind === 'create' ? account : null,
    issues: issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    warnings,
  };
}
