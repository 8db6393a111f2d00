// The hot write path: new registrations, their account holds, their outbox rows and their ledger events,
// written by ONE SQL statement (data-modifying CTEs are atomic and take one round trip), run as a named
// prepared statement so PostgreSQL plans it once per connection. Prisma costs several round trips and
// milliseconds of client-side work per statement here; the rest of the code keeps using Prisma.
//
// Group commit. Every append to a workspace's ledger locks that workspace's ledger_heads row until its
// transaction commits (the hash chain needs the previous event), so one registration per transaction
// caps a workspace at 1 / (lock hold + commit flush) registrations a second, and on a busy machine the
// lock holder is often descheduled while the others queue behind it. So registrations submitted while
// earlier ones are being written wait (no timer: at most MAX_IN_FLIGHT statements per workspace are in
// flight) and then go together in one statement, one transaction, one ledger-head update and one WAL
// flush. Each registration still commits atomically with its hold, its outbox row and its ledger event,
// and its caller hears back only after the commit. A quiet system writes each registration on its own.
//
// First to register wins: the hold is inserted with ON CONFLICT DO NOTHING and the registration only if it
// got its hold (or needs none), so a registration that loses the race for an account (to a concurrent
// transaction, or to an earlier one in the same batch) writes nothing and does not abort the others; the
// caller gets HoldTakenError and decides again with the winner as evidence. Any other error (e.g. two
// uses of one Idempotency-Key) fails the whole statement, which is then retried one registration at a
// time, so that only the registration at fault gets the error.
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

/** One registration as the batch statement reads it (jsonb_to_recordset: the keys are the column names). */
interface BatchItem {
  ord: number;
  id: string;
  partner_id: string;
  status: RegistrationStatus;
  source: string;
  company_name: string;
  company_name_key: string;
  company_domain: string;
  company_country: string | null;
  contact_name: string;
  contact_email: string;
  amount_value: number | null;
  amount_currency: string | null;
  expected_close_date: string | null;
  notes: string | null;
  verdict: unknown;
  evidence: unknown;
  policy_version: number;
  protection_starts_at: string | null;
  protection_ends_at: string | null;
  next_reminder_at: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  decided_at: string | null;
  created_at: string;
  hold: boolean;
  outbox_event: string;
  ledger_type: string;
  actor_type: string;
  actor_id: string | null;
  actor_source: string;
  ledger_data: unknown;
  content_hash: string;
}

interface Pending {
  item: BatchItem;
  resolve: (row: Returned) => void;
  reject: (err: unknown) => void;
}

/** Statements in flight per workspace and process: one being written while the next one forms. */
const MAX_IN_FLIGHT = 2;
/** Registrations per statement at most (the statement's cost grows with it; so does the lock hold). */
const MAX_BATCH = 64;

class RegistrationWriter {
  private readonly queues = new Map<string, { pending: Pending[]; inFlight: number }>();

  constructor(private readonly pool: Pool) {}

  write(workspaceId: string, item: BatchItem): Promise<Returned> {
    return new Promise<Returned>((resolve, reject) => {
      let q = this.queues.get(workspaceId);
      if (!q) {
        q = { pending: [], inFlight: 0 };
        this.queues.set(workspaceId, q);
      }
      q.pending.push({ item, resolve, reject });
      this.flush(workspaceId, q);
    });
  }

  private flush(workspaceId: string, q: { pending: Pending[]; inFlight: number }): void {
    while (q.inFlight < MAX_IN_FLIGHT && q.pending.length > 0) {
      const batch = q.pending.splice(0, MAX_BATCH);
      q.inFlight++;
      void this.run(workspaceId, batch).finally(() => {
        q.inFlight--;
        if (q.pending.length > 0) this.flush(workspaceId, q);
        else if (q.inFlight === 0) this.queues.delete(workspaceId);
      });
    }
  }

  private async run(workspaceId: string, batch: Pending[]): Promise<void> {
    let rows: Map<string, Returned>;
    try {
      rows = await writeBatch(this.pool, workspaceId, batch.map((p) => p.item));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(mapError(err));
        return;
      }
      // Something in the batch is at fault: write them one by one so that only that one fails.
      for (const p of batch) {
        try {
          const one = await writeBatch(this.pool, workspaceId, [p.item]);
          settle(p, one);
        } catch (e) {
          p.reject(mapError(e));
        }
      }
      return;
    }
    for (const p of batch) settle(p, rows);
  }
}

