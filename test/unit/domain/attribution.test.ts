import {
  ANOTHER_PARTNER, basisPoints, defaultAttribution, sameSplit, splitAmounts, toAttributionView, toPartnerAttributionView, validateSplit,
  type AttributionSettings, type InfluencerCandidate,
} from '../../../src/domain/attribution';
import { defaultPolicy, policySchema } from '../../../src/domain/policy';

const SOURCING = '00000000-0000-7000-8000-000000000001';
const P2 = '00000000-0000-7000-8000-000000000002';
const P3 = '00000000-0000-7000-8000-000000000003';
const P4 = '00000000-0000-7000-8000-000000000004';
const T0 = new Date('2026-06-01T12:00:00.000Z');
const daysBefore = (n: number) => new Date(T0.getTime() - n * 86_400_000);
const registration = { id: 'reg-0', partnerId: SOURCING, companyDomain: 'acme.com', submittedAt: T0 };
const candidate = (partnerId: string, days: number, extra: Partial<InfluencerCandidate> = {}): InfluencerCandidate => ({
  registrationId: `reg-${partnerId.slice(-1)}-${days}`,
  partnerId,
  companyDomain: 'acme.com',
  status: 'expired',
  submittedAt: daysBefore(days),
  ...extra,
});
const influencing: AttributionSettings = { sourcingPercent: 70, influencers: 'other_registrations', influenceWindowDays: 90 };
const sum = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) * 100) / 100;

describe('splitAmounts', () => {
  it('gives each partner its share in cents, and the shares add up to the total exactly', () => {
    const parts = splitAmounts([{ percent: 33.34 }, { percent: 33.33 }, { percent: 33.33 }], 100);
    expect(parts.map((p) => p.amount)).toEqual([33.34, 33.33, 33.33]);
    const odd = splitAmounts([{ percent: 33.33 }, { percent: 33.33 }, { percent: 33.34 }], 0.1);
    expect(sum(odd.map((p) => p.amount!))).toBe(0.1);
    expect(odd.map((p) => p.amount)).toEqual([0.03, 0.03, 0.04]);
  });

  it('hands the leftover cents to the largest remainders (ties: the earlier share, i.e. the sourcing partner)', () => {
    expect(splitAmounts([{ percent: 50 }, { percent: 50 }], 0.01).map((p) => p.amount)).toEqual([0.01, 0]);
    expect(splitAmounts([{ percent: 70 }, { percent: 15 }, { percent: 15 }], 12_345.67).map((p) => p.amount)).toEqual([8641.97, 1851.85, 1851.85]);
  });

  it('adds up for many awkward amounts and splits', () => {
    const splits = [[100], [70, 15, 15], [33.34, 33.33, 33.33], [50.01, 49.99], [60, 13.34, 13.33, 13.33], [1, 1, 98]];
    for (const percents of splits) {
      for (const amount of [0, 0.01, 0.07, 1, 9.99, 1234.56, 99_999.99, 12_500, 987_654_321.01]) {
        const parts = splitAmounts(percents.map((percent) => ({ percent })), amount);
        expect(sum(parts.map((p) => p.amount!))).toBe(amount);
        for (const p of parts) expect(Math.round(p.amount! * 100)).toBeCloseTo(p.amount! * 100, 6);
      }
    }
  });

  it('keeps the sign of a negative amount and gives null parts for no amount', () => {
    expect(splitAmounts([{ percent: 50 }, { percent: 50 }], -0.03).map((p) => p.amount)).toEqual([-0.02, -0.01]);
    expect(splitAmounts([{ percent: 100, partnerId: 'x' }], null)).toEqual([{ percent: 100, partnerId: 'x', amount: null }]);
  });
});

