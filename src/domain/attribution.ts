// Who gets credit for a registration: one sourcing partner (the registration's own) and any influencing
// partners, with percents (at most 2 decimals, each > 0) summing to exactly 100. Pure: the default model
// from the policy, split validation, the split of an amount into cents, and the document the API and the
// CRM cards show. Nothing here reads a database or knows HTTP.
import type { RegistrationStatus } from './types';

export const ATTRIBUTION_ROLES = ['sourcing', 'influencing'] as const;
export type AttributionRole = (typeof ATTRIBUTION_ROLES)[number];

/** At most this many partners in one split (the default model keeps the most recent influencers). */
export const MAX_SPLIT_PARTNERS = 20;

export interface AttributionEvidence {
  /** The influencing partner's own registration for the same company. */
  registrationId?: string;
  /** When the partner touched the deal (YYYY-MM-DD). */
  touchedAt?: string;
  note?: string;
}

/** One partner's share, as stored and as written to the ledger. */
export interface AttributionShare {
  partnerId: string;
  role: AttributionRole;
  percent: number;
  evidence: AttributionEvidence | null;
}

/** The policy's `attribution` section (src/domain/policy.ts). */
export interface AttributionSettings {
  sourcingPercent: number;
  influencers: 'none' | 'other_registrations';
  influenceWindowDays: number;
}

export interface AttributionView {
  registrationId: string;
  frozen: boolean;
  frozenAt: string | null;
  /** The amount the split applies to: the frozen won amount, else the registration's current amount. */
  amount: { value: number; currency: string | null } | null;
  source: 'default' | 'staff';
  partners: {
    partnerId: string;
    partnerName: string;
    role: 'sourcing' | 'influencing';
    percent: number;
    amount: number | null;
    evidence: { registrationId?: string; touchedAt?: string; note?: string } | null;
  }[];
  updatedAt: string | null;
}

/** What a partner sees: its own share in full, every other share as "another partner" (no id, name or evidence). */
export interface PartnerAttributionView extends Omit<AttributionView, 'partners'> {
  partners: {
    partnerId: string | null;
    partnerName: string;
    role: 'sourcing' | 'influencing';
    percent: number;
    amount: number | null;
    evidence: AttributionEvidence | null;
    /** True for the reading partner's own share. */
    you: boolean;
  }[];
}

export const ANOTHER_PARTNER = 'Another partner';
export const UNKNOWN_PARTNER = 'Unknown partner';

// ---------------------------------------------------------------------------------------------------
// Percents are handled as basis points (hundredths of a percent), amounts as cents: integers add up.

const BP_PER_PERCENT = 100;
const FULL_BP = 100 * BP_PER_PERCENT;

/** The percent in basis points, or null when it has more than 2 decimals (or is not finite). */
export function basisPoints(percent: number): number | null {
  if (!Number.isFinite(percent)) return null;
  const scaled = percent * BP_PER_PERCENT;
  const bp = Math.round(scaled);
  return Math.abs(scaled - bp) < 1e-6 ? bp : null;
}

const fromBp = (bp: number): number => bp / BP_PER_PERCENT;

/**
 * Spreads `total` units over `weights` (parts of `denominator`, default: their sum) by largest remainder:
 * the parts are whole and add up exactly to total × Σweights / denominator, rounded (the whole total when
 * the weights fill the denominator). Ties go to the earlier entry.
 */
function largestRemainder(total: bigint, weights: bigint[], denominator?: bigint): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  const den = denominator ?? sum;
  if (sum === 0n || den === 0n) return weights.map(() => 0n);
  const negative = total < 0n;
  const abs = negative ? -total : total;
  const target = (abs * sum * 2n + den) / (den * 2n);
  const parts = weights.map((w) => (abs * w) / den);
  const remainders = weights.map((w, i) => ({ i, r: (abs * w) % den }));
  let left = target - parts.reduce((a, b) => a + b, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left <= 0n) break;
    parts[i] = parts[i]! + 1n;
    left -= 1n;
  }
  return negative ? parts.map((p) => -p) : parts;
}

