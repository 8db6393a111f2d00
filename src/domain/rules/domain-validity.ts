// INVALID_DOMAIN and FREE_EMAIL_DOMAIN: the candidate's domain is not a company domain. Always reject.
import type { Rule } from './rule';

export const domainValidity: Rule = ({ domainCheck }) => {
  if (domainCheck.ok) return [];
  return [
    {
      code: domainCheck.code,
      outcome: 'reject',
      message: domainCheck.message,
      evidence: { domain: { input: domainCheck.input, normalised: domainCheck.domain } },
    },
  ];
};
