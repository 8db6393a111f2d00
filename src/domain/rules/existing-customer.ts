// EXISTING_CUSTOMER: a CRM account on this domain is already a customer. One reason per account.
import { accountEvidence, domainMatchedAccounts, type Rule } from './rule';

export const existingCustomer: Rule = (ctx) =>
  domainMatchedAccounts(ctx)
    .filter((a) => a.isCustomer)
    .map((a) => ({
      code: 'EXISTING_CUSTOMER' as const,
      outcome: ctx.policy.outcomes.EXISTING_CUSTOMER,
      message: 'This company is already our customer.',
      evidence: { matchedDomain: ctx.domain ?? undefined, account: accountEvidence(a) },
    }));
