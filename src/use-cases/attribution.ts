// Attribution: who gets credit for a registration. Read in batches (the CRM cards call attributionFor on
// their hot path: two queries whatever the batch size), edited by partner managers and admins (one
// transaction: the row and its ledger event), frozen with the won amount when the registration is won
// (inside the won transaction, see closeRegistration).
import { z } from 'zod';
import {
  attributionFacts, attributionPolicyInForce, existingPartnerIds, existingRegistrationIds, freezeAttribution, lockRegistration,
  registrationIdForCrmRecord, saveAttribution, type AttributionFacts, type InfluenceQuery,
} from '../data/repositories/attribution';
import { isUuid, type RegistrationRow } from '../data/repositories/registrations';
import type { Tx } from '../data/prisma';
import { appendLedgerEvent } from '../data/ledger';
import {
  ATTRIBUTION_ROLES, MAX_SPLIT_PARTNERS, basisPoints, defaultAttribution, sameSplit, toAttributionView, toPartnerAttributionView, validateSplit, wonAttribution,
  type AttributionIssue, type AttributionShare, type AttributionView, type PartnerAttributionView,
} from '../domain/attribution';
import type { AttributionPolicy } from '../domain/policy';
import type { CrmName } from '../domain/types';
import { conflict, forbidden, notFound, unprocessable } from '../lib/errors';
import { actorOf, type PartnerPrincipal, type Principal, type StaffPrincipal, type UseCaseContext } from './context';

const EDITORS = ['admin', 'partner_manager'] as const;

const evidenceSchema = z
  .object({
    registrationId: z.string().uuid('use the id of a registration in this workspace').optional(),
    touchedAt: z.iso.date('use a date like 2026-10-12').optional(),
    note: z.string().trim().min(1).max(500).optional(),
  })
  .strict();

export const replaceAttributionSchema = z
  .object({
    partners: z
      .array(
        z
          .object({
            partnerId: z.string().uuid('use a partner id (UUID)'),
            role: z.enum(ATTRIBUTION_ROLES),
            percent: z.number(),
            evidence: evidenceSchema.nullable().default(null),
          })
          .strict(),
      )
      .min(1, 'name at least the sourcing partner')
      .max(MAX_SPLIT_PARTNERS, `at most ${MAX_SPLIT_PARTNERS} partners can share a registration`),
    reason: z.string().trim().min(1, 'say why, so the partners and the audit trail understand').max(2000),
  })
  .strict();
export type ReplaceAttributionInput = z.output<typeof replaceAttributionSchema>;

function influenceQuery(settings: AttributionPolicy): InfluenceQuery | null {
  const sourcingBp = basisPoints(settings.sourcingPercent) ?? 10_000;
  if (settings.influencers !== 'other_registrations' || sourcingBp >= 10_000) return null;
  return { windowDays: settings.influenceWindowDays, limit: MAX_SPLIT_PARTNERS - 1 };
}

function defaultsOf(f: AttributionFacts, settings: AttributionPolicy): AttributionShare[] {
  return defaultAttribution(settings, { id: f.registrationId, partnerId: f.partnerId, companyDomain: f.companyDomain, submittedAt: f.createdAt }, f.candidates);
}

function viewOf(f: AttributionFacts, settings: AttributionPolicy): AttributionView {
  return toAttributionView({
    registrationId: f.registrationId,
    record: f.record,
    defaults: f.record ? [] : defaultsOf(f, settings),
    currentAmount: f.amount,
    partnerNames: f.partnerNames,
  });
}

/** The split in force: the stored one, else the default model's. */
function sharesInForce(f: AttributionFacts, settings: AttributionPolicy): AttributionShare[] {
  return f.record ? f.record.partners : defaultsOf(f, settings);
}

/**
 * Attribution documents for registrations of a workspace (unknown ids are left out): one query for the
 * policy's attribution section, one for the registrations, their stored rows, partner names and (for
 * registrations without a row, when the policy has influencers) the influencer candidates.
 */
export async function attributionFor(ctx: UseCaseContext, workspaceId: string, registrationIds: string[]): Promise<Map<string, AttributionView>> {
  const ids = [...new Set(registrationIds)].filter(isUuid);
  const out = new Map<string, AttributionView>();
  if (ids.length === 0) return out;
  const settings = await attributionPolicyInForce(ctx.prisma, workspaceId);
  const facts = await attributionFacts(ctx.prisma, workspaceId, ids, influenceQuery(settings));
  for (const f of facts) out.set(f.registrationId, viewOf(f, settings));
  return out;
}

/** GET /v1/registrations/:id/attribution: staff see every partner; a partner (its own registrations only) sees the others anonymously. */
export async function readAttribution(ctx: UseCaseContext, by: StaffPrincipal | PartnerPrincipal, registrationId: string): Promise<AttributionView | PartnerAttributionView> {
  const view = (await attributionFor(ctx, by.workspaceId, [registrationId])).get(registrationId);
  if (by.kind === 'partner') {
    // Another partner's registration is "not found", as everywhere else.
    if (!view || !view.partners.some((p) => p.role === 'sourcing' && p.partnerId === by.partnerId)) throw notFound('Registration');
    return toPartnerAttributionView(view, by.partnerId);
  }
  if (!view) throw notFound('Registration');
  return view;
}

/** GET /v1/attribution?crm=&recordId=: the attribution of the registration behind a CRM deal / opportunity. */
export async function attributionForCrmRecord(ctx: UseCaseContext, workspaceId: string, crm: CrmName, recordId: string): Promise<AttributionView> {
  const registrationId = await registrationIdForCrmRecord(ctx.prisma, workspaceId, crm, recordId);
  const view = registrationId ? (await attributionFor(ctx, workspaceId, [registrationId])).get(registrationId) : undefined;
  if (!view) throw notFound(`A registration linked to this ${crm === 'hubspot' ? 'HubSpot deal' : 'Salesforce opportunity'}`);
  return view;
}

