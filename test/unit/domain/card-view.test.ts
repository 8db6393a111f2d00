// buildCardView: what a rep reads on the card, for each state a registration can be in.
import { buildCardView, money, type CardViewInput, type CardRegistrationFacts } from '../../../src/domain/card-view';
import type { CardRegistration, CardView } from '../../../src/domain/card-view-model';
import type { AttributionView } from '../../../src/domain/attribution';
import type { Reason } from '../../../src/domain/types';

const NOW = new Date('2027-01-27T15:00:00.000Z');
const REG_ID = '019a1b2c-3d4e-7f00-8000-000000000001';
const OTHER_REG_ID = '019a0000-aaaa-7bbb-8ccc-000000000002';
const PARTNER = { id: 'p-northwind', name: 'Northwind Resellers', type: 'reseller' as const, tier: 'gold' as const, contactName: 'Nora North', contactEmail: 'nora@northwind.test' };
const PM = { id: 'hubspot:701', role: 'partner_manager' as const };
const VIEWER = { id: 'hubspot:702', role: 'viewer' as const };

const openOpportunity: Reason = {
  code: 'OPEN_OPPORTUNITY',
  outcome: 'review',
  message: 'Our sales team is already working an open opportunity with this company.',
  evidence: {
    matchedDomain: 'umbrella.com',
    account: { crm: 'hubspot', externalId: '9001', name: 'Umbrella Corp', ownerName: 'Dana Direct', ownerRole: 'direct' },
    opportunity: { crm: 'hubspot', externalId: '5501', name: 'Umbrella renewal', stage: 'presentationscheduled', amount: 120000, ownerName: 'Dana Direct', registrationId: null },
  },
};

const duplicate: Reason = {
  code: 'DUPLICATE_REGISTRATION',
  outcome: 'reject',
  message: 'Another partner registered this company first.',
  evidence: {
    matchedDomain: 'acme.com',
    registration: { id: OTHER_REG_ID, partnerId: 'p-contoso', partnerName: 'Contoso Referrals', status: 'approved', createdAt: '2026-09-01T08:00:00.000Z', companyName: 'Acme Inc.' },
  },
};

const reg = (over: Partial<CardRegistrationFacts> = {}): CardRegistrationFacts => ({
  id: REG_ID,
  status: 'pending_review',
  companyName: 'Umbrella Corp',
  companyDomain: 'umbrella.com',
  amount: { value: 48000, currency: 'USD' },
  protectionStartsAt: null,
  protectionEndsAt: null,
  endedAt: null,
  createdAt: new Date('2026-12-01T10:00:00.000Z'),
  verdict: { outcome: 'review', reasons: [openOpportunity] },
  ...over,
});

const build = (over: Partial<CardViewInput> = {}): CardView =>
  buildCardView({ crm: 'hubspot', now: NOW, viewer: PM, registration: reg(), partner: PARTNER, attribution: null, extension: null, ...over });

const registrationOf = (v: CardView): CardRegistration => {
  if (v.kind !== 'registration') throw new Error(`expected a registration card, got ${v.kind}`);
  return v.registration;
};

const split = (over: Partial<AttributionView> = {}): AttributionView => ({
  registrationId: REG_ID,
  frozen: false,
  frozenAt: null,
  amount: { value: 48000, currency: 'USD' },
  source: 'staff',
  partners: [
    { partnerId: PARTNER.id, partnerName: PARTNER.name, role: 'sourcing', percent: 70, amount: 33600, evidence: null },
    { partnerId: 'p-contoso', partnerName: 'Contoso Referrals', role: 'influencing', percent: 30, amount: 14400, evidence: { registrationId: OTHER_REG_ID, touchedAt: '2026-10-12' } },
  ],
  updatedAt: '2026-12-02T10:00:00.000Z',
  ...over,
});

