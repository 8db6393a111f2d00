// DUPLICATE_REGISTRATION: an active registration (pending review or approved) already holds this domain.
// First to register wins: the earliest createdAt (then the smaller id) is the holder, and the one reason
// cites it. Always reject.
import { sameRegistrableDomain } from '../domain-name';
import type { ActiveRegistrationFact } from '../types';
import type { Rule, RuleContext } from './rule';

/** Active registrations on the candidate's registrable domain, holder first. */
export const registrationsOnDomain = (ctx: RuleContext): ActiveRegistrationFact[] => {
  const { domain } = ctx;
  if (domain === null) return [];
  return ctx.evidence.activeRegistrations
    .filter((r) => r.matchedBy === 'domain' && sameRegistrableDomain(r.domain, domain))
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
};

export const duplicateRegistration: Rule = (ctx) => {
  const holder = registrationsOnDomain(ctx)[0];
  if (!holder) return [];
  const own = holder.partnerId === ctx.candidate.partnerId;
  return [
    {
      code: 'DUPLICATE_REGISTRATION',
      outcome: 'reject',
      message: own
        ? `You already registered this account (${ctx.domain}); that registration is still ${holder.status === 'approved' ? 'protected' : 'pending review'}.`
        : 'Another partner registered this company first.',
      evidence: {
        matchedDomain: ctx.domain ?? undefined,
        registration: {
          id: holder.id,
          partnerId: holder.partnerId,
          partnerName: holder.partnerName,
          companyName: holder.companyName,
          status: holder.status,
          createdAt: holder.createdAt,
        },
      },
    },
  ];
};
