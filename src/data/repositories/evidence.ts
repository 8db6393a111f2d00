// Gathers everything the rules of engagement look at — partner facts, the policy in force, mirrored
// accounts matching the domain or the company-name key, their open opportunities, active registrations
// on the same account or a similarly named one, and mirror freshness — in ONE indexed query.
// Conflict checks never call a CRM.
import type { Evidence, PartnerTier, PartnerType, PartnerStatus, CrmName } from '../../domain/types';
import { sqlPool, type PrismaClient } from '../prisma';

export interface EvidenceBundle {
  evidence: Evidence | null; // null: partner not found in this workspace
  /**
   * The policy in force; its body as the JSON text PostgreSQL sent (not parsed here: the caller parses
   * each distinct body once and reuses it, see submit-registration.ts).
   */
  policy: { version: number; bodyText: string } | null;
  /** The partner API key named by `keyHash`, read in the same statement (undefined when none was asked for). */
  key?: { id: string; workspaceId: string; partnerId: string; revokedAt: string | null } | null;
}


interface Row {
  partner: { id: string; name: string; type: PartnerType; tier: PartnerTier; status: PartnerStatus; active: number } | null;
  policy_version: number | null;
  policy_body: string | null;
  accounts: {
    id: string;
    crm: CrmName;
    external_id: string;
    name: string;
    country: string | null;
    owner_external_id: string | null;
    owner_name: string | null;
    owner_role: 'direct' | 'partner' | 'unknown';
    is_customer: boolean;
    matched_by: 'domain' | 'name';
    domains: string[] | null;
  }[] | null;
  opps: {
    crm: CrmName;
    external_id: string;
    account_external_id: string;
    name: string;
    stage: string | null;
    amount: string | number | null;
    owner_name: string | null;
    registration_id: string | null;
  }[] | null;
  regs: {
    id: string;
    partner_id: string;
    partner_name: string;
    status: 'pending_review' | 'approved';
    company_name: string;
    company_domain: string;
    created_at: string;
    matched_by: 'domain' | 'name';
  }[] | null;
  freshness: { crm: CrmName; synced_at: string | null }[] | null;
  key: { id: string; workspaceId: string; partnerId: string; revokedAt: string | null } | null;
}

/**
 * @param domain registrable domain (already normalised), or null when the input was not a domain
 * @param nameKey companyNameKey() of the submitted company name
 */
/** `evidence.partner.activeRegistrations` is exact up to the tier's cap and stops counting there. */
export async function gatherEvidence(
  db: PrismaClient,
  args: { workspaceId: string; partnerId: string; domain: string | null; nameKey: string; keyHash?: string },
): Promise<EvidenceBundle> {
  const { workspaceId: ws, partnerId, nameKey } = args;
  const domain = args.domain ?? '';
  // A named prepared statement: PostgreSQL plans this query once per connection (planning it each time
  // costs several times its execution).
  // With keyHash, the same round trip also reads that partner API key (see src/http/middleware/auth.ts).
  const { rows } = await sqlPool(db).query<Row>({ name: 'dealreg_evidence_v3', text: EVIDENCE_SQL, values: [ws, partnerId, domain, nameKey, args.keyHash ?? null] });
  const row = rows[0];
  if (!row) throw new Error('evidence query returned no row');
  const policy = row.policy_version !== null && row.policy_body !== null ? { version: Number(row.policy_version), bodyText: row.policy_body } : null;
  const key = args.keyHash === undefined ? {} : { key: row.key };
  if (!row.partner) return { evidence: null, policy, ...key };
  const evidence: Evidence = {
    partner: {
      id: row.partner.id,
      name: row.partner.name,
      type: row.partner.type,
      tier: row.partner.tier,
      status: row.partner.status,
      activeRegistrations: row.partner.active,
    },
    accounts: (row.accounts ?? []).map((a) => ({
      crm: a.crm,
      externalId: a.external_id,
      name: a.name,
      domains: a.domains ?? [],
      country: a.country,
      ownerId: a.owner_external_id,
      ownerName: a.owner_name,
      ownerRole: a.owner_role,
      isCustomer: a.is_customer,
      matchedBy: a.matched_by,
    })),
    openOpportunities: (row.opps ?? []).map((o) => ({
      crm: o.crm,
      externalId: o.external_id,
      accountExternalId: o.account_external_id,
      name: o.name,
      stage: o.stage,
      amount: o.amount === null ? null : Number(o.amount),
      ownerName: o.owner_name,
      registrationId: o.registration_id,
    })),
    activeRegistrations: (row.regs ?? []).map((r) => ({
      id: r.id,
      partnerId: r.partner_id,
      partnerName: r.partner_name,
      status: r.status,
      companyName: r.company_name,
      domain: r.company_domain,
      createdAt: new Date(r.created_at).toISOString(),
      matchedBy: r.matched_by,
    })),
    mirrorFreshness: (row.freshness ?? []).map((f) => ({ crm: f.crm, syncedAt: f.synced_at ? new Date(f.synced_at).toISOString() : null })),
  };
  return { evidence, policy, ...key };
}