describe('a registration pending review with an open opportunity', () => {
  test('a partner manager reads the conflict with its evidence and may approve or reject (reject asks for a reason)', () => {
    const view = build();
    const r = registrationOf(view);
    expect(view.viewer).toEqual(PM);
    expect(view.generatedAt).toBe(NOW.toISOString());
    expect(r).toMatchObject({
      status: 'pending_review',
      statusLabel: 'Pending review',
      statusTone: 'warning',
      company: 'Umbrella Corp (umbrella.com)',
      submittedOn: '2026-12-01',
      partner: { name: 'Northwind Resellers', typeLabel: 'Reseller', tierLabel: 'Gold', contact: { name: 'Nora North', email: 'nora@northwind.test' } },
      protection: { startsOn: null, endsOn: null, daysLeft: null, label: 'Not protected: pending review', tone: 'warning' },
      verdictLabel: 'Needs review: 1 conflict',
      extension: null,
      actionsNote: null,
    });
    expect(r.reasons).toEqual([
      {
        code: 'OPEN_OPPORTUNITY',
        title: 'Open opportunity on this account',
        detail: 'Deal “Umbrella renewal” (Presentation scheduled) is open on umbrella.com, owned by Dana Direct.',
        tone: 'warning',
      },
    ]);
    expect(r.actions).toEqual([
      { id: 'approve', label: 'Approve', requiresReason: false },
      { id: 'reject', label: 'Reject', requiresReason: true },
    ]);
  });

  test('a viewer sees the same card without actions, and a note saying who may act', () => {
    const r = registrationOf(build({ viewer: VIEWER }));
    expect(r.reasons[0]!.detail).toContain('Umbrella renewal');
    expect(r.actions).toEqual([]);
    expect(r.actionsNote).toBe('Only partner managers (or admins) can approve or reject registrations. Ask your dealreg admin to give you the partner manager role.');
  });

  test('a RevOps user is told their role; a partner manager without the Salesforce permission is told which one', () => {
    expect(registrationOf(build({ viewer: { id: 'hubspot:9', role: 'revops' } })).actionsNote).toBe(
      'Only partner managers (or admins) can approve or reject registrations. Your dealreg role is RevOps.',
    );
    const sf = registrationOf(build({ crm: 'salesforce', viewer: { id: 'salesforce:005000000000001AAA', role: 'partner_manager' }, missingCrmPermission: 'Dealreg_Approve' }));
    expect(sf.actions).toEqual([]);
    expect(sf.actionsNote).toBe('To approve or reject registrations, your Salesforce user needs the Dealreg_Approve permission. Ask your Salesforce admin.');
  });

  test('on a Salesforce card the same HubSpot evidence names its CRM, and a Salesforce opportunity is an "Opportunity"', () => {
    const sfOpp: Reason = {
      ...openOpportunity,
      evidence: { ...openOpportunity.evidence, opportunity: { ...openOpportunity.evidence.opportunity!, crm: 'salesforce', stage: 'Qualification' } },
    };
    const r = registrationOf(build({ crm: 'salesforce', registration: reg({ verdict: { outcome: 'review', reasons: [openOpportunity, sfOpp] } }) }));
    expect(r.reasons.map((x) => x.detail)).toEqual([
      'HubSpot deal “Umbrella renewal” (Presentation scheduled) is open on umbrella.com, owned by Dana Direct.',
      'Opportunity “Umbrella renewal” (Qualification) is open on umbrella.com, owned by Dana Direct.',
    ]);
    expect(r.verdictLabel).toBe('Needs review: 2 conflicts');
  });
});

