// The hot write path: a new registration, its account hold, its outbox row and its ledger event in ONE
// SQL statement (data-modifying CTEs are atomic and take one round trip), run as a named prepared
// statement so PostgreSQL plans it once per connection. Prisma costs several round trips and
// milliseconds of client-side work per statement here; the rest of the code keeps using Prisma.
//
// A lost race for the account surfaces as the unique violation of account_holds_pkey (23505): nothing is
// written and the caller decides again with the winner as evidence.
import { Prisma } from '../../generated/prisma/client';
import { sqlPool, type PrismaClient } from '../prisma';
import { contentHashOf, type Actor } from '../ledger';
import type { RegistrationRow } from './registrations';
import type { PartnerFacts, RegistrationStatus } from '../../domain/types';

export interface NewRegistration {
  id: string;
  workspaceId: string;
  partnerId: string;
  status: RegistrationStatus;
  source: string;
  companyName: string;
  companyNameKey: string;
  companyDomain: string;
  companyCountry: string | null;
  contactName: string;
  contactEmail: string;
  amountValue: number | null;
  amountCurrency: string | null;
  /** YYYY-MM-DD */
  expectedCloseDate: string | null;
  notes: string | null;
  verdict: unknown;
  evidence: unknown;
  policyVersion: number;
  protectionStartsAt: Date | null;
  protectionEndsAt: Date | null;
  nextReminderAt: Date | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  decidedAt: Date | null;
  createdAt: Date;
  /** Take the account hold (pending_review / approved). */
  hold: boolean;
  outboxEvent: string;
  ledger: { type: string; actor: Actor; data: Record<string, unknown> };
}

export class HoldTakenError extends Error {
  constructor() {
    super('another active registration holds this account');
  }
}

export class IdempotencyKeyTakenError extends Error {
  constructor() {
    super('this idempotency key was used concurrently');
  }
}

interface Returned {
  id: string;
  updated_at: Date;
  version: number;
}

export async function insertRegistration(prisma: PrismaClient, r: NewRegistration, partner: Pick<PartnerFacts, 'id' | 'name' | 'type' | 'tier' | 'status'>): Promise<RegistrationRow> {
  const createdAt = r.createdAt.toISOString();
  const ledgerData = JSON.parse(JSON.stringify(r.ledger.data)) as unknown;
  const contentHash = contentHashOf({
    type: r.ledger.type,
    registrationId: r.id,
    actorType: r.ledger.actor.type,
    actorId: r.ledger.actor.id,
    source: r.ledger.actor.source,
    data: ledgerData,
    createdAt,
  });
  const values = [
    r.id, r.workspaceId, r.partnerId, r.status, r.source, r.companyName, r.companyNameKey, r.companyDomain, r.companyCountry,
    r.contactName, r.contactEmail, r.amountValue, r.amountCurrency, r.expectedCloseDate, r.notes, JSON.stringify(r.verdict),
    JSON.stringify(r.evidence), r.policyVersion, r.protectionStartsAt, r.protectionEndsAt, r.nextReminderAt, r.idempotencyKey,
    r.requestHash, r.decidedAt, createdAt, r.hold, r.outboxEvent, r.ledger.type, r.ledger.actor.type, r.ledger.actor.id,
    r.ledger.actor.source, JSON.stringify(ledgerData), contentHash,
  ];
  let row: Returned;
  try {
    const res = await sqlPool(prisma).query<Returned>({ name: 'dealreg_insert_registration_v2', text: INSERT_SQL, values });
    row = res.rows[0]!;
  } catch (err) {
    const e = err as { code?: string; constraint?: string };
    if (e.code === '23505' && e.constraint === 'account_holds_pkey') throw new HoldTakenError();
    if (e.code === '23505' && e.constraint?.includes('idempotency_key')) throw new IdempotencyKeyTakenError();
    throw err;
  }
  return {
    id: r.id,
    workspaceId: r.workspaceId,
    partnerId: r.partnerId,
    status: r.status,
    source: r.source,
    companyName: r.companyName,
    companyNameKey: r.companyNameKey,
    companyDomain: r.companyDomain,
    companyCountry: r.companyCountry,
    contactName: r.contactName,
    contactEmail: r.contactEmail,
    amountValue: r.amountValue === null ? null : new Prisma.Decimal(r.amountValue.toFixed(2)),
    amountCurrency: r.amountCurrency,
    expectedCloseDate: r.expectedCloseDate ? new Date(`${r.expectedCloseDate}T00:00:00Z`) : null,
    notes: r.notes,
    verdict: r.verdict as Prisma.JsonValue,
    evidence: r.evidence as Prisma.JsonValue,
    policyVersion: r.policyVersion,
    protectionStartsAt: r.protectionStartsAt,
    protectionEndsAt: r.protectionEndsAt,
    extensionsUsed: 0,
    remindersSent: [],
    nextReminderAt: r.nextReminderAt,
    idempotencyKey: r.idempotencyKey,
    requestHash: r.requestHash,
    decidedAt: r.decidedAt,
    endedAt: null,
    version: row.version,
    createdAt: r.createdAt,
    updatedAt: row.updated_at,
    partner: { id: partner.id, name: partner.name, type: partner.type, tier: partner.tier, status: partner.status },
  };
}