function settle(p: Pending, rows: Map<string, Returned>): void {
  const row = rows.get(p.item.id);
  if (row) p.resolve(row);
  else p.reject(new HoldTakenError()); // not written: another active registration holds the account
}

function mapError(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e.code === '23505' && e.constraint === 'account_holds_pkey') return new HoldTakenError();
  if (e.code === '23505' && e.constraint?.includes('idempotency_key')) return new IdempotencyKeyTakenError();
  return err;
}

async function writeBatch(pool: Pool, workspaceId: string, items: BatchItem[]): Promise<Map<string, Returned>> {
  items.forEach((it, i) => {
    it.ord = i;
  });
  const res = await pool.query<Returned>({ name: 'dealreg_insert_registrations_v3', text: BATCH_SQL, values: [workspaceId, JSON.stringify(items)] });
  return new Map(res.rows.map((r) => [r.id, r]));
}

type Pool = ReturnType<typeof sqlPool>;
const writers = new WeakMap<Pool, RegistrationWriter>();

function writerFor(prisma: PrismaClient): RegistrationWriter {
  const pool = sqlPool(prisma);
  let w = writers.get(pool);
  if (!w) {
    w = new RegistrationWriter(pool);
    writers.set(pool, w);
  }
  return w;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export async function insertRegistration(prisma: PrismaClient, r: NewRegistration, partner: Pick<PartnerFacts, 'id' | 'name' | 'type' | 'tier' | 'status'>): Promise<RegistrationRow> {
  const createdAt = r.createdAt.toISOString();
  // Round-trip the data through JSON so what we hash is exactly what jsonb will give back.
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
  const row = await writerFor(prisma).write(r.workspaceId, {
    ord: 0, // position in its statement, set by writeBatch
    id: r.id,
    partner_id: r.partnerId,
    status: r.status,
    source: r.source,
    company_name: r.companyName,
    company_name_key: r.companyNameKey,
    company_domain: r.companyDomain,
    company_country: r.companyCountry,
    contact_name: r.contactName,
    contact_email: r.contactEmail,
    amount_value: r.amountValue,
    amount_currency: r.amountCurrency,
    expected_close_date: r.expectedCloseDate,
    notes: r.notes,
    verdict: r.verdict,
    evidence: r.evidence,
    policy_version: r.policyVersion,
    protection_starts_at: iso(r.protectionStartsAt),
    protection_ends_at: iso(r.protectionEndsAt),
    next_reminder_at: iso(r.nextReminderAt),
    idempotency_key: r.idempotencyKey,
    request_hash: r.requestHash,
    decided_at: iso(r.decidedAt),
    created_at: createdAt,
    hold: r.hold,
    outbox_event: r.outboxEvent,
    ledger_type: r.ledger.type,
    actor_type: r.ledger.actor.type,
    actor_id: r.ledger.actor.id,
    actor_source: r.ledger.actor.source,
    ledger_data: ledgerData,
    content_hash: contentHash,
  });
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

// $1 workspace id, $2 the registrations: a JSON array of BatchItem, in arrival order (ord).
//
// Order of work inside the statement: holds (sorted by domain, so concurrent statements take them in
// the same order and cannot deadlock on each other), then registrations, then outbox rows, and only then
// the ledger head (its lock waits for the outbox count, hence for all the inserts above): the head is
// the last lock taken, as everywhere else (src/data/ledger.ts). The chain over the batch is built by a
// recursive CTE: hash(n) = sha256(hash(n-1) ":" seq(n) ":" contentHash(n)), starting at the locked head.
// If a registration was written without its ledger event (no ledger head for the workspace), the cast in
// \`checked\` fails and the whole statement rolls back (its text depends on a row count so that the planner
// cannot fold it into a plan-time error).
const BATCH_SQL = `
WITH RECURSIVE items AS MATERIALIZED (
  SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(
    ord int, id uuid, partner_id uuid, status "RegistrationStatus", source text, company_name text, company_name_key text,
    company_domain text, company_country text, contact_name text, contact_email text, amount_value numeric, amount_currency text,
    expected_close_date date, notes text, verdict jsonb, evidence jsonb, policy_version int, protection_starts_at timestamptz,
    protection_ends_at timestamptz, next_reminder_at timestamptz, idempotency_key text, request_hash text, decided_at timestamptz,
    created_at timestamptz, hold boolean, outbox_event text, ledger_type text, actor_type text, actor_id text, actor_source text,
    ledger_data jsonb, content_hash text)
), hold AS (
  INSERT INTO account_holds (workspace_id, domain, registration_id, partner_id, created_at)
  SELECT $1::uuid, i.company_domain, i.id, i.partner_id, i.created_at FROM items i WHERE i.hold ORDER BY i.company_domain, i.ord
  ON CONFLICT DO NOTHING
  RETURNING registration_id
), reg AS (
  INSERT INTO registrations (id, workspace_id, partner_id, status, source, company_name, company_name_key, company_domain,
    company_country, contact_name, contact_email, amount_value, amount_currency, expected_close_date, notes, verdict, evidence,
    policy_version, protection_starts_at, protection_ends_at, next_reminder_at, idempotency_key, request_hash, decided_at,
    created_at, updated_at)
  SELECT i.id, $1::uuid, i.partner_id, i.status, i.source, i.company_name, i.company_name_key, i.company_domain, i.company_country,
    i.contact_name, i.contact_email, i.amount_value, i.amount_currency, i.expected_close_date, i.notes, i.verdict, i.evidence,
    i.policy_version, i.protection_starts_at, i.protection_ends_at, i.next_reminder_at, i.idempotency_key, i.request_hash,
    i.decided_at, i.created_at, i.created_at
  FROM items i WHERE NOT i.hold OR i.id IN (SELECT registration_id FROM hold)
  ORDER BY i.ord
  RETURNING id, updated_at, version
), ob AS (
  INSERT INTO outbox (workspace_id, topic, registration_id, payload, created_at)
  SELECT $1::uuid, 'registration.changed', i.id, jsonb_build_object('event', i.outbox_event), i.created_at
  FROM items i JOIN reg ON reg.id = i.id ORDER BY i.ord
  RETURNING 1
), ins AS MATERIALIZED (
  SELECT i.id, i.content_hash, row_number() OVER (ORDER BY i.ord) AS rn FROM items i JOIN reg ON reg.id = i.id
), head AS (
  SELECT hash, seq FROM ledger_heads WHERE workspace_id = $1::uuid AND (SELECT count(*) FROM ob) >= 0 FOR UPDATE
), chain AS (
  SELECT ins.rn, head.seq + 1 AS seq, head.hash AS prev,
         encode(sha256(convert_to(head.hash || ':' || (head.seq + 1)::text || ':' || ins.content_hash, 'UTF8')), 'hex') AS hash
  FROM head JOIN ins ON ins.rn = 1
  UNION ALL
  SELECT ins.rn, c.seq + 1, c.hash,
         encode(sha256(convert_to(c.hash || ':' || (c.seq + 1)::text || ':' || ins.content_hash, 'UTF8')), 'hex')
  FROM chain c JOIN ins ON ins.rn = c.rn + 1
), tip AS (
  SELECT seq, hash FROM chain ORDER BY rn DESC LIMIT 1
), moved AS (
  UPDATE ledger_heads h SET seq = tip.seq, hash = tip.hash FROM tip WHERE h.workspace_id = $1::uuid
  RETURNING 1
), ev AS (
  INSERT INTO ledger_events (workspace_id, seq, registration_id, type, actor_type, actor_id, source, data, content_hash, prev_hash, hash, created_at)
  SELECT $1::uuid, c.seq, i.id, i.ledger_type, i.actor_type, i.actor_id, i.actor_source, i.ledger_data, i.content_hash, c.prev, c.hash, i.created_at
  FROM chain c JOIN ins ON ins.rn = c.rn JOIN items i ON i.id = ins.id ORDER BY c.seq
  RETURNING 1
), checked AS (
  SELECT CASE WHEN (SELECT count(*) FROM ev) = (SELECT count(*) FROM reg) THEN 0
              ELSE ('ledger head of workspace ' || $1::text || ' missing: ' || (SELECT count(*) FROM reg) || ' registrations without a ledger event')::int
         END AS ok
)
SELECT reg.id, reg.updated_at, reg.version FROM reg, checked WHERE checked.ok = 0`;
