// Attribution rows (registration_attributions) and the facts the default model needs, read in one query
// per batch of registrations: the registration, its partner's name, its stored row (with the names of the
// partners in it), and, for registrations without a row, other partners' registrations of the same
// company domain in the influence window (index registrations (workspace_id, company_domain)).
import { z } from 'zod';
import type { Db, Tx } from '../prisma';
import { StaleVersionError } from './registrations';
import { ATTRIBUTION_ROLES, sameSplit, type AttributionRecord, type AttributionShare, type InfluencerCandidate } from '../../domain/attribution';
import { attributionPolicySchema, DEFAULT_ATTRIBUTION_POLICY, type AttributionPolicy } from '../../domain/policy';
import type { CrmName, RegistrationStatus } from '../../domain/types';

export interface AttributionFacts {
  registrationId: string;
  workspaceId: string;
  partnerId: string;
  partnerName: string;
  status: RegistrationStatus;
  companyDomain: string;
  createdAt: Date;
  amount: { value: number; currency: string | null } | null;
  record: AttributionRecord | null;
  /** Partner names: the registration's partner, the stored row's partners, the candidates' partners. */
  partnerNames: Map<string, string>;
  /** Only for registrations without a stored row, and only when influence is asked for. */
  candidates: InfluencerCandidate[];
}

/** Which influencers to look for: null when the policy gives the sourcing partner everything. */
export interface InfluenceQuery {
  windowDays: number;
  /** Most recent partners per registration. */
  limit: number;
}

const evidenceSchema = z
  .object({ registrationId: z.string().optional(), touchedAt: z.string().optional(), note: z.string().optional() })
  .nullable()
  .catch(null);
const storedSharesSchema = z.array(
  z.object({ partnerId: z.string(), role: z.enum(ATTRIBUTION_ROLES), percent: z.number(), evidence: evidenceSchema.optional().transform((e) => e ?? null) }),
);

interface FactsRow {
  id: string;
  workspace_id: string;
  partner_id: string;
  partner_name: string;
  status: RegistrationStatus;
  company_domain: string;
  created_at: Date;
  amount_value: string | null;
  amount_currency: string | null;
  a_partners: unknown;
  a_source: string | null;
  a_frozen_at: Date | null;
  a_frozen_amount: string | null;
  a_frozen_currency: string | null;
  a_updated_at: Date | null;
  names: Record<string, string> | null;
  candidates: { registrationId: string; partnerId: string; partnerName: string; status: RegistrationStatus; createdAt: string }[] | null;
}

