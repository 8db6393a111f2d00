// A stored registration as the plain facts a sync mapping reads (src/domain/sync-plan.ts).
import type { RegistrationRow } from '../../data/repositories/registrations';
import type { RegistrationFacts } from '../../domain/sync-plan';
import type { Verdict } from '../../domain/types';

export function registrationFacts(r: RegistrationRow, publicBaseUrl: string | null): RegistrationFacts {
  const verdict = r.verdict as unknown as Verdict;
  return {
    id: r.id,
    url: publicBaseUrl ? `${publicBaseUrl.replace(/\/$/, '')}/v1/registrations/${r.id}` : null,
    status: r.status,
    source: r.source,
    company: { name: r.companyName, domain: r.companyDomain, country: r.companyCountry },
    contact: { name: r.contactName, email: r.contactEmail },
    amount: r.amountValue !== null ? { value: Number(r.amountValue), currency: r.amountCurrency } : null,
    expectedCloseDate: r.expectedCloseDate ? r.expectedCloseDate.toISOString().slice(0, 10) : null,
    notes: r.notes,
    partner: { name: r.partner.name, type: r.partner.type, tier: r.partner.tier },
    protection: r.protectionStartsAt && r.protectionEndsAt ? { startsAt: r.protectionStartsAt.toISOString(), endsAt: r.protectionEndsAt.toISOString() } : null,
    verdict: { outcome: verdict?.outcome ?? 'review', codes: (verdict?.reasons ?? []).map((x) => x.code) },
  };
}
