// DIRECT_OWNED_ACCOUNT: a CRM account on this domain is owned by direct sales. One reason per account.
import { accountEvidence, domainMatchedAccounts, type Rule } from './rule';

export const directOwnedAccount: Rule = (ctx) =>
  domainMatchedAccounts(ctx)
    .filter((a) => a.ownerRole === 'direct')
    .map((a) => ({
      code: 'DIRECT_OWNED_ACCOUNT' as const,
      outcome: ctx.policy.outcomes.DIRECT_OWNED_ACCOUNT,
      message: 'This account is owned by our direct sales team.',
      evidence: { matchedDomain: ctx.domain ?? undefined, account: accountEvidence(a) },
    }));