// At most 25 accounts, opportunities and registrations of each kind: enough evidence for a verdict.
const EVIDENCE_SQL = `
    WITH
    pol AS (SELECT version, body FROM policies WHERE workspace_id = $1::uuid ORDER BY version DESC LIMIT 1),
    p0 AS (SELECT id, name, type::text AS type, tier::text AS tier, status::text AS status FROM partners WHERE workspace_id = $1::uuid AND id = $2::uuid),
    -- The cap rule only asks "has the partner reached its cap?": count active holds up to the cap, no further
    -- (no count at all when the tier has no cap), so the cost does not grow with the partner's history.
    cap AS (SELECT COALESCE((SELECT (pol.body -> 'partnerCaps' ->> p0.tier)::int FROM pol), 0) AS n FROM p0),
    p AS (
      SELECT p0.*, (SELECT count(*)::int FROM (
          SELECT 1 FROM account_holds h WHERE h.workspace_id = $1::uuid AND h.partner_id = $2::uuid LIMIT (SELECT n FROM cap)
        ) capped) AS active
      FROM p0
    ),
    by_domain AS (
      SELECT a.*, 'domain'::text AS matched_by FROM mirror_account_domains d
      JOIN mirror_accounts a ON a.id = d.account_id
      WHERE d.workspace_id = $1::uuid AND d.domain = $3
      LIMIT 25
    ),
    by_name AS (
      SELECT a.*, 'name'::text AS matched_by FROM mirror_accounts a
      WHERE a.workspace_id = $1::uuid AND a.name_key = $4 AND a.id NOT IN (SELECT id FROM by_domain)
      LIMIT 25
    ),
    acc AS (SELECT * FROM by_domain UNION ALL SELECT * FROM by_name),
    acc_json AS (
      SELECT json_agg(json_build_object(
        'id', acc.id, 'crm', acc.crm, 'external_id', acc.external_id, 'name', acc.name, 'country', acc.country,
        'owner_external_id', acc.owner_external_id, 'owner_name', acc.owner_name, 'owner_role', acc.owner_role,
        'is_customer', acc.is_customer, 'matched_by', acc.matched_by,
        'domains', (SELECT array_agg(dd.domain ORDER BY dd.domain) FROM mirror_account_domains dd WHERE dd.account_id = acc.id)
      )) AS v FROM acc
    ),
    opp AS (
      SELECT o.crm, o.external_id, o.account_external_id, o.name, o.stage, o.amount, o.owner_name, o.registration_id
      FROM by_domain a
      JOIN mirror_opportunities o
        ON o.workspace_id = $1::uuid AND o.crm = a.crm AND o.account_external_id = a.external_id AND o.is_closed = false
      LIMIT 25
    ),
    reg_domain AS (
      SELECT r.id, r.partner_id, pr.name AS partner_name, r.status::text AS status, r.company_name, r.company_domain,
             r.created_at, 'domain'::text AS matched_by
      FROM account_holds h JOIN registrations r ON r.id = h.registration_id JOIN partners pr ON pr.id = r.partner_id
      WHERE h.workspace_id = $1::uuid AND h.domain = $3
    ),
    reg_name AS (
      SELECT r.id, r.partner_id, pr.name AS partner_name, r.status::text AS status, r.company_name, r.company_domain,
             r.created_at, 'name'::text AS matched_by
      FROM registrations r JOIN partners pr ON pr.id = r.partner_id
      WHERE r.workspace_id = $1::uuid AND r.company_name_key = $4
        AND r.status IN ('pending_review', 'approved') AND r.company_domain <> $3
      ORDER BY r.created_at
      LIMIT 25
    ),
    regs AS (SELECT * FROM reg_domain UNION ALL SELECT * FROM reg_name)
    SELECT
      (SELECT row_to_json(p) FROM p) AS partner,
      (SELECT version FROM pol) AS policy_version,
      (SELECT body::text FROM pol) AS policy_body,
      (SELECT v FROM acc_json) AS accounts,
      (SELECT json_agg(opp) FROM opp) AS opps,
      (SELECT json_agg(json_build_object('id', id, 'partner_id', partner_id, 'partner_name', partner_name, 'status', status,
        'company_name', company_name, 'company_domain', company_domain, 'created_at', created_at, 'matched_by', matched_by)) FROM regs) AS regs,
      (SELECT json_agg(json_build_object('crm', crm, 'synced_at', synced_at)) FROM mirror_states WHERE workspace_id = $1::uuid) AS freshness,
      (SELECT json_build_object('id', k.id, 'workspaceId', k.workspace_id, 'partnerId', k.partner_id, 'revokedAt', k.revoked_at)
         FROM partner_api_keys k WHERE k.key_hash = $5::text) AS key
  `;