// $1 id, $2 workspace, $3 partner, $4 status, $5 source, $6 company name, $7 name key, $8 domain, $9 country,
// $10 contact name, $11 contact email, $12 amount, $13 currency, $14 close date, $15 notes, $16 verdict,
// $17 evidence, $18 policy version, $19 protection start, $20 protection end, $21 next reminder,
// $22 idempotency key, $23 request hash, $24 decided at, $25 created at, $26 take hold, $27 outbox event,
// $28 ledger type, $29 actor type, $30 actor id, $31 source, $32 ledger data, $33 content hash
const INSERT_SQL = `
WITH reg AS (
  INSERT INTO registrations (id, workspace_id, partner_id, status, source, company_name, company_name_key, company_domain,
    company_country, contact_name, contact_email, amount_value, amount_currency, expected_close_date, notes, verdict, evidence,
    policy_version, protection_starts_at, protection_ends_at, next_reminder_at, idempotency_key, request_hash, decided_at,
    created_at, updated_at)
  VALUES ($1::uuid, $2::uuid, $3::uuid, $4::"RegistrationStatus", $5, $6, $7, $8, $9, $10, $11, $12::numeric, $13, $14::date, $15,
    $16::jsonb, $17::jsonb, $18::int, $19::timestamptz, $20::timestamptz, $21::timestamptz, $22, $23, $24::timestamptz,
    $25::timestamptz, $25::timestamptz)
  RETURNING id, updated_at, version
), hold AS (
  INSERT INTO account_holds (workspace_id, domain, registration_id, partner_id, created_at)
  SELECT $2::uuid, $8, reg.id, $3::uuid, $25::timestamptz FROM reg WHERE $26::boolean
  RETURNING 1
), ob AS (
  INSERT INTO outbox (workspace_id, topic, registration_id, payload, created_at)
  SELECT $2::uuid, 'registration.changed', reg.id, jsonb_build_object('event', $27::text), $25::timestamptz FROM reg
  RETURNING 1
), head AS (
  SELECT hash AS prev, seq + 1 AS seq FROM ledger_heads WHERE workspace_id = $2::uuid FOR UPDATE
), next AS (
  SELECT prev, seq, encode(sha256(convert_to(prev || ':' || seq::text || ':' || $33::text, 'UTF8')), 'hex') AS hash FROM head
), moved AS (
  UPDATE ledger_heads h SET seq = next.seq, hash = next.hash FROM next WHERE h.workspace_id = $2::uuid
  RETURNING next.seq, next.prev, next.hash
), ev AS (
  INSERT INTO ledger_events (workspace_id, seq, registration_id, type, actor_type, actor_id, source, data, content_hash, prev_hash, hash, created_at)
  SELECT $2::uuid, moved.seq, reg.id, $28, $29, $30, $31, $32::jsonb, $33, moved.prev, moved.hash, $25::timestamptz FROM moved, reg
  RETURNING 1
)
SELECT reg.id, reg.updated_at, reg.version, (SELECT count(*) FROM hold) AS holds, (SELECT count(*) FROM ob) AS outbox, (SELECT count(*) FROM ev) AS events
FROM reg`;
