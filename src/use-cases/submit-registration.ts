// A partner (or the CRM) registers a deal: validate, gather evidence, decide (pure), persist, announce.
import { z } from 'zod';
import { v7 as uuidv7 } from 'uuid';
import { gatherEvidence } from '../data/repositories/evidence';
import { findRegistration, withPartner, type RegistrationRow } from '../data/repositories/registrations';
import { HoldTakenError, IdempotencyKeyTakenError, insertRegistration } from '../data/repositories/registration-insert';
import { normaliseDomain } from '../domain/domain-name';
import { companyNameKey } from '../domain/company-name';
import { evaluate } from '../domain/rules/evaluate';
import { initialStatus, isActive } from '../domain/registration-state';
import { computeProtection, nextReminderAt } from '../domain/protection-clock';
import { availabilityFrom } from '../domain/availability';
import type { RegistrationCandidate, Verdict } from '../domain/types';
import type { Policy } from '../domain/policy';
import { canonicalJson, sha256Hex } from '../lib/crypto';
import { AppError, notFound, unprocessable } from '../lib/errors';
import { parseStoredPolicy } from './policies';
import { actorOf, type CrmUserPrincipal, type PartnerPrincipal, type SystemPrincipal, type UseCaseContext } from './context';

// Round-trip check: Date.parse rolls impossible days over ("2026-02-30" → 2 March) instead of refusing them.
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine((s) => {
    const t = Date.parse(`${s}T00:00:00Z`);
    return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s;
  }, 'not a real date');

export const companySchema = z
  .object({
    name: z.string().trim().min(1, 'company.name is required').max(200),
    domain: z.string().trim().min(1, 'company.domain is required').max(2048),
    country: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code, e.g. "DE"').optional(),
  })
  .strict();

export const submitRegistrationSchema = z
  .object({
    company: companySchema,
    contact: z.object({ name: z.string().trim().min(1).max(200), email: z.string().trim().email().max(320) }).strict(),
    amount: z
      .object({
        value: z.number().finite().min(0).max(1e12),
        currency: z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code, e.g. "EUR"'),
      })
      .strict()
      .optional(),
    expectedCloseDate: isoDate.optional(),
    notes: z.string().max(5000).optional(),
  })
  .strict();

export type SubmitRegistrationInput = z.output<typeof submitRegistrationSchema>;

export const checkAvailabilitySchema = z.object({ company: companySchema }).strict();

export type Submitter = PartnerPrincipal | ((CrmUserPrincipal | SystemPrincipal) & { partnerId: string });

export interface SubmitResult {
  registration: RegistrationRow;
  /** True when an Idempotency-Key matched an earlier identical request: nothing new was written. */
  replayed: boolean;
}

const MAX_RACE_RETRIES = 3;

/** Domain syntax first: an unusable domain never reaches the database. */
function requireUsableDomain(input: string): string {
  const d = normaliseDomain(input);
  if (!d.ok && d.code === 'INVALID_DOMAIN') {
    throw unprocessable('INVALID_DOMAIN', d.message, { field: 'company.domain', input });
  }
  return d.ok ? d.domain : (d.domain ?? input.toLowerCase());
}

// Parsed policies by their stored JSON text: every check and registration reads the policy in force, and
// parsing (JSON + zod) it each time cost more than the rest of the verdict. A stored body parses the same
// every time, so equal text means an equal policy; the objects are frozen because they are shared.
const parsedPolicies = new Map<string, Policy>();
const MAX_PARSED_POLICIES = 256;

