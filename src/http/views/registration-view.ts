// The registration as the API shows it (DESIGN.md "A registration in JSON"). Partners see reason codes
// and messages; staff also see each reason's evidence (owners, conflicting deals, other partners).
import type { RegistrationRow } from '../../data/repositories/registrations';
import type { Verdict } from '../../domain/types';
import { daysLeft } from '../../domain/protection-clock';
import { partnerVerdict } from '../../domain/partner-verdict';

export type Audience = 'partner' | 'staff';

export interface CrmLinks {
  hubspot?: { dealId: string };
  salesforce?: { opportunityId: string };
}

export function registrationView(r: RegistrationRow, audience: Audience, now: Date, crm: CrmLinks = {}) {
  const verdict = r.verdict as unknown as Verdict;
  const protection =
    r.protectionStartsAt && r.protectionEndsAt
      ? {
          startsAt: r.protectionStartsAt.toISOString(),
          endsAt: r.protectionEndsAt.toISOString(),
          daysLeft:
            r.status === 'approved'
              ? daysLeft({ startsAt: r.protectionStartsAt.toISOString(), endsAt: r.protectionEndsAt.toISOString(), extensionsUsed: r.extensionsUsed, extendedDays: 0, endedAt: null }, now)
              : 0,
          extensionsUsed: r.extensionsUsed,
        }
      : null;
  return {
    id: r.id,
    partnerId: r.partnerId,
    ...(audience === 'staff' ? { partner: { id: r.partner.id, name: r.partner.name, type: r.partner.type, tier: r.partner.tier } } : {}),
    status: r.status,
    source: r.source,
    company: { name: r.companyName, domain: r.companyDomain, ...(r.companyCountry ? { country: r.companyCountry } : {}) },
    contact: { name: r.contactName, email: r.contactEmail },
    amount: r.amountValue !== null ? { value: Number(r.amountValue), currency: r.amountCurrency } : null,
    expectedCloseDate: r.expectedCloseDate ? r.expectedCloseDate.toISOString().slice(0, 10) : null,
    notes: r.notes,
    verdict:
      audience === 'staff'
        ? {
            outcome: verdict.outcome,
            reasons: verdict.reasons.map((x) => ({ code: x.code, message: x.message, evidence: x.evidence })),
            policyVersion: verdict.policyVersion,
            mirrorFreshness: verdict.mirrorFreshness,
            evaluatedAt: verdict.evaluatedAt,
          }
        : partnerVerdict(verdict),
    protection,
    crm,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export interface LedgerEventRow {
  seq: bigint;
  type: string;
  actorType: string;
  actorId: string | null;
  source: string;
  data: unknown;
  hash: string;
  createdAt: Date;
}

export function eventView(e: LedgerEventRow, audience: Audience) {
  return {
    seq: Number(e.seq),
    type: e.type,
    // Partners see who acted by kind only (a partner sees its own id).
    actor: audience === 'staff' || e.actorType === 'partner' ? { type: e.actorType, id: e.actorId } : { type: e.actorType },
    source: e.source,
    data: audience === 'staff' ? e.data : partnerSafeEventData(e.type, e.data),
    createdAt: e.createdAt.toISOString(),
    hash: e.hash,
  };
}

/**
 * Event data never carries evidence; still drop, for partners, fields that identify staff or CRM users,
 * and other partners' credit: an attribution change shows no split and no reason, a win only the total.
 */
function partnerSafeEventData(type: string, data: unknown): unknown {
  if (!data || typeof data !== 'object') return data;
  const { note: _note, ...rest } = data as Record<string, unknown>;
  if (type === 'registration.attribution_changed') return {};
  if ('attribution' in rest) {
    const { attribution: _attribution, ...withoutSplit } = rest;
    return withoutSplit;
  }
  return rest;
}