/**
 * Each share's part of `amount`, in cents: largest remainder, so that for a valid split (percents adding
 * up to 100) the parts add up to the total exactly; ties go to the earlier share, i.e. the sourcing
 * partner first. A null amount gives null parts.
 */
export function splitAmounts<T extends { percent: number }>(partners: readonly T[], amount: number | null): (T & { amount: number | null })[] {
  if (amount === null || !Number.isFinite(amount)) return partners.map((p) => ({ ...p, amount: null }));
  const cents = BigInt(Math.round(amount * 100));
  const weights = partners.map((p) => BigInt(Math.max(0, basisPoints(p.percent) ?? Math.round(p.percent * BP_PER_PERCENT))));
  const parts = largestRemainder(cents, weights, BigInt(FULL_BP));
  return partners.map((p, i) => ({ ...p, amount: Number(parts[i]!) / 100 }));
}

// ---------------------------------------------------------------------------------------------------
// The default model.

export interface AttributionRegistrationFacts {
  id: string;
  partnerId: string;
  companyDomain: string;
  /** When it was submitted. */
  submittedAt: Date;
}

/** Another registration that may have influenced this one. */
export interface InfluencerCandidate {
  registrationId: string;
  partnerId: string;
  companyDomain: string;
  status: RegistrationStatus;
  submittedAt: Date;
}

const DAY_MS = 86_400_000;

/**
 * The split when nobody edited it. The sourcing partner takes `sourcingPercent`; with
 * `influencers: 'other_registrations'` (and sourcingPercent < 100), every other partner that registered
 * the same company domain within `influenceWindowDays` before this registration (any status except
 * withdrawn) is an influencer, and they share the rest equally (to the hundredth of a percent; the
 * earliest get the odd hundredths). Evidence: their latest such registration and its submit date. With
 * no influencers, the sourcing partner takes 100.
 */
export function defaultAttribution(settings: AttributionSettings, registration: AttributionRegistrationFacts, candidates: readonly InfluencerCandidate[]): AttributionShare[] {
  const sourcingBp = basisPoints(settings.sourcingPercent) ?? FULL_BP;
  const influencers = settings.influencers === 'other_registrations' && sourcingBp < FULL_BP ? influencersOf(settings, registration, candidates) : [];
  if (influencers.length === 0) return [{ partnerId: registration.partnerId, role: 'sourcing', percent: 100, evidence: null }];
  const restBp = FULL_BP - sourcingBp;
  const each = largestRemainder(BigInt(restBp), influencers.map(() => 1n));
  return [
    { partnerId: registration.partnerId, role: 'sourcing', percent: fromBp(sourcingBp), evidence: null },
    ...influencers.map((c, i): AttributionShare => ({
      partnerId: c.partnerId,
      role: 'influencing',
      percent: fromBp(Number(each[i]!)),
      evidence: { registrationId: c.registrationId, touchedAt: c.submittedAt.toISOString().slice(0, 10) },
    })),
  ];
}

/** Influencing candidates: one per other partner (its latest registration in the window), earliest first. */
function influencersOf(settings: AttributionSettings, registration: AttributionRegistrationFacts, candidates: readonly InfluencerCandidate[]): InfluencerCandidate[] {
  const end = registration.submittedAt.getTime();
  const start = end - settings.influenceWindowDays * DAY_MS;
  const latest = new Map<string, InfluencerCandidate>();
  for (const c of candidates) {
    const t = c.submittedAt.getTime();
    if (c.registrationId === registration.id || c.partnerId === registration.partnerId) continue;
    if (c.companyDomain !== registration.companyDomain || c.status === 'withdrawn') continue;
    if (t >= end || t < start) continue;
    const seen = latest.get(c.partnerId);
    if (!seen || t > seen.submittedAt.getTime()) latest.set(c.partnerId, c);
  }
  const byRecency = [...latest.values()].sort((a, b) => b.submittedAt.getTime() - a.submittedAt.getTime() || a.partnerId.localeCompare(b.partnerId));
  // The most recent touches, at most as many as there are hundredths of a percent to share and room in a split.
  const room = Math.min(MAX_SPLIT_PARTNERS - 1, FULL_BP - (basisPoints(settings.sourcingPercent) ?? FULL_BP));
  return byRecency.slice(0, room).sort((a, b) => a.submittedAt.getTime() - b.submittedAt.getTime() || a.partnerId.localeCompare(b.partnerId));
}