function policyFromText(bodyText: string | undefined): Policy {
  if (bodyText === undefined) return parseStoredPolicy({});
  let policy = parsedPolicies.get(bodyText);
  if (!policy) {
    policy = deepFreeze(parseStoredPolicy(JSON.parse(bodyText) as unknown));
    if (parsedPolicies.size >= MAX_PARSED_POLICIES) parsedPolicies.clear();
    parsedPolicies.set(bodyText, policy);
  }
  return policy;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** A partner API key as stored (what authenticates a partner). */
export interface PartnerKeyRow {
  id: string;
  workspaceId: string;
  partnerId: string;
  revokedAt: Date | string | null;
}

/**
 * A partner key not verified yet (src/http/middleware/auth.ts): the evidence query reads its row in the
 * same round trip and hands it to accept(), which throws unless the key authenticates the partner the
 * request acts as. Nothing is decided or written before that.
 */
export interface KeyCheck {
  readonly keyHash: string;
  readonly verified: boolean;
  accept(key: PartnerKeyRow | null): void;
}

async function decide(ctx: UseCaseContext, workspaceId: string, candidate: RegistrationCandidate, domain: string, keyCheck?: KeyCheck) {
  const pending = keyCheck && !keyCheck.verified ? keyCheck : undefined;
  const bundle = await gatherEvidence(ctx.prisma, {
    workspaceId,
    partnerId: candidate.partnerId,
    domain,
    nameKey: companyNameKey(candidate.company.name),
    ...(pending ? { keyHash: pending.keyHash } : {}),
  });
  pending?.accept(bundle.key ?? null);
  if (!bundle.evidence) throw notFound('Partner');
  const policy = policyFromText(bundle.policy?.bodyText);
  const policyVersion = bundle.policy?.version ?? 0;
  const verdict = evaluate({ candidate, evidence: bundle.evidence, policy, policyVersion, now: ctx.clock() });
  return { verdict, evidence: bundle.evidence, policy };
}

/** Input problems found by the rules (not a decision about the account): answered as 422, nothing stored. */
function refuseUnusableDomain(verdict: Verdict): void {
  const bad = verdict.reasons.find((r) => r.code === 'INVALID_DOMAIN' || r.code === 'FREE_EMAIL_DOMAIN');
  if (bad) throw unprocessable(bad.code, bad.message, { field: 'company.domain', reasons: [{ code: bad.code, message: bad.message }] });
}

export async function checkAvailability(ctx: UseCaseContext, partner: PartnerPrincipal, input: z.output<typeof checkAvailabilitySchema>, opts: { keyCheck?: KeyCheck } = {}) {
  const domain = requireUsableDomain(input.company.domain);
  const candidate: RegistrationCandidate = { partnerId: partner.partnerId, company: input.company };
  const { verdict } = await decide(ctx, partner.workspaceId, candidate, domain, opts.keyCheck);
  refuseUnusableDomain(verdict);
  // Only the availability: never who owns the account or which partner holds it.
  return { availability: availabilityFrom(verdict) };
}

export async function submitRegistration(
  ctx: UseCaseContext,
  by: Submitter,
  input: SubmitRegistrationInput,
  opts: { idempotencyKey?: string; source?: string; keyCheck?: KeyCheck } = {},
): Promise<SubmitResult> {
  const workspaceId = by.workspaceId;
  const partnerId = by.partnerId;
  const requestHash = opts.idempotencyKey ? sha256Hex(canonicalJson(input)) : null;
  // The Idempotency-Key look-up reads before the evidence query: it needs a verified key (the route's job).
  if (opts.keyCheck && !opts.keyCheck.verified && opts.idempotencyKey) throw new Error('submitRegistration: verify the partner key before an Idempotency-Key look-up');

  if (opts.idempotencyKey) {
    const earlier = await findByIdempotencyKey(ctx, workspaceId, partnerId, opts.idempotencyKey);
    if (earlier) return replay(earlier, requestHash!);
  }

  const domain = requireUsableDomain(input.company.domain);
  const candidate: RegistrationCandidate = { partnerId, company: { name: input.company.name, domain: input.company.domain, country: input.company.country ?? null } };
  const actor = actorOf(by, opts.source);

  for (let attempt = 0; ; attempt++) {
    const { verdict, evidence, policy } = await decide(ctx, workspaceId, candidate, domain, opts.keyCheck);
    if (opts.keyCheck && !opts.keyCheck.verified) throw new Error('submitRegistration: the partner key was not verified');
    refuseUnusableDomain(verdict);
    const status = initialStatus(verdict.outcome);
    const now = ctx.clock();
    const protection = status === 'approved' ? computeProtection([{ type: 'approved', at: now.toISOString(), days: policy.protection.defaultDays }], policy) : null;
    const id = uuidv7();
    const companyDomain = verdict.domain ?? domain;
    let row: RegistrationRow;
    try {
      // One statement: the registration, its hold on the account, the outbox row and the ledger event.
      row = await insertRegistration(
        ctx.prisma,
        {
          id,
          workspaceId,
          partnerId,
          status,
          source: opts.source ?? (by.kind === 'partner' ? 'api' : by.kind === 'crm_user' ? `crm:${by.crm}` : by.source),
          companyName: input.company.name,
          companyNameKey: companyNameKey(input.company.name),
          companyDomain,
          companyCountry: input.company.country ?? null,
          contactName: input.contact.name,
          contactEmail: input.contact.email,
          amountValue: input.amount?.value ?? null,
          amountCurrency: input.amount?.currency ?? null,
          expectedCloseDate: input.expectedCloseDate ?? null,
          notes: input.notes ?? null,
          verdict,
          evidence,
          policyVersion: verdict.policyVersion,
          protectionStartsAt: protection ? new Date(protection.startsAt) : null,
          protectionEndsAt: protection ? new Date(protection.endsAt) : null,
          nextReminderAt: protection ? nextReminderAt(protection, policy, []) : null,
          idempotencyKey: opts.idempotencyKey ?? null,
          requestHash,
          decidedAt: status === 'pending_review' ? null : now,
          createdAt: now,
          hold: isActive(status),
          outboxEvent: 'registration.submitted',
          ledger: {
            type: 'registration.submitted',
            actor,
            data: {
              partnerId,
              status,
              company: { name: input.company.name, domain: companyDomain },
              verdict: { outcome: verdict.outcome, codes: verdict.reasons.map((r) => r.code), policyVersion: verdict.policyVersion },
              protection: protection ? { startsAt: protection.startsAt, endsAt: protection.endsAt, days: policy.protection.defaultDays } : null,
            },
          },
        },
        evidence.partner,
      );
    } catch (err) {
      // Someone else holds the account now (we lost a race): decide again with them as evidence.
      if ((err instanceof HoldTakenError || isWriteConflict(err)) && attempt < MAX_RACE_RETRIES) continue;
      if (err instanceof IdempotencyKeyTakenError && opts.idempotencyKey) {
        const earlier = await findByIdempotencyKey(ctx, workspaceId, partnerId, opts.idempotencyKey);
        if (earlier) return replay(earlier, requestHash!);
      }
      throw err;
    }
    ctx.metrics.verdicts.inc({ outcome: verdict.outcome });
    nudgeOutbox(ctx);
    return { registration: row, replayed: false };
  }
}

// The dispatcher moves outbox rows into the queue in one transaction per pass; nudging it after every
// registration made it run one pass per registration under load (a Prisma transaction and a Redis round
// trip each). Nudges within NUDGE_COALESCE_MS of each other become one: the rows of a burst go in one
// pass, a few milliseconds later. (Without a nudge the dispatcher still polls.)
const NUDGE_COALESCE_MS = 20;
const nudgesDue = new WeakSet<() => void>();

function nudgeOutbox(ctx: UseCaseContext): void {
  const nudge = ctx.outboxWritten;
  if (!nudge || nudgesDue.has(nudge)) return;
  nudgesDue.add(nudge);
  setTimeout(() => {
    nudgesDue.delete(nudge);
    nudge();
  }, NUDGE_COALESCE_MS);
}

async function findByIdempotencyKey(ctx: UseCaseContext, workspaceId: string, partnerId: string, key: string): Promise<RegistrationRow | null> {
  return ctx.prisma.registration.findFirst({ where: { workspaceId, partnerId, idempotencyKey: key }, include: withPartner });
}

function replay(earlier: RegistrationRow, requestHash: string): SubmitResult {
  if (earlier.requestHash !== requestHash) {
    throw new AppError(
      422,
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was already used with a different request body. Use a new key for a new registration.',
      { registrationId: earlier.id },
    );
  }
  return { registration: earlier, replayed: true };
}

/** Deadlock or serialization failure: safe to retry the whole transaction. */
export function isWriteConflict(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'P2034' || code === '40P01' || code === '40001';
}

export { findRegistration };
