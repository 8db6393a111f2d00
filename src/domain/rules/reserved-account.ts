// RESERVED_ACCOUNT: the policy keeps this domain, or the company's territory, for direct sales.
// One reason per reserved domain entry and per reserved country, citing where the country came from:
// the candidate's own country first, else the first matched account in that country.
import { domainToUnicode } from 'node:url';
import { registrableDomain } from '../domain-name';
import { asciiDomain } from '../free-email-domains';
import type { Reason } from '../types';
import { accountEvidence, domainMatchedAccounts, type Rule, type RuleContext } from './rule';

const reservedDomainReasons = (ctx: RuleContext): Reason[] => {
  const { domain } = ctx;
  if (domain === null) return [];
  const unicode = domainToUnicode(domain);
  // Policies may hold thousands of entries: normalise only the entries that can name this domain.
  const entry = ctx.policy.reserved.domains.find((e) => {
    const text = e.domain.toLowerCase();
    const candidate = text.includes(domain) || (unicode !== '' && text.includes(unicode)) || /[^\x00-\x7f]/.test(text);
    return candidate && (registrableDomain(e.domain) ?? asciiDomain(e.domain)) === domain;
  });
  if (!entry) return [];
  return [
    {
      code: 'RESERVED_ACCOUNT',
      outcome: ctx.policy.outcomes.RESERVED_ACCOUNT,
      message: 'This account is reserved for our direct sales team.',
      evidence: { matchedDomain: domain, reserved: { kind: 'domain', value: entry.domain, ...(entry.note ? { note: entry.note } : {}) } },
    },
  ];
};

const countryCode = (c: string | null | undefined): string | null => (c ? c.trim().toUpperCase() : null) || null;

const reservedTerritoryReasons = (ctx: RuleContext): Reason[] => {
  const territories = new Map(ctx.policy.reserved.territories.map((t) => [t.country.toUpperCase(), t]));
  if (territories.size === 0) return [];
  const reasons: Reason[] = [];
  const reported = new Set<string>();
  const report = (country: string | null, extra: Reason['evidence']) => {
    const territory = country === null ? undefined : territories.get(country);
    if (!territory || reported.has(territory.country)) return;
    reported.add(territory.country);
    reasons.push({
      code: 'RESERVED_ACCOUNT',
      outcome: ctx.policy.outcomes.RESERVED_ACCOUNT,
      message: 'This company is in a territory that our direct sales team handles.',
      evidence: { ...extra, reserved: { kind: 'territory', value: territory.country, ...(territory.note ? { note: territory.note } : {}) } },
    });
  };
  report(countryCode(ctx.candidate.company.country), {});
  for (const a of domainMatchedAccounts(ctx)) {
    report(countryCode(a.country), { matchedDomain: ctx.domain ?? undefined, account: accountEvidence(a) });
  }
  return reasons;
};

export const reservedAccount: Rule = (ctx) => [...reservedDomainReasons(ctx), ...reservedTerritoryReasons(ctx)];
