// What every rule sees, and the shape of a rule: one finding → one Reason.
import type { NormalisedDomain } from '../domain-name';
import type { Policy } from '../policy';
import type { MirrorAccountFact, Evidence, Reason, RegistrationCandidate } from '../types';

export interface RuleContext {
  candidate: RegistrationCandidate;
  evidence: Evidence;
  policy: Policy;
  now: Date;
  /** The candidate's domain, normalised (or refused). */
  domainCheck: NormalisedDomain;
  /** The registrable domain to check against the mirror; null when it is unusable (invalid or free mail). */
  domain: string | null;
}

/** Messages go to the partner: never an owner's name, another partner's name or id, or a CRM record id. */
export type Rule = (ctx: RuleContext) => Reason[];

export const domainMatchedAccounts = (ctx: RuleContext): MirrorAccountFact[] =>
  ctx.domain === null ? [] : ctx.evidence.accounts.filter((a) => a.matchedBy === 'domain');

export const accountEvidence = (a: MirrorAccountFact) => ({
  crm: a.crm,
  externalId: a.externalId,
  name: a.name,
  ownerName: a.ownerName,
  ownerRole: a.ownerRole,
});