/** Attribution facts for registrations of one workspace (ids not in it are left out), in one query. */
export async function attributionFacts(db: Db, workspaceId: string, registrationIds: string[], influence: InfluenceQuery | null): Promise<AttributionFacts[]> {
  if (registrationIds.length === 0) return [];
  const rows = await db.$queryRaw<FactsRow[]>`
    SELECT r.id, r.workspace_id, r.partner_id, p.name AS partner_name, r.status::text AS status, r.company_domain, r.created_at,
           r.amount_value::text AS amount_value, r.amount_currency,
           a.partners AS a_partners, a.source AS a_source, a.frozen_at AS a_frozen_at, a.frozen_amount::text AS a_frozen_amount,
           a.frozen_currency AS a_frozen_currency, a.updated_at AS a_updated_at,
           names.names, cand.candidates
    FROM registrations r
    JOIN partners p ON p.id = r.partner_id
    LEFT JOIN registration_attributions a ON a.registration_id = r.id
    LEFT JOIN LATERAL (
      SELECT jsonb_object_agg(sp.id, sp.name) AS names
      FROM partners sp
      WHERE a.partners IS NOT NULL AND sp.workspace_id = r.workspace_id
        AND sp.id IN (SELECT (e->>'partnerId')::uuid FROM jsonb_array_elements(a.partners) e)
    ) names ON true
    LEFT JOIN LATERAL (
      SELECT jsonb_agg(jsonb_build_object('registrationId', c.id, 'partnerId', c.partner_id, 'partnerName', c.name, 'status', c.status, 'createdAt', c.created_at)) AS candidates
      FROM (
        SELECT * FROM (
          SELECT DISTINCT ON (o.partner_id) o.id, o.partner_id, op.name, o.status::text AS status, o.created_at
          FROM registrations o JOIN partners op ON op.id = o.partner_id
          WHERE ${influence !== null} AND a.registration_id IS NULL
            AND o.workspace_id = r.workspace_id AND o.company_domain = r.company_domain
            AND o.partner_id <> r.partner_id AND o.status <> 'withdrawn'
            AND o.created_at < r.created_at AND o.created_at >= r.created_at - make_interval(days => ${influence?.windowDays ?? 0}::int)
          ORDER BY o.partner_id, o.created_at DESC
        ) latest
        ORDER BY latest.created_at DESC
        LIMIT ${influence?.limit ?? 0}::int
      ) c
    ) cand ON true
    WHERE r.workspace_id = ${workspaceId}::uuid AND r.id = ANY(${registrationIds}::uuid[])`;
  return rows.map((r) => {
    const partnerNames = new Map<string, string>([[r.partner_id, r.partner_name]]);
    for (const [id, name] of Object.entries(r.names ?? {})) partnerNames.set(id, name);
    const candidates: InfluencerCandidate[] = (r.candidates ?? []).map((c) => {
      partnerNames.set(c.partnerId, c.partnerName);
      return { registrationId: c.registrationId, partnerId: c.partnerId, companyDomain: r.company_domain, status: c.status, submittedAt: new Date(c.createdAt) };
    });
    return {
      registrationId: r.id,
      workspaceId: r.workspace_id,
      partnerId: r.partner_id,
      partnerName: r.partner_name,
      status: r.status,
      companyDomain: r.company_domain,
      createdAt: r.created_at,
      amount: r.amount_value === null ? null : { value: Number(r.amount_value), currency: r.amount_currency },
      record:
        r.a_updated_at === null
          ? null
          : {
              partners: storedShares(r.a_partners),
              source: r.a_source === 'staff' ? 'staff' : 'default',
              frozenAt: r.a_frozen_at,
              frozenAmount: r.a_frozen_amount === null ? null : Number(r.a_frozen_amount),
              frozenCurrency: r.a_frozen_currency,
              updatedAt: r.a_updated_at,
            },
      partnerNames,
      candidates,
    };
  });
}

function storedShares(json: unknown): AttributionShare[] {
  const r = storedSharesSchema.safeParse(json);
  return r.success ? r.data.map((s) => ({ partnerId: s.partnerId, role: s.role, percent: s.percent, evidence: s.evidence })) : [];
}

/** The attribution section of the policy in force (only that part of the body is read and parsed). */
export async function attributionPolicyInForce(db: Db, workspaceId: string): Promise<AttributionPolicy> {
  const rows = await db.$queryRaw<{ attribution: unknown }[]>`
    SELECT body->'attribution' AS attribution FROM policies WHERE workspace_id = ${workspaceId}::uuid ORDER BY version DESC LIMIT 1`;
  const parsed = attributionPolicySchema.safeParse(rows[0]?.attribution ?? DEFAULT_ATTRIBUTION_POLICY);
  return parsed.success ? parsed.data : { ...DEFAULT_ATTRIBUTION_POLICY };
}

/** Locks the registration row (serialising attribution edits with each other and with won) and reads what an edit needs. */
export async function lockRegistration(tx: Tx, workspaceId: string, registrationId: string): Promise<{ partnerId: string; status: RegistrationStatus } | null> {
  const rows = await tx.$queryRaw<{ partner_id: string; status: RegistrationStatus }[]>`
    SELECT partner_id, status::text AS status FROM registrations WHERE id = ${registrationId}::uuid AND workspace_id = ${workspaceId}::uuid FOR UPDATE`;
  const r = rows[0];
  return r ? { partnerId: r.partner_id, status: r.status } : null;
}

