// The rules of engagement: evaluate(candidate, evidence, policy) → Verdict. Pure: the evidence is
// gathered by the caller (from the account mirror), `now` is passed in.
//
// Each rule reports one Reason per distinct finding (two open opportunities → two OPEN_OPPORTUNITY
// reasons), each with the evidence that identifies its record. When the domain is unusable (invalid or
// free mail) the domain-based rules are skipped; partner and name rules still run.
import { normaliseDomain } from '../domain-name';
import type { Policy } from '../policy';
import type { Evidence, Outcome, Reason, RegistrationCandidate, Verdict } from '../types';
import { directOwnedAccount } from './direct-owned-account';
import { domainValidity } from './domain-validity';
import { duplicateRegistration } from './duplicate-registration';
import { existingCustomer } from './existing-customer';
import { openOpportunity } from './open-opportunity';
import { partnerCap } from './partner-cap';
import { partnerInactive } from './partner-inactive';
import { reservedAccount } from './reserved-account';
import type { Rule, RuleContext } from './rule';
import { similarCompanyName } from './similar-company-name';

export interface EvaluateInput {
  candidate: RegistrationCandidate;
  evidence: Evidence;
  policy: Policy;
  policyVersion: number;
  now: Date;
}

const RULES: readonly Rule[] = [
  domainValidity,
  partnerInactive,
  partnerCap,
  duplicateRegistration,
  directOwnedAccount,
  openOpportunity,
  existingCustomer,
  reservedAccount,
  similarCompanyName,
];

const SEVERITY: Record<Outcome, number> = { reject: 0, review: 1, approve: 2 };

/** Identifies the record a reason is about, so that equal codes sort the same whatever the evidence order. */
const recordKey = ({ evidence: e }: Reason): string =>
  [
    e.reserved ? `${e.reserved.kind}:${e.reserved.value}` : '',
    e.account ? `${e.account.crm}:${e.account.externalId}` : '',
    e.opportunity ? `${e.opportunity.crm}:${e.opportunity.externalId}` : '',
    e.registration?.id ?? '',
  ].join('|');

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Reject reasons first, then review, then approve; then by code; then by the record they cite. */
export const compareReasons = (a: Reason, b: Reason): number =>
  SEVERITY[a.outcome] - SEVERITY[b.outcome] || compareText(a.code, b.code) || compareText(recordKey(a), recordKey(b));

/** Any reject → reject; else any review → review; else approve when policy.autoApprove, review otherwise. */
export const combineOutcome = (reasons: readonly Reason[], autoApprove: boolean): Outcome => {
  if (reasons.some((r) => r.outcome === 'reject')) return 'reject';
  if (reasons.some((r) => r.outcome === 'review')) return 'review';
  return autoApprove ? 'approve' : 'review';
};

export const evaluate = ({ candidate, evidence, policy, policyVersion, now }: EvaluateInput): Verdict => {
  const domainCheck = normaliseDomain(candidate.company.domain, {
    extraFreeEmailDomains: policy.freeEmailDomains,
    notFreeEmailDomains: policy.notFreeEmailDomains,
  });
  const ctx: RuleContext = { candidate, evidence, policy, now, domainCheck, domain: domainCheck.ok ? domainCheck.domain : null };
  const reasons = RULES.flatMap((rule) => rule(ctx)).sort(compareReasons);
  return {
    outcome: combineOutcome(reasons, policy.autoApprove),
    reasons,
    policyVersion,
    domain: domainCheck.domain,
    mirrorFreshness: evidence.mirrorFreshness.map((f) => ({ ...f })),
    evaluatedAt: now.toISOString(),
  };
};
