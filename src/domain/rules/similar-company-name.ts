// SIMILAR_COMPANY_NAME: a name-matched CRM account or active registration on another domain whose name
// scores at or above policy.similarNameThreshold (companyNameSimilarity). One reason per record.
// Name-based, so it runs even when the candidate's domain is unusable.
import { companyNameSimilarity } from '../company-name';
import { sameRegistrableDomain } from '../domain-name';
import type { Reason } from '../types';
import { accountEvidence, type Rule } from './rule';

const MESSAGE = 'A company with a very similar name is already registered with us or in our CRM.';
const round = (score: number): number => Math.round(score * 1000) / 1000;

export const similarCompanyName: Rule = (ctx) => {
  const ours = ctx.candidate.company.name;
  const candidateDomain = ctx.domainCheck.domain;
  const otherDomain = (domains: string[]) =>
    candidateDomain === null || !domains.some((d) => sameRegistrableDomain(d, candidateDomain));
  const outcome = ctx.policy.outcomes.SIMILAR_COMPANY_NAME;
  const threshold = ctx.policy.similarNameThreshold;
  const reasons: Reason[] = [];

  for (const a of ctx.evidence.accounts) {
    if (a.matchedBy !== 'name' || !otherDomain(a.domains)) continue;
    const score = companyNameSimilarity(ours, a.name);
    if (score < threshold) continue;
    reasons.push({
      code: 'SIMILAR_COMPANY_NAME',
      outcome,
      message: MESSAGE,
      evidence: { account: accountEvidence(a), similarity: { theirs: a.name, ours, score: round(score) } },
    });
  }
  for (const r of ctx.evidence.activeRegistrations) {
    if (r.matchedBy !== 'name' || !otherDomain([r.domain])) continue;
    const score = companyNameSimilarity(ours, r.companyName);
    if (score < threshold) continue;
    reasons.push({
      code: 'SIMILAR_COMPANY_NAME',
      outcome,
      message: MESSAGE,
      evidence: {
        registration: {
          id: r.id,
          partnerId: r.partnerId,
          partnerName: r.partnerName,
          companyName: r.companyName,
          domain: r.domain,
          status: r.status,
          createdAt: r.createdAt,
        },
        similarity: { theirs: r.companyName, ours, score: round(score) },
      },
    });
  }
  return reasons;
};