describe('an approved registration', () => {
  const approved = (over: Partial<CardRegistrationFacts> = {}) =>
    reg({
      status: 'approved',
      protectionStartsAt: new Date('2026-12-02T10:00:00.000Z'),
      protectionEndsAt: new Date('2027-03-02T10:00:00.000Z'),
      verdict: { outcome: 'approve', reasons: [] },
      ...over,
    });

  test('shows the days of protection left and the split with amounts in its currency', () => {
    const r = registrationOf(build({ registration: approved(), attribution: split() }));
    expect(r).toMatchObject({ statusLabel: 'Approved', statusTone: 'success', verdictLabel: 'Approved automatically: no conflicts found', reasons: [], actions: [], actionsNote: null });
    expect(r.protection).toEqual({ startsOn: '2026-12-02', endsOn: '2027-03-02', daysLeft: 34, label: 'Protected for 34 more days (until 2027-03-02)', tone: 'success' });
    expect(r.attribution).toEqual({
      frozen: false,
      currency: 'USD',
      total: 48000,
      totalLabel: '$48,000.00',
      partners: [
        { partnerId: PARTNER.id, name: 'Northwind Resellers', role: 'sourcing', roleLabel: 'Sourcing partner', percent: 70, amount: 33600, amountLabel: '$33,600.00', evidence: 'Registered 2026-12-01' },
        { partnerId: 'p-contoso', name: 'Contoso Referrals', role: 'influencing', roleLabel: 'Influencing partner', percent: 30, amount: 14400, amountLabel: '$14,400.00', evidence: 'Touch 2026-10-12 (registration 019a0000…)' },
      ],
    });
  });

  test('counts down to the last day, warns in the last week, and says so when the end has passed', () => {
    const at = (iso: string) => registrationOf(build({ registration: approved(), now: new Date(iso) })).protection;
    expect(at('2027-02-28T09:00:00.000Z')).toMatchObject({ daysLeft: 2, label: 'Protected for 2 more days (until 2027-03-02)', tone: 'warning' });
    expect(at('2027-03-01T23:00:00.000Z')).toMatchObject({ daysLeft: 1, label: 'Protected for 1 more day (until 2027-03-02)' });
    expect(at('2027-03-02T08:00:00.000Z')).toEqual({ startsOn: '2026-12-02', endsOn: '2027-03-02', daysLeft: 0, label: 'Last day of protection', tone: 'warning' });
    // Lapsed, the expiry sweep has not run yet.
    expect(at('2027-03-02T11:00:00.000Z')).toMatchObject({ daysLeft: null, label: 'Protection ended on 2027-03-02', tone: 'neutral' });
  });

  test('with a pending extension request, a partner manager may approve it; a viewer may not', () => {
    const extension = { id: 'ext-1', requestedDays: 30, reason: 'Procurement needs another month', createdAt: new Date('2027-01-20T09:00:00.000Z') };
    const r = registrationOf(build({ registration: approved(), extension }));
    expect(r.extension).toEqual({ id: 'ext-1', days: 30, reason: 'Procurement needs another month', requestedOn: '2027-01-20' });
    expect(r.actions).toEqual([{ id: 'approve_extension', label: 'Approve 30-day extension', requiresReason: false, extensionRequestId: 'ext-1' }]);
    const v = registrationOf(build({ registration: approved(), extension, viewer: VIEWER }));
    expect(v.actions).toEqual([]);
    expect(v.actionsNote).toMatch(/^Only partner managers \(or admins\) can approve extension requests\./);
  });

  test('approved by a partner manager after review keeps its reasons and says it was reviewed', () => {
    const r = registrationOf(build({ registration: approved({ verdict: { outcome: 'review', reasons: [openOpportunity] } }) }));
    expect(r.verdictLabel).toBe('Reviewed by a partner manager: 1 conflict');
    expect(r.reasons).toHaveLength(1);
  });

  test('without an attribution row the registering partner sources it alone; without an amount there is nothing to split', () => {
    const r = registrationOf(build({ registration: approved({ amount: null }) }));
    expect(r.attribution).toEqual({
      frozen: false,
      currency: null,
      total: null,
      totalLabel: 'No amount yet',
      partners: [{ partnerId: PARTNER.id, name: 'Northwind Resellers', role: 'sourcing', roleLabel: 'Sourcing partner', percent: 100, amount: null, amountLabel: '—', evidence: 'Registered 2026-12-01' }],
    });
  });
});