describe('validateSplit', () => {
  const ok = [
    { partnerId: SOURCING, role: 'sourcing' as const, percent: 66.67 },
    { partnerId: P2, role: 'influencing' as const, percent: 33.33 },
  ];

  it('accepts one sourcing partner (the registrant) and influencers adding up to exactly 100', () => {
    expect(validateSplit(ok, SOURCING)).toEqual([]);
    expect(validateSplit([{ partnerId: SOURCING, role: 'sourcing', percent: 100 }], SOURCING)).toEqual([]);
    // 0.1 + 0.2 is not 0.3 in floating point: the sum is exact anyway.
    expect(validateSplit([{ partnerId: SOURCING, role: 'sourcing', percent: 99.7 }, { partnerId: P2, role: 'influencing', percent: 0.1 }, { partnerId: P3, role: 'influencing', percent: 0.2 }], SOURCING)).toEqual([]);
  });

  it('says what the percents add up to when it is not 100', () => {
    const issues = validateSplit([{ partnerId: SOURCING, role: 'sourcing', percent: 60 }, { partnerId: P2, role: 'influencing', percent: 30.5 }], SOURCING);
    expect(issues).toEqual([{ path: 'partners', code: 'SUM_NOT_100', message: 'the percents add up to 90.5, they must add up to exactly 100' }]);
  });

  it('refuses zero, negative and over-precise percents, at their paths', () => {
    const issues = validateSplit(
      [
        { partnerId: SOURCING, role: 'sourcing', percent: 100.001 },
        { partnerId: P2, role: 'influencing', percent: 0 },
        { partnerId: P3, role: 'influencing', percent: -5 },
      ],
      SOURCING,
    );
    expect(issues).toEqual([
      { path: 'partners.0.percent', code: 'PERCENT_TOO_PRECISE', message: expect.stringMatching(/more than 2 decimals/) },
      { path: 'partners.1.percent', code: 'PERCENT_NOT_POSITIVE', message: expect.stringMatching(/more than 0/) },
      { path: 'partners.2.percent', code: 'PERCENT_NOT_POSITIVE', message: expect.stringMatching(/more than 0/) },
    ]);
  });

  it('needs exactly one sourcing partner, and it must be the registration\'s partner', () => {
    expect(validateSplit([{ partnerId: SOURCING, role: 'influencing', percent: 100 }], SOURCING)).toEqual([
      { path: 'partners', code: 'SOURCING_COUNT', message: expect.stringMatching(/exactly one partner must be sourcing.*none is/) },
      { path: 'partners.0.role', code: 'SOURCING_NOT_REGISTRANT', message: expect.any(String) },
    ]);
    expect(validateSplit([{ partnerId: SOURCING, role: 'sourcing', percent: 50 }, { partnerId: P2, role: 'sourcing', percent: 50 }], SOURCING)).toEqual([
      { path: 'partners', code: 'SOURCING_COUNT', message: 'exactly one partner must be sourcing; 2 are' },
      { path: 'partners.1.partnerId', code: 'SOURCING_NOT_REGISTRANT', message: 'the sourcing partner must be the partner that made the registration' },
    ]);
    expect(validateSplit([{ partnerId: P2, role: 'sourcing', percent: 100 }], SOURCING)).toEqual([
      { path: 'partners.0.partnerId', code: 'SOURCING_NOT_REGISTRANT', message: 'the sourcing partner must be the partner that made the registration' },
    ]);
  });

  it('refuses a partner listed twice, and an empty split', () => {
    expect(validateSplit([...ok, { partnerId: P2, role: 'influencing', percent: 0.01 }], SOURCING)).toEqual([
      { path: 'partners.2.partnerId', code: 'DUPLICATE_PARTNER', message: 'this partner is already listed at partners.1: list each partner once' },
      { path: 'partners', code: 'SUM_NOT_100', message: 'the percents add up to 100.01, they must add up to exactly 100' },
    ]);
    expect(validateSplit([], SOURCING)).toEqual([{ path: 'partners', code: 'NO_PARTNERS', message: expect.any(String) }]);
  });
});

describe('defaultAttribution', () => {
  it('gives the sourcing partner 100% by default (no influencers in the default policy)', () => {
    const settings = defaultPolicy().attribution;
    expect(settings).toEqual({ sourcingPercent: 100, influencers: 'none', influenceWindowDays: 90 });
    expect(defaultAttribution(settings, registration, [candidate(P2, 10)])).toEqual([{ partnerId: SOURCING, role: 'sourcing', percent: 100, evidence: null }]);
  });

  it('with other_registrations, other partners that registered the domain in the window share the rest equally, with their registration as evidence', () => {
    const split = defaultAttribution({ ...influencing, sourcingPercent: 90 }, registration, [candidate(P2, 30), candidate(P3, 5), candidate(P4, 60)]);
    expect(split).toEqual([
      { partnerId: SOURCING, role: 'sourcing', percent: 90, evidence: null },
      { partnerId: P4, role: 'influencing', percent: 3.34, evidence: { registrationId: `reg-4-60`, touchedAt: '2026-04-02' } },
      { partnerId: P2, role: 'influencing', percent: 3.33, evidence: { registrationId: `reg-2-30`, touchedAt: '2026-05-02' } },
      { partnerId: P3, role: 'influencing', percent: 3.33, evidence: { registrationId: `reg-3-5`, touchedAt: '2026-05-27' } },
    ]);
    expect(validateSplit(split, SOURCING)).toEqual([]);
  });

  it('ignores withdrawn registrations, other domains, the partner itself, anything outside the window or after this one; one share per partner (its latest registration)', () => {
    const split = defaultAttribution(influencing, registration, [
      candidate(P2, 10, { status: 'withdrawn' }),
      candidate(P2, 91),
      candidate(P3, 10, { companyDomain: 'other.com' }),
      candidate(SOURCING, 10),
      candidate(P4, -1),
      candidate(P3, 40, { status: 'rejected' }),
      candidate(P3, 20, { status: 'lost' }),
    ]);
    expect(split).toEqual([
      { partnerId: SOURCING, role: 'sourcing', percent: 70, evidence: null },
      { partnerId: P3, role: 'influencing', percent: 30, evidence: { registrationId: 'reg-3-20', touchedAt: '2026-05-12' } },
    ]);
  });

  it('gives the sourcing partner 100 when nobody else qualifies, and when sourcingPercent is 100', () => {
    expect(defaultAttribution(influencing, registration, [candidate(P2, 200)])).toEqual([{ partnerId: SOURCING, role: 'sourcing', percent: 100, evidence: null }]);
    expect(defaultAttribution({ ...influencing, sourcingPercent: 100 }, registration, [candidate(P2, 1)])).toEqual([{ partnerId: SOURCING, role: 'sourcing', percent: 100, evidence: null }]);
  });

  it('keeps at most 19 influencers (the most recent) so that a split stays valid', () => {
    const many = Array.from({ length: 30 }, (_, i) => candidate(`00000000-0000-7000-8000-1000000000${String(i).padStart(2, '0')}`, i + 1));
    const split = defaultAttribution({ ...influencing, sourcingPercent: 50 }, registration, many);
    expect(split).toHaveLength(20);
    expect(validateSplit(split, SOURCING)).toEqual([]);
    expect(split.slice(1).every((s) => Date.parse(s.evidence!.touchedAt!) >= Date.parse(daysBefore(19).toISOString().slice(0, 10)))).toBe(true);
  });
});