/** Writes a staff-edited split (never over a frozen row: the caller checked under the registration lock). */
export async function saveAttribution(tx: Tx, a: { workspaceId: string; registrationId: string; partners: AttributionShare[]; updatedBy: string; at: Date }): Promise<void> {
  const partners = a.partners as unknown as object[];
  await tx.registrationAttribution.upsert({
    where: { registrationId: a.registrationId },
    create: { registrationId: a.registrationId, workspaceId: a.workspaceId, partners, source: 'staff', updatedBy: a.updatedBy, updatedAt: a.at, createdAt: a.at },
    update: { partners, source: 'staff', updatedBy: a.updatedBy, updatedAt: a.at },
  });
}

/**
 * Freezes the split with the won amount, inside the won transaction (after its registration update, which
 * holds the registration lock that attribution edits take first). `seen` is the stored row as it was when
 * the split was read (null: there was none): if the row is different now, throws StaleVersionError so that
 * the won change is planned again with the split in force.
 */
export async function freezeAttribution(
  tx: Tx,
  f: { workspaceId: string; registrationId: string; seen: AttributionRecord | null; partners: AttributionShare[]; source: 'default' | 'staff'; amount: number | null; currency: string | null; at: Date; updatedBy: string },
): Promise<void> {
  const partners = f.partners as unknown as object[];
  const frozen = { frozenAt: f.at, frozenAmount: f.amount, frozenCurrency: f.currency, updatedAt: f.at, updatedBy: f.updatedBy };
  const now = await tx.$queryRaw<{ partners: unknown; source: string; frozen_at: Date | null }[]>`
    SELECT partners, source, frozen_at FROM registration_attributions WHERE registration_id = ${f.registrationId}::uuid FOR UPDATE`;
  const row = now[0];
  if (f.seen === null) {
    if (row) throw new StaleVersionError(f.registrationId);
    await tx.registrationAttribution.create({ data: { registrationId: f.registrationId, workspaceId: f.workspaceId, partners, source: f.source, createdAt: f.at, ...frozen } });
    return;
  }
  if (!row || row.frozen_at !== null || row.source !== f.seen.source || !sameSplit(storedShares(row.partners), f.seen.partners)) throw new StaleVersionError(f.registrationId);
  await tx.registrationAttribution.update({ where: { registrationId: f.registrationId }, data: { partners, source: f.source, ...frozen } });
}

/** Which of these partner ids are partners of the workspace. */
export async function existingPartnerIds(db: Db, workspaceId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.partner.findMany({ where: { workspaceId, id: { in: ids } }, select: { id: true } });
  return new Set(rows.map((r) => r.id));
}

/** Which of these registration ids are registrations of the workspace. */
export async function existingRegistrationIds(db: Db, workspaceId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.registration.findMany({ where: { workspaceId, id: { in: ids } }, select: { id: true } });
  return new Set(rows.map((r) => r.id));
}

/** The registration behind a CRM record (HubSpot deal / Salesforce Opportunity id) of the workspace's connection to that CRM. */
export async function registrationIdForCrmRecord(db: Db, workspaceId: string, crm: CrmName, externalId: string): Promise<string | null> {
  const rows = await db.$queryRaw<{ registration_id: string }[]>`
    SELECT l.registration_id FROM crm_links l JOIN crm_connections c ON c.id = l.connection_id
    WHERE c.workspace_id = ${workspaceId}::uuid AND c.crm = ${crm} AND c.status <> 'disconnected'
      AND l.external_id = ${externalId} AND l.state <> 'deleted'
    ORDER BY (c.status = 'active') DESC, l.updated_at DESC
    LIMIT 1`;
  return rows[0]?.registration_id ?? null;
}
