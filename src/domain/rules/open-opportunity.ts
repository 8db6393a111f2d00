// OPEN_OPPORTUNITY: an open opportunity on a CRM account of this domain. One reason per opportunity.
// An opportunity that is the CRM side of a registration already reported as DUPLICATE_REGISTRATION
// (its registrationId is one of the active registrations on this domain) is not reported again.
import { registrationsOnDomain } from './duplicate-registration';
import { accountEvidence, domainMatchedAccounts, type Rule } from './rule';

export const openOpportunity: Rule = (ctx) => {
  const accounts = new Map(domainMatchedAccounts(ctx).map((a) => [`${a.crm}:${a.externalId}`, a]));
  if (accounts.size === 0) return [];
  const duplicates = new Set(registrationsOnDomain(ctx).map((r) => r.id));
  return ctx.evidence.openOpportunities.flatMap((o) => {
    const account = accounts.get(`${o.crm}:${o.accountExternalId}`);
    if (!account || (o.registrationId !== null && duplicates.has(o.registrationId))) return [];
    return [
      {
        code: 'OPEN_OPPORTUNITY' as const,
        outcome: ctx.policy.outcomes.OPEN_OPPORTUNITY,
        message: 'Our sales team is already working an open opportunity with this company.',
        evidence: {
          matchedDomain: ctx.domain ?? undefined,
          account: accountEvidence(account),
          opportunity: {
            crm: o.crm,
            externalId: o.externalId,
            name: o.name,
            stage: o.stage,
            amount: o.amount,
            ownerName: o.ownerName,
            registrationId: o.registrationId,
          },
        },
      },
    ];
  });
};