function invalid(issues: AttributionIssue[]) {
  return unprocessable('INVALID_ATTRIBUTION', 'The attribution is not valid: see details for each problem.', { issues });
}

const frozenError = () => conflict('ATTRIBUTION_FROZEN', 'This registration was won: its attribution was frozen with the won amount and can no longer change.');

const toShares = (input: ReplaceAttributionInput): AttributionShare[] =>
  input.partners.map((p) => ({
    partnerId: p.partnerId,
    role: p.role,
    percent: p.percent,
    evidence: p.evidence && Object.keys(p.evidence).length > 0 ? { ...p.evidence } : null,
  }));

/**
 * A partner manager (or admin) replaces the split. Validated (sum, decimals, one sourcing partner: the
 * registration's own, no partner twice, partners and evidence registrations of this workspace), refused
 * once frozen; the row and a `registration.attribution_changed` ledger event in one transaction, under
 * the registration's row lock (so an edit and a win never interleave). The same split again writes nothing.
 */
export async function replaceAttribution(ctx: UseCaseContext, by: StaffPrincipal, registrationId: string, input: ReplaceAttributionInput): Promise<AttributionView> {
  if (!(EDITORS as readonly string[]).includes(by.role)) {
    throw forbidden('Only a partner manager (or an admin) can change a registration\'s attribution.', { requiredRoles: EDITORS, role: by.role });
  }
  if (!isUuid(registrationId)) throw notFound('Registration');
  const to = toShares(input);
  const at = ctx.clock();
  const settings = await attributionPolicyInForce(ctx.prisma, by.workspaceId);
  const changed = await ctx.prisma.$transaction(async (tx) => {
    const reg = await lockRegistration(tx, by.workspaceId, registrationId);
    if (!reg) throw notFound('Registration');
    const facts = (await attributionFacts(tx, by.workspaceId, [registrationId], influenceQuery(settings)))[0]!;
    if (reg.status === 'won' || facts.record?.frozenAt) throw frozenError();
    const issues = validateSplit(to, reg.partnerId);
    issues.push(...(await unknownReferences(tx, by.workspaceId, to)));
    if (issues.length > 0) throw invalid(issues);
    const from = sharesInForce(facts, settings);
    if (facts.record?.source === 'staff' && sameSplit(from, to)) return false;
    await saveAttribution(tx, { workspaceId: by.workspaceId, registrationId, partners: to, updatedBy: `staff:${by.tokenId}`, at });
    await appendLedgerEvent(tx, { workspaceId: by.workspaceId, registrationId, type: 'registration.attribution_changed', actor: actorOf(by), data: { from, to, reason: input.reason }, at });
    return true;
  });
  if (changed) ctx.log.info({ component: 'attribution', registrationId, partners: to.length }, 'attribution changed');
  return (await attributionFor(ctx, by.workspaceId, [registrationId])).get(registrationId)!;
}

/** Partner ids and evidence registrations that are not this workspace's. */
async function unknownReferences(tx: Tx, workspaceId: string, shares: AttributionShare[]): Promise<AttributionIssue[]> {
  const partnerIds = [...new Set(shares.map((s) => s.partnerId))];
  const evidenceIds = [...new Set(shares.flatMap((s) => (s.evidence?.registrationId ? [s.evidence.registrationId] : [])))];
  const [partners, registrations] = await Promise.all([existingPartnerIds(tx, workspaceId, partnerIds), existingRegistrationIds(tx, workspaceId, evidenceIds)]);
  const issues: AttributionIssue[] = [];
  shares.forEach((s, i) => {
    if (!partners.has(s.partnerId)) issues.push({ path: `partners.${i}.partnerId`, code: 'UNKNOWN_PARTNER', message: 'no partner with this id in this workspace' });
    const ev = s.evidence?.registrationId;
    if (ev && !registrations.has(ev)) issues.push({ path: `partners.${i}.evidence.registrationId`, code: 'UNKNOWN_REGISTRATION', message: 'no registration with this id in this workspace' });
  });
  return issues;
}

/**
 * For closeRegistration (outcome won), read before its transaction: the split in force with its
 * per-partner amounts of the won amount (for the `registration.won` event), and the step that freezes
 * it inside the won transaction (which re-plans when the split changed in between).
 */
export async function planAttributionFreeze(
  ctx: UseCaseContext,
  reg: RegistrationRow,
  settings: AttributionPolicy,
  won: { value: number | null; currency: string | null },
  by: Principal,
  at: Date,
): Promise<{ attribution: ReturnType<typeof wonAttribution>; freeze: (tx: Tx) => Promise<void> }> {
  const facts = (await attributionFacts(ctx.prisma, reg.workspaceId, [reg.id], influenceQuery(settings)))[0];
  if (!facts) throw notFound('Registration');
  const partners = sharesInForce(facts, settings);
  const source = facts.record?.source ?? 'default';
  const actor = actorOf(by);
  const view = toAttributionView({
    registrationId: reg.id,
    record: { partners, source, frozenAt: at, frozenAmount: won.value, frozenCurrency: won.currency, updatedAt: at },
    defaults: [],
    currentAmount: null,
    partnerNames: facts.partnerNames,
  });
  return {
    attribution: wonAttribution(view),
    freeze: (tx) =>
      freezeAttribution(tx, {
        workspaceId: reg.workspaceId,
        registrationId: reg.id,
        seen: facts.record,
        partners,
        source,
        amount: won.value,
        currency: won.currency,
        at,
        updatedBy: `${actor.type}:${actor.id ?? actor.source}`,
      }),
  };
}