describe('the policy section', () => {
  it('is optional: a policy stored before it existed still parses, with the defaults', () => {
    const stored = { autoApprove: false, protection: { defaultDays: 60 } };
    expect(policySchema.parse(stored).attribution).toEqual({ sourcingPercent: 100, influencers: 'none', influenceWindowDays: 90 });
  });

  it('refuses a sourcing percent below 50, above 100 or with more than 2 decimals, and unknown fields', () => {
    for (const attribution of [{ sourcingPercent: 49 }, { sourcingPercent: 101 }, { sourcingPercent: 70.005 }, { influencers: 'all' }, { shares: 1 }]) {
      expect(policySchema.safeParse({ attribution }).success).toBe(false);
    }
    expect(policySchema.parse({ attribution: { sourcingPercent: 66.67, influencers: 'other_registrations' } }).attribution).toEqual({ sourcingPercent: 66.67, influencers: 'other_registrations', influenceWindowDays: 90 });
  });
});

describe('toAttributionView', () => {
  const names = new Map([[SOURCING, 'Northwind'], [P2, 'Contoso']]);
  const shares = [
    { partnerId: SOURCING, role: 'sourcing' as const, percent: 80, evidence: null },
    { partnerId: P2, role: 'influencing' as const, percent: 20, evidence: { note: 'ran the demo' } },
  ];

  it('shows the default model on the current amount when nothing is stored', () => {
    const view = toAttributionView({ registrationId: 'r1', record: null, defaults: [shares[0]!], currentAmount: { value: 1000, currency: 'EUR' }, partnerNames: names });
    expect(view).toEqual({
      registrationId: 'r1',
      frozen: false,
      frozenAt: null,
      amount: { value: 1000, currency: 'EUR' },
      source: 'default',
      partners: [{ partnerId: SOURCING, partnerName: 'Northwind', role: 'sourcing', percent: 80, amount: 1000 * 0.8, evidence: null }],
      updatedAt: null,
    });
  });

  it('applies a frozen split to the won amount, not the current one', () => {
    const at = new Date('2026-07-01T00:00:00.000Z');
    const view = toAttributionView({
      registrationId: 'r1',
      record: { partners: shares, source: 'staff', frozenAt: at, frozenAmount: 999.99, frozenCurrency: 'USD', updatedAt: at },
      defaults: [],
      currentAmount: { value: 5, currency: 'EUR' },
      partnerNames: names,
    });
    expect(view).toMatchObject({ frozen: true, frozenAt: at.toISOString(), amount: { value: 999.99, currency: 'USD' }, source: 'staff', updatedAt: at.toISOString() });
    expect(view.partners.map((p) => [p.partnerName, p.amount])).toEqual([['Northwind', 799.99], ['Contoso', 200]]);
  });

  it('a partner sees its own share and the others only as "another partner" (no id, name or evidence)', () => {
    const view = toAttributionView({ registrationId: 'r1', record: null, defaults: shares, currentAmount: null, partnerNames: names });
    const seen = toPartnerAttributionView(view, SOURCING);
    expect(seen.partners).toEqual([
      { partnerId: SOURCING, partnerName: 'Northwind', role: 'sourcing', percent: 80, amount: null, evidence: null, you: true },
      { partnerId: null, partnerName: ANOTHER_PARTNER, role: 'influencing', percent: 20, amount: null, evidence: null, you: false },
    ]);
    expect(JSON.stringify(seen)).not.toMatch(/Contoso|ran the demo|0000000002/);
  });
});

describe('helpers', () => {
  it('basisPoints is exact for 2 decimals and null beyond', () => {
    expect([33.33, 0.01, 100, 66.67, 0.29].map(basisPoints)).toEqual([3333, 1, 10000, 6667, 29]);
    expect(basisPoints(1.005)).toBeNull();
    expect(basisPoints(Number.NaN)).toBeNull();
  });

  it('sameSplit compares partners, roles, percents and evidence in order', () => {
    const a = [{ partnerId: SOURCING, role: 'sourcing' as const, percent: 100, evidence: null }];
    expect(sameSplit(a, [{ ...a[0]! }])).toBe(true);
    expect(sameSplit(a, [{ ...a[0]!, evidence: { note: 'x' } }])).toBe(false);
  });
});