test('a won registration shows its frozen split and when protection ended', () => {
  const won = reg({
    status: 'won',
    protectionStartsAt: new Date('2026-12-02T10:00:00.000Z'),
    protectionEndsAt: new Date('2027-03-02T10:00:00.000Z'),
    endedAt: new Date('2027-01-15T16:30:00.000Z'),
    amount: { value: 52000, currency: 'EUR' },
    verdict: { outcome: 'approve', reasons: [] },
  });
  const frozen = split({
    frozen: true,
    frozenAt: '2027-01-15T16:30:00.000Z',
    amount: { value: 52000, currency: 'EUR' },
    partners: [
      { partnerId: PARTNER.id, partnerName: PARTNER.name, role: 'sourcing', percent: 75, amount: 39000, evidence: null },
      { partnerId: 'p-contoso', partnerName: 'Contoso Referrals', role: 'influencing', percent: 25, amount: 13000, evidence: { note: 'Introduced the CFO' } },
    ],
  });
  const r = registrationOf(build({ registration: won, attribution: frozen }));
  expect(r).toMatchObject({ statusLabel: 'Won', statusTone: 'success', actions: [], actionsNote: null });
  expect(r.protection).toEqual({ startsOn: '2026-12-02', endsOn: '2027-03-02', daysLeft: null, label: 'Protection ended on 2027-01-15', tone: 'neutral' });
  expect(r.attribution.frozen).toBe(true);
  expect(r.attribution.totalLabel).toBe('€52,000.00 (frozen when won)');
  expect(r.attribution.partners.map((p) => [p.name, p.percent, p.amountLabel, p.evidence])).toEqual([
    ['Northwind Resellers', 75, '€39,000.00', 'Registered 2026-12-01'],
    ['Contoso Referrals', 25, '€13,000.00', 'Introduced the CFO'],
  ]);
});

test('an expired registration: protection ended on its end date, nothing to decide', () => {
  const r = registrationOf(
    build({
      registration: reg({
        status: 'expired',
        protectionStartsAt: new Date('2026-08-01T10:00:00.000Z'),
        protectionEndsAt: new Date('2026-10-30T10:00:00.000Z'),
        endedAt: new Date('2026-10-30T10:05:00.000Z'),
        verdict: { outcome: 'approve', reasons: [] },
      }),
    }),
  );
  expect(r).toMatchObject({ statusLabel: 'Expired', statusTone: 'neutral', actions: [], actionsNote: null });
  expect(r.protection).toMatchObject({ daysLeft: null, label: 'Protection ended on 2026-10-30', tone: 'neutral' });
});

test('a rejected duplicate names the partner that registered first, and its registration', () => {
  const r = registrationOf(
    build({
      registration: reg({ status: 'rejected', companyName: 'Acme Inc.', companyDomain: 'acme.com', endedAt: new Date('2026-12-01T10:00:00.000Z'), verdict: { outcome: 'reject', reasons: [duplicate] } }),
    }),
  );
  expect(r).toMatchObject({ statusLabel: 'Rejected', statusTone: 'danger', verdictLabel: 'Rejected automatically: 1 conflict', actions: [], actionsNote: null });
  expect(r.protection).toMatchObject({ daysLeft: null, label: 'Not protected: rejected', tone: 'danger' });
  expect(r.reasons).toEqual([
    {
      code: 'DUPLICATE_REGISTRATION',
      title: 'Already registered by another partner',
      detail: 'Contoso Referrals registered acme.com first, on 2026-09-01 (registration 019a0000…, approved at the time).',
      tone: 'danger',
    },
  ]);
});