// ---------------------------------------------------------------------------------------------------
// Validation of an edited split.

export type AttributionIssueCode =
  | 'NO_PARTNERS'
  | 'TOO_MANY_PARTNERS'
  | 'PERCENT_NOT_POSITIVE'
  | 'PERCENT_TOO_PRECISE'
  | 'PERCENT_TOO_LARGE'
  | 'SUM_NOT_100'
  | 'SOURCING_COUNT'
  | 'SOURCING_NOT_REGISTRANT'
  | 'DUPLICATE_PARTNER'
  | 'UNKNOWN_PARTNER'
  | 'UNKNOWN_REGISTRATION';

export interface AttributionIssue {
  /** Where, as in validation errors elsewhere: "partners.1.percent". */
  path: string;
  message: string;
  code: AttributionIssueCode;
}

const fmt = (bp: number) => String(fromBp(bp));

/**
 * The problems with a proposed split, each with a path and a message a partner manager understands
 * (empty: valid). `registrationPartnerId` is the registration's own partner, the only possible sourcing one.
 */
export function validateSplit(partners: readonly Pick<AttributionShare, 'partnerId' | 'role' | 'percent'>[], registrationPartnerId: string): AttributionIssue[] {
  const issues: AttributionIssue[] = [];
  if (partners.length === 0) return [{ path: 'partners', code: 'NO_PARTNERS', message: 'name at least the sourcing partner (the registration\'s partner, 100%)' }];
  if (partners.length > MAX_SPLIT_PARTNERS) issues.push({ path: 'partners', code: 'TOO_MANY_PARTNERS', message: `at most ${MAX_SPLIT_PARTNERS} partners can share a registration` });
  let sumBp = 0;
  let sumKnown = true;
  const firstIndex = new Map<string, number>();
  partners.forEach((p, i) => {
    const bp = basisPoints(p.percent);
    if (bp === null) {
      sumKnown = false;
      issues.push({ path: `partners.${i}.percent`, code: 'PERCENT_TOO_PRECISE', message: `${p.percent} has more than 2 decimals: use e.g. 33.33` });
    } else {
      sumBp += bp;
      if (bp <= 0) issues.push({ path: `partners.${i}.percent`, code: 'PERCENT_NOT_POSITIVE', message: 'each partner\'s percent must be more than 0 (leave a partner out instead)' });
      else if (bp > FULL_BP) issues.push({ path: `partners.${i}.percent`, code: 'PERCENT_TOO_LARGE', message: 'a percent cannot be more than 100' });
    }
    const seen = firstIndex.get(p.partnerId);
    if (seen !== undefined) issues.push({ path: `partners.${i}.partnerId`, code: 'DUPLICATE_PARTNER', message: `this partner is already listed at partners.${seen}: list each partner once` });
    else firstIndex.set(p.partnerId, i);
  });
  if (sumKnown && sumBp !== FULL_BP) {
    issues.push({ path: 'partners', code: 'SUM_NOT_100', message: `the percents add up to ${fmt(sumBp)}, they must add up to exactly 100` });
  }
  const sourcing = partners.map((p, i) => ({ p, i })).filter((x) => x.p.role === 'sourcing');
  if (sourcing.length !== 1) {
    issues.push({
      path: 'partners',
      code: 'SOURCING_COUNT',
      message: sourcing.length === 0 ? 'exactly one partner must be sourcing (the registration\'s partner); none is' : `exactly one partner must be sourcing; ${sourcing.length} are`,
    });
  }
  for (const { p, i } of sourcing) {
    if (p.partnerId !== registrationPartnerId) {
      issues.push({ path: `partners.${i}.partnerId`, code: 'SOURCING_NOT_REGISTRANT', message: 'the sourcing partner must be the partner that made the registration' });
    }
  }
  if (sourcing.length === 0 && firstIndex.has(registrationPartnerId)) {
    const i = firstIndex.get(registrationPartnerId)!;
    issues.push({ path: `partners.${i}.role`, code: 'SOURCING_NOT_REGISTRANT', message: 'the registration\'s own partner is the sourcing partner, not an influencing one' });
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------------
// The document.

/** A stored attribution row, as plain data. */
export interface AttributionRecord {
  partners: AttributionShare[];
  source: 'default' | 'staff';
  frozenAt: Date | null;
  frozenAmount: number | null;
  frozenCurrency: string | null;
  updatedAt: Date;
}

export interface AttributionViewInput {
  registrationId: string;
  /** The stored row; null: the default model applies. */
  record: AttributionRecord | null;
  /** The default model's split (used when there is no record). */
  defaults: AttributionShare[];
  /** The registration's current amount. */
  currentAmount: { value: number; currency: string | null } | null;
  partnerNames: ReadonlyMap<string, string>;
}

export function toAttributionView(i: AttributionViewInput): AttributionView {
  const r = i.record;
  const frozen = r?.frozenAt != null;
  const amount = frozen ? (r!.frozenAmount === null ? null : { value: r!.frozenAmount, currency: r!.frozenCurrency }) : i.currentAmount;
  const shares = r ? r.partners : i.defaults;
  return {
    registrationId: i.registrationId,
    frozen,
    frozenAt: frozen ? r!.frozenAt!.toISOString() : null,
    amount,
    source: r?.source ?? 'default',
    partners: splitAmounts(shares, amount?.value ?? null).map((s) => ({
      partnerId: s.partnerId,
      partnerName: i.partnerNames.get(s.partnerId) ?? UNKNOWN_PARTNER,
      role: s.role,
      percent: s.percent,
      amount: s.amount,
      evidence: s.evidence ? { ...s.evidence } : null,
    })),
    updatedAt: r ? r.updatedAt.toISOString() : null,
  };
}

/** The view for a partner reading its own registration: other partners stay anonymous. */
export function toPartnerAttributionView(view: AttributionView, partnerId: string): PartnerAttributionView {
  return {
    ...view,
    partners: view.partners.map((p) =>
      p.partnerId === partnerId
        ? { ...p, you: true }
        : { partnerId: null, partnerName: ANOTHER_PARTNER, role: p.role, percent: p.percent, amount: p.amount, evidence: null, you: false },
    ),
  };
}

/** The split as the `registration.won` event records it. */
export function wonAttribution(view: AttributionView): { partners: { partnerId: string; role: AttributionRole; percent: number; amount: number | null }[] } {
  return { partners: view.partners.map((p) => ({ partnerId: p.partnerId, role: p.role, percent: p.percent, amount: p.amount })) };
}

/** Same split (partners, roles, percents, evidence), in the same order. */
export function sameSplit(a: readonly AttributionShare[], b: readonly AttributionShare[]): boolean {
  const key = (s: AttributionShare) => JSON.stringify([s.partnerId, s.role, basisPoints(s.percent), s.evidence?.registrationId ?? null, s.evidence?.touchedAt ?? null, s.evidence?.note ?? null]);
  return a.length === b.length && a.every((s, i) => key(s) === key(b[i]!));
}