test('every other reason code reads as a title and a sentence naming its evidence', () => {
  const account = { crm: 'hubspot' as const, externalId: '1', name: 'Globex', ownerName: 'Dana Direct', ownerRole: 'direct' };
  const reasons: Reason[] = [
    { code: 'DIRECT_OWNED_ACCOUNT', outcome: 'reject', message: 'm', evidence: { matchedDomain: 'globex.com', account } },
    { code: 'EXISTING_CUSTOMER', outcome: 'review', message: 'm', evidence: { matchedDomain: 'globex.com', account: { ...account, ownerName: null } } },
    { code: 'RESERVED_ACCOUNT', outcome: 'reject', message: 'm', evidence: { matchedDomain: 'globex.com', reserved: { kind: 'domain', value: 'globex.com', note: 'Strategic account' } } },
    { code: 'RESERVED_ACCOUNT', outcome: 'review', message: 'm', evidence: { reserved: { kind: 'territory', value: 'DE' } } },
    { code: 'SIMILAR_COMPANY_NAME', outcome: 'review', message: 'm', evidence: { account: { ...account, name: 'Globex Corp' }, similarity: { ours: 'Globex Inc', theirs: 'Globex Corp', score: 0.923 } } },
    {
      code: 'SIMILAR_COMPANY_NAME',
      outcome: 'review',
      message: 'm',
      evidence: { registration: { id: OTHER_REG_ID, partnerId: 'p-contoso', partnerName: 'Contoso Referrals', status: 'pending_review', createdAt: '2026-11-20T00:00:00.000Z', companyName: 'Globex Corp', domain: 'globex.io' }, similarity: { ours: 'Globex Inc', theirs: 'Globex Corp', score: 0.9 } },
    },
    { code: 'INVALID_DOMAIN', outcome: 'reject', message: 'm', evidence: { domain: { input: 'not a domain', normalised: null } } },
    { code: 'FREE_EMAIL_DOMAIN', outcome: 'reject', message: 'm', evidence: { domain: { input: 'https://gmail.com', normalised: 'gmail.com' } } },
    { code: 'PARTNER_INACTIVE', outcome: 'reject', message: 'm', evidence: { partner: { id: PARTNER.id, status: 'inactive' } } },
    { code: 'PARTNER_CAP_REACHED', outcome: 'review', message: 'm', evidence: { partner: { id: PARTNER.id, activeRegistrations: 10, cap: 10 } } },
  ];
  const r = registrationOf(build({ registration: reg({ verdict: { outcome: 'reject', reasons } }) }));
  expect(r.reasons.map((x) => [x.title, x.detail, x.tone])).toEqual([
    ['Owned by direct sales', 'Company “Globex” (globex.com) is owned by Dana Direct, of the direct sales team.', 'danger'],
    ['Already a customer', 'Company “Globex” (globex.com) is already a customer.', 'warning'],
    ['Reserved for direct sales', 'globex.com is on the reserved accounts list. Note: Strategic account', 'danger'],
    ['Reserved territory', 'The company is in DE, a territory reserved for direct sales.', 'warning'],
    ['Similar company name', '“Globex Inc” is 92% similar to company “Globex Corp”, owned by Dana Direct.', 'warning'],
    ['Similar company name', '“Globex Inc” is 90% similar to “Globex Corp” (globex.io), registered by Contoso Referrals on 2026-11-20 (pending review at the time).', 'warning'],
    ['Not a company domain', '“not a domain” is not a valid company domain.', 'danger'],
    ['Free email domain', 'gmail.com belongs to a free email provider, not to the company.', 'danger'],
    ['Partner inactive', 'Northwind Resellers’s partner account was inactive when this was submitted.', 'danger'],
    ['Partner at its registration limit', 'Northwind Resellers already had 10 open registrations; its Gold tier allows 10.', 'warning'],
  ]);
  expect(r.verdictLabel).toBe('Rejected automatically: 10 conflicts');
});

test('a deal without a registration is the empty state', () => {
  const view = build({ registration: null, partner: null, viewer: VIEWER });
  expect(view).toEqual({
    kind: 'empty',
    title: 'No partner on this deal',
    message: expect.stringContaining('No partner has registered this deal in dealreg'),
    viewer: VIEWER,
    generatedAt: NOW.toISOString(),
  });
  const sf = build({ crm: 'salesforce', registration: null, partner: null });
  expect(sf.kind === 'empty' && sf.message).toContain('this opportunity');
});

test('money is formatted en-US by currency, with a fallback for codes Intl does not know', () => {
  expect(money(48000, 'usd')).toBe('$48,000.00');
  expect(money(1234.5, 'EUR')).toBe('€1,234.50');
  expect(money(48000, 'JPY')).toBe('¥48,000');
  expect(money(99.9, null)).toBe('99.90');
  expect(money(10, 'NOTACODE')).toBe('10.00 NOTACODE');
});
