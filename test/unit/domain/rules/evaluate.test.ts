import { evaluate } from '../../../../src/domain/rules/evaluate';
import type { PolicyInput } from '../../../../src/domain/policy';
import type { Evidence, Reason, RegistrationCandidate } from '../../../../src/domain/types';
import { account, candidate, evidence, NOW, opportunity, partner, PARTNER_ID, policy, registration, SECRETS } from '../fixtures';

const run = (c: RegistrationCandidate, e: Evidence, p: PolicyInput = {}, policyVersion = 4) =>
  evaluate({ candidate: c, evidence: e, policy: policy(p), policyVersion, now: NOW });
const codes = (reasons: Reason[]) => reasons.map((r) => r.code);
const only = (reasons: Reason[], code: Reason['code']) => reasons.filter((r) => r.code === code);

const deepFreeze = <T>(o: T): T => {
  if (o && typeof o === 'object') {
    Object.values(o).forEach(deepFreeze);
    Object.freeze(o);
  }
  return o;
};

describe('evaluate: a clean registration', () => {
  it('approves when nothing fires and the policy auto-approves', () => {
    const e = evidence();
    expect(run(candidate(), e)).toEqual({
      outcome: 'approve',
      reasons: [],
      policyVersion: 4,
      domain: 'acme.com',
      mirrorFreshness: e.mirrorFreshness,
      evaluatedAt: NOW.toISOString(),
    });
  });

  it('sends to review when nothing fires but autoApprove is off', () => {
    expect(run(candidate(), evidence(), { autoApprove: false })).toMatchObject({ outcome: 'review', reasons: [] });
  });

  it('records the normalised domain and copies the mirror freshness', () => {
    const e = evidence({ mirrorFreshness: [{ crm: 'hubspot', syncedAt: null }, { crm: 'salesforce', syncedAt: '2025-03-01T00:00:00.000Z' }] });
    const v = run(candidate({ domain: 'Bob@Sales.ACME.co.uk' }), e);
    expect(v.domain).toBe('acme.co.uk');
    expect(v.mirrorFreshness).toEqual(e.mirrorFreshness);
  });

  it('neither mutates its inputs nor depends on anything but them', () => {
    const c = deepFreeze(candidate());
    const e = deepFreeze(evidence({ accounts: [account({ ownerRole: 'direct' })], openOpportunities: [opportunity()] }));
    expect(run(c, e)).toEqual(run(c, e));
  });
});

describe('evaluate: INVALID_DOMAIN and FREE_EMAIL_DOMAIN', () => {
  const everythingOnTheDomain = () =>
    evidence({
      accounts: [account({ ownerRole: 'direct', isCustomer: true })],
      openOpportunities: [opportunity()],
      activeRegistrations: [registration()],
    });

  it('rejects an IP address as INVALID_DOMAIN and skips the domain rules', () => {
    const v = run(candidate({ domain: '10.0.0.1' }), everythingOnTheDomain());
    expect(v.outcome).toBe('reject');
    expect(v.domain).toBeNull();
    expect(v.reasons).toEqual([
      {
        code: 'INVALID_DOMAIN',
        outcome: 'reject',
        message: expect.stringMatching(/IP address/),
        evidence: { domain: { input: '10.0.0.1', normalised: null } },
      },
    ]);
  });

  it('rejects gmail.com as FREE_EMAIL_DOMAIN and keeps the free-mail domain on the verdict', () => {
    const v = run(candidate({ domain: 'founder@gmail.com' }), everythingOnTheDomain());
    expect(v.outcome).toBe('reject');
    expect(v.domain).toBe('gmail.com');
    expect(v.reasons).toEqual([
      {
        code: 'FREE_EMAIL_DOMAIN',
        outcome: 'reject',
        message: expect.stringMatching(/^gmail\.com is a free e-mail provider/),
        evidence: { domain: { input: 'founder@gmail.com', normalised: 'gmail.com' } },
      },
    ]);
  });

  it("applies the policy's extra free-mail domains and its exceptions", () => {
    expect(codes(run(candidate({ domain: 'isp-mail.net' }), evidence(), { freeEmailDomains: ['isp-mail.net'] }).reasons)).toEqual(['FREE_EMAIL_DOMAIN']);
    expect(run(candidate({ domain: 'zoho.com' }), evidence(), { notFreeEmailDomains: ['zoho.com'] }).outcome).toBe('approve');
  });

  it('still runs the partner rules when the domain is unusable', () => {
    const e = evidence({ partner: partner({ status: 'inactive', activeRegistrations: 25 }) });
    expect(codes(run(candidate({ domain: 'localhost' }), e).reasons)).toEqual(['INVALID_DOMAIN', 'PARTNER_CAP_REACHED', 'PARTNER_INACTIVE']);
  });
});

describe('evaluate: PARTNER_INACTIVE', () => {
  it('rejects a registration from an inactive partner', () => {
    const v = run(candidate(), evidence({ partner: partner({ status: 'inactive' }) }));
    expect(v.outcome).toBe('reject');
    expect(v.reasons).toEqual([
      {
        code: 'PARTNER_INACTIVE',
        outcome: 'reject',
        message: 'Your partner account is not active, so it cannot register deals: contact your partner manager.',
        evidence: { partner: { id: PARTNER_ID, status: 'inactive' } },
      },
    ]);
  });
});

describe('evaluate: PARTNER_CAP_REACHED', () => {
  it.each([
    ['registered', 24, false],
    ['registered', 25, true],
    ['registered', 30, true],
    ['silver', 99, false],
    ['silver', 100, true],
    ['gold', 100_000, false],
  ] as const)('a %s partner with %d active registrations: cap reached = %s', (tier, active, fires) => {
    const v = run(candidate(), evidence({ partner: partner({ tier, activeRegistrations: active }) }));
    expect(codes(v.reasons)).toEqual(fires ? ['PARTNER_CAP_REACHED'] : []);
  });

  it('cites the count and the cap, and decides by the policy', () => {
    const v = run(candidate(), evidence({ partner: partner({ activeRegistrations: 3 }) }), {
      partnerCaps: { registered: 3, silver: 10, gold: null },
      outcomes: { PARTNER_CAP_REACHED: 'review' },
    });
    expect(v.outcome).toBe('review');
    expect(v.reasons).toEqual([
      {
        code: 'PARTNER_CAP_REACHED',
        outcome: 'review',
        message: expect.stringContaining('limit of 3 open registrations'),
        evidence: { partner: { id: PARTNER_ID, activeRegistrations: 3, cap: 3 } },
      },
    ]);
  });
});

describe('evaluate: DUPLICATE_REGISTRATION', () => {
  it('rejects when another partner holds the domain, without naming that partner', () => {
    const v = run(candidate(), evidence({ activeRegistrations: [registration()] }));
    expect(v.outcome).toBe('reject');
    expect(v.reasons).toEqual([
      {
        code: 'DUPLICATE_REGISTRATION',
        outcome: 'reject',
        message: 'Another partner registered this company first.',
        evidence: {
          matchedDomain: 'acme.com',
          registration: {
            id: 'reg_other_0001',
            partnerId: 'partner_other_c0ffee',
            partnerName: 'Rival Reseller Ltd',
            companyName: 'Acme Inc',
            status: 'approved',
            createdAt: '2025-02-01T09:00:00.000Z',
          },
        },
      },
    ]);
  });

  it('when two partners registered the same domain, the earliest holds it and is the one cited', () => {
    const later = registration({ id: 'reg_later', partnerId: 'p_later', createdAt: '2025-02-02T00:00:00.000Z' });
    const earliest = registration({ id: 'reg_earliest', partnerId: 'p_first', createdAt: '2025-01-15T00:00:00.000Z', status: 'pending_review' });
    const v = run(candidate(), evidence({ activeRegistrations: [later, earliest] }));
    expect(only(v.reasons, 'DUPLICATE_REGISTRATION')).toHaveLength(1);
    expect(v.reasons[0]!.evidence.registration).toMatchObject({ id: 'reg_earliest', partnerId: 'p_first', status: 'pending_review' });
  });

  it('breaks a tie on createdAt by the smaller id', () => {
    const at = '2025-02-01T00:00:00.000Z';
    const v = run(candidate(), evidence({ activeRegistrations: [registration({ id: 'reg_b', createdAt: at }), registration({ id: 'reg_a', createdAt: at })] }));
    expect(v.reasons[0]!.evidence.registration!.id).toBe('reg_a');
  });

  it('tells a partner that it already registered the account itself', () => {
    const v = run(candidate(), evidence({ activeRegistrations: [registration({ partnerId: PARTNER_ID, status: 'pending_review' })] }));
    expect(v.outcome).toBe('reject');
    expect(v.reasons[0]).toMatchObject({
      code: 'DUPLICATE_REGISTRATION',
      message: 'You already registered this account (acme.com); that registration is still pending review.',
    });
  });

  it('says an own approved registration is protected', () => {
    const v = run(candidate(), evidence({ activeRegistrations: [registration({ partnerId: PARTNER_ID })] }));
    expect(v.reasons[0]!.message).toBe('You already registered this account (acme.com); that registration is still protected.');
  });

  it('matches a stored domain written differently (www, uppercase)', () => {
    const v = run(candidate(), evidence({ activeRegistrations: [registration({ domain: 'WWW.Acme.com' })] }));
    expect(codes(v.reasons)).toEqual(['DUPLICATE_REGISTRATION']);
  });

  it.each([
    ['matched by name', registration({ matchedBy: 'name', companyName: 'Globex' })],
    ['on another domain', registration({ domain: 'acme.co.uk' })],
  ])('ignores an active registration %s', (_what, r) => {
    expect(only(run(candidate(), evidence({ activeRegistrations: [r] })).reasons, 'DUPLICATE_REGISTRATION')).toEqual([]);
  });
});

describe('evaluate: DIRECT_OWNED_ACCOUNT', () => {
  it('rejects by default when direct sales owns a matched account', () => {
    const v = run(candidate(), evidence({ accounts: [account({ ownerRole: 'direct' })] }));
    expect(v.outcome).toBe('reject');
    expect(v.reasons).toEqual([
      {
        code: 'DIRECT_OWNED_ACCOUNT',
        outcome: 'reject',
        message: 'This account is owned by our direct sales team.',
        evidence: {
          matchedDomain: 'acme.com',
          account: { crm: 'hubspot', externalId: 'hs-company-90001', name: 'Acme Incorporated', ownerName: 'Dana Directseller', ownerRole: 'direct' },
        },
      },
    ]);
  });

  it('follows the policy outcome', () => {
    const v = run(candidate(), evidence({ accounts: [account({ ownerRole: 'direct' })] }), { outcomes: { DIRECT_OWNED_ACCOUNT: 'review' } });
    expect(v).toMatchObject({ outcome: 'review', reasons: [{ code: 'DIRECT_OWNED_ACCOUNT', outcome: 'review' }] });
  });

  it('gives one reason per direct-owned account, each identifying its record', () => {
    const v = run(
      candidate(),
      evidence({
        accounts: [
          account({ crm: 'salesforce', externalId: 'sf-account-001', ownerRole: 'direct' }),
          account({ ownerRole: 'direct' }),
        ],
      }),
    );
    expect(only(v.reasons, 'DIRECT_OWNED_ACCOUNT').map((r) => `${r.evidence.account!.crm}:${r.evidence.account!.externalId}`)).toEqual([
      'hubspot:hs-company-90001',
      'salesforce:sf-account-001',
    ]);
  });

  it.each([
    ['owned by a partner', account({ ownerRole: 'partner' })],
    ['with an unknown owner', account({ ownerRole: 'unknown' })],
    ['matched only by name', account({ ownerRole: 'direct', matchedBy: 'name', name: 'Globex', domains: ['globex.com'] })],
  ])('does not fire for an account %s', (_what, a) => {
    expect(only(run(candidate(), evidence({ accounts: [a] })).reasons, 'DIRECT_OWNED_ACCOUNT')).toEqual([]);
  });
});

describe('evaluate: OPEN_OPPORTUNITY', () => {
  it('sends to review by default when a matched account has an open opportunity', () => {
    const v = run(candidate(), evidence({ accounts: [account()], openOpportunities: [opportunity()] }));
    expect(v.outcome).toBe('review');
    expect(v.reasons).toEqual([
      {
        code: 'OPEN_OPPORTUNITY',
        outcome: 'review',
        message: 'Our sales team is already working an open opportunity with this company.',
        evidence: {
          matchedDomain: 'acme.com',
          account: { crm: 'hubspot', externalId: 'hs-company-90001', name: 'Acme Incorporated', ownerName: 'Dana Directseller', ownerRole: 'partner' },
          opportunity: {
            crm: 'hubspot',
            externalId: 'hs-deal-55501',
            name: 'Acme - Enterprise renewal',
            stage: 'negotiation',
            amount: 120000,
            ownerName: 'Olga Opportunityowner',
            registrationId: null,
          },
        },
      },
    ]);
  });

  it('reports two open opportunities as two reasons', () => {
    const v = run(
      candidate(),
      evidence({ accounts: [account()], openOpportunities: [opportunity({ externalId: 'deal-2' }), opportunity({ externalId: 'deal-1' })] }),
    );
    expect(only(v.reasons, 'OPEN_OPPORTUNITY').map((r) => r.evidence.opportunity!.externalId)).toEqual(['deal-1', 'deal-2']);
  });

  it('does not report again the opportunity that is the CRM side of the duplicate registration', () => {
    const v = run(
      candidate(),
      evidence({
        accounts: [account()],
        openOpportunities: [opportunity({ registrationId: 'reg_other_0001' })],
        activeRegistrations: [registration()],
      }),
    );
    expect(codes(v.reasons)).toEqual(['DUPLICATE_REGISTRATION']);
  });

  it("reports an opportunity that belongs to some other registration", () => {
    const v = run(candidate(), evidence({ accounts: [account()], openOpportunities: [opportunity({ registrationId: 'reg_elsewhere' })] }));
    expect(only(v.reasons, 'OPEN_OPPORTUNITY')[0]!.evidence.opportunity!.registrationId).toBe('reg_elsewhere');
  });

  it.each([
    ['its account is not in the evidence', [account({ externalId: 'other' })], opportunity()],
    ['its account matched only by name', [account({ matchedBy: 'name', name: 'Globex', domains: ['globex.com'] })], opportunity()],
    ['it lives in another CRM than the matched account', [account()], opportunity({ crm: 'salesforce' })],
  ])('ignores an opportunity when %s', (_what, accounts, o) => {
    expect(only(run(candidate(), evidence({ accounts, openOpportunities: [o] })).reasons, 'OPEN_OPPORTUNITY')).toEqual([]);
  });

  it('follows the policy outcome', () => {
    const v = run(candidate(), evidence({ accounts: [account()], openOpportunities: [opportunity()] }), { outcomes: { OPEN_OPPORTUNITY: 'reject' } });
    expect(v).toMatchObject({ outcome: 'reject', reasons: [{ code: 'OPEN_OPPORTUNITY', outcome: 'reject' }] });
  });
});

describe('evaluate: EXISTING_CUSTOMER', () => {
  it('sends to review by default when a matched account is a customer', () => {
    const v = run(candidate(), evidence({ accounts: [account({ isCustomer: true })] }));
    expect(v.outcome).toBe('review');
    expect(v.reasons).toEqual([
      {
        code: 'EXISTING_CUSTOMER',
        outcome: 'review',
        message: 'This company is already our customer.',
        evidence: {
          matchedDomain: 'acme.com',
          account: { crm: 'hubspot', externalId: 'hs-company-90001', name: 'Acme Incorporated', ownerName: 'Dana Directseller', ownerRole: 'partner' },
        },
      },
    ]);
  });

  it('follows the policy outcome, also "approve" (recorded, not blocking)', () => {
    const v = run(candidate(), evidence({ accounts: [account({ isCustomer: true })] }), { outcomes: { EXISTING_CUSTOMER: 'approve' } });
    expect(v).toMatchObject({ outcome: 'approve', reasons: [{ code: 'EXISTING_CUSTOMER', outcome: 'approve' }] });
  });

  it('ignores a customer matched only by name', () => {
    const a = account({ isCustomer: true, matchedBy: 'name', name: 'Globex', domains: ['globex.com'] });
    expect(run(candidate(), evidence({ accounts: [a] })).reasons).toEqual([]);
  });
});

describe('evaluate: RESERVED_ACCOUNT', () => {
  it('rejects by default a domain the policy reserves, compared normalised, with the note in the evidence', () => {
    const v = run(candidate({ domain: 'sales.acme.com' }), evidence(), {
      reserved: { domains: [{ domain: 'globex.com' }, { domain: 'WWW.ACME.COM', note: 'named account, owner: Dana Directseller' }] },
    });
    expect(v.outcome).toBe('reject');
    expect(v.reasons).toEqual([
      {
        code: 'RESERVED_ACCOUNT',
        outcome: 'reject',
        message: 'This account is reserved for our direct sales team.',
        evidence: { matchedDomain: 'acme.com', reserved: { kind: 'domain', value: 'WWW.ACME.COM', note: 'named account, owner: Dana Directseller' } },
      },
    ]);
  });

  it('matches a reserved IDN written in Unicode against the punycode domain', () => {
    const v = run(candidate({ domain: 'xn--mnchen-3ya.de' }), evidence(), { reserved: { domains: [{ domain: 'münchen.de' }] } });
    expect(codes(v.reasons)).toEqual(['RESERVED_ACCOUNT']);
  });

  it("rejects when the candidate's own country is a reserved territory", () => {
    const v = run(candidate({ country: 'de' }), evidence(), { reserved: { territories: [{ country: 'DE', note: 'DACH direct' }] } });
    expect(v.reasons).toEqual([
      {
        code: 'RESERVED_ACCOUNT',
        outcome: 'reject',
        message: 'This company is in a territory that our direct sales team handles.',
        evidence: { reserved: { kind: 'territory', value: 'DE', note: 'DACH direct' } },
      },
    ]);
  });

  it("rejects when a matched account's country is a reserved territory, citing the account", () => {
    const v = run(candidate(), evidence({ accounts: [account({ country: 'FR' })] }), { reserved: { territories: [{ country: 'FR' }] } });
    expect(v.reasons).toEqual([
      {
        code: 'RESERVED_ACCOUNT',
        outcome: 'reject',
        message: 'This company is in a territory that our direct sales team handles.',
        evidence: {
          matchedDomain: 'acme.com',
          account: { crm: 'hubspot', externalId: 'hs-company-90001', name: 'Acme Incorporated', ownerName: 'Dana Directseller', ownerRole: 'partner' },
          reserved: { kind: 'territory', value: 'FR' },
        },
      },
    ]);
  });

  it('reports a reserved country once, and each reserved country separately', () => {
    const v = run(
      candidate({ country: 'DE' }),
      evidence({ accounts: [account({ country: 'DE' }), account({ externalId: 'x2', country: 'AT' }), account({ externalId: 'x3', country: 'AT' })] }),
      { reserved: { territories: [{ country: 'DE' }, { country: 'AT' }] } },
    );
    expect(only(v.reasons, 'RESERVED_ACCOUNT').map((r) => [r.evidence.reserved!.value, r.evidence.account?.externalId ?? null])).toEqual([
      ['AT', 'x2'],
      ['DE', null],
    ]);
  });

  it('ignores countries that are not reserved and accounts matched by name', () => {
    const v = run(candidate({ country: 'US' }), evidence({ accounts: [account({ country: 'DE', matchedBy: 'name', name: 'Globex', domains: ['globex.com'] })] }), {
      reserved: { territories: [{ country: 'DE' }] },
    });
    expect(v.reasons).toEqual([]);
  });

  it('follows the policy outcome', () => {
    const v = run(candidate({ country: 'DE' }), evidence(), { reserved: { territories: [{ country: 'DE' }] }, outcomes: { RESERVED_ACCOUNT: 'review' } });
    expect(v).toMatchObject({ outcome: 'review', reasons: [{ code: 'RESERVED_ACCOUNT', outcome: 'review' }] });
  });
});

describe('evaluate: SIMILAR_COMPANY_NAME', () => {
  const lookalike = account({ externalId: 'hs-company-777', name: 'Acmee Corp', domains: ['acmee.com'], matchedBy: 'name' });

  it('sends to review by default a name close to a known account on another domain, with both names and the score', () => {
    const v = run(candidate({ name: 'Acme Corp' }), evidence({ accounts: [lookalike] }));
    expect(v.outcome).toBe('review');
    expect(v.reasons).toEqual([
      {
        code: 'SIMILAR_COMPANY_NAME',
        outcome: 'review',
        message: 'A company with a very similar name is already registered with us or in our CRM.',
        evidence: {
          account: { crm: 'hubspot', externalId: 'hs-company-777', name: 'Acmee Corp', ownerName: 'Dana Directseller', ownerRole: 'partner' },
          similarity: { theirs: 'Acmee Corp', ours: 'Acme Corp', score: 0.88 },
        },
      },
    ]);
  });

  it('fires for a name-matched active registration of another domain, citing it', () => {
    const r = registration({ companyName: 'ACME, Incorporated', domain: 'acme-group.io', matchedBy: 'name' });
    const v = run(candidate({ name: 'Acme Inc.' }), evidence({ activeRegistrations: [r] }));
    expect(v.reasons).toEqual([
      {
        code: 'SIMILAR_COMPANY_NAME',
        outcome: 'review',
        message: 'A company with a very similar name is already registered with us or in our CRM.',
        evidence: {
          registration: {
            id: 'reg_other_0001',
            partnerId: 'partner_other_c0ffee',
            partnerName: 'Rival Reseller Ltd',
            companyName: 'ACME, Incorporated',
            domain: 'acme-group.io',
            status: 'approved',
            createdAt: '2025-02-01T09:00:00.000Z',
          },
          similarity: { theirs: 'ACME, Incorporated', ours: 'Acme Inc.', score: 1 },
        },
      },
    ]);
  });

  it.each([
    ['a name below the threshold', account({ name: 'Acme Robotics', domains: ['acmerobotics.com'], matchedBy: 'name' })],
    ['the same domain (that is the same company)', account({ name: 'Acmee Corp', domains: ['www.acme.com'], matchedBy: 'name' })],
    ['an account matched by domain', account({ name: 'Acmee Corp' })],
  ])('does not fire for %s', (_what, a) => {
    expect(only(run(candidate({ name: 'Acme Corp' }), evidence({ accounts: [a] })).reasons, 'SIMILAR_COMPANY_NAME')).toEqual([]);
  });

  it('uses the policy threshold', () => {
    const e = evidence({ accounts: [lookalike] });
    expect(codes(run(candidate({ name: 'Acme Corp' }), e, { similarNameThreshold: 0.9 }).reasons)).toEqual([]);
    expect(codes(run(candidate({ name: 'Acme Corp' }), e, { similarNameThreshold: 0.88 }).reasons)).toEqual(['SIMILAR_COMPANY_NAME']);
  });

  it('runs even when the domain is unusable', () => {
    const v = run(candidate({ name: 'Acme Corp', domain: 'gmail.com' }), evidence({ accounts: [lookalike] }));
    expect(codes(v.reasons)).toEqual(['FREE_EMAIL_DOMAIN', 'SIMILAR_COMPANY_NAME']);
  });
});

describe('evaluate: combining reasons', () => {
  const busy = () =>
    evidence({
      accounts: [
        account({ ownerRole: 'direct', isCustomer: true }),
        account({ crm: 'salesforce', externalId: 'sf-account-001', isCustomer: true }),
        account({ externalId: 'hs-company-777', name: 'Acmee Inc', domains: ['acmee.com'], matchedBy: 'name' }),
      ],
      openOpportunities: [opportunity(), opportunity({ crm: 'salesforce', externalId: 'sf-opp-1', accountExternalId: 'sf-account-001' })],
      activeRegistrations: [registration()],
    });

  it('rejects when any reason rejects, even beside review reasons', () => {
    expect(run(candidate(), busy()).outcome).toBe('reject');
  });

  it('reviews when the worst reason is a review', () => {
    const v = run(candidate(), evidence({ accounts: [account({ isCustomer: true })], openOpportunities: [opportunity()] }));
    expect(v.outcome).toBe('review');
    expect(codes(v.reasons)).toEqual(['EXISTING_CUSTOMER', 'OPEN_OPPORTUNITY']);
  });

  it('reviews, not approves, reasons that only approve when autoApprove is off', () => {
    const v = run(candidate(), evidence({ accounts: [account({ isCustomer: true })] }), { autoApprove: false, outcomes: { EXISTING_CUSTOMER: 'approve' } });
    expect(v.outcome).toBe('review');
  });

  it('sorts reasons: reject first, then review, then by code, then by record', () => {
    const v = run(candidate(), busy());
    expect(v.reasons.map((r) => `${r.outcome} ${r.code}`)).toEqual([
      'reject DIRECT_OWNED_ACCOUNT',
      'reject DUPLICATE_REGISTRATION',
      'review EXISTING_CUSTOMER',
      'review EXISTING_CUSTOMER',
      'review OPEN_OPPORTUNITY',
      'review OPEN_OPPORTUNITY',
      'review SIMILAR_COMPANY_NAME',
    ]);
  });

  it('gives the same verdict whatever order the evidence comes in', () => {
    const e = busy();
    const reversed: Evidence = {
      ...e,
      accounts: [...e.accounts].reverse(),
      openOpportunities: [...e.openOpportunities].reverse(),
      activeRegistrations: [...e.activeRegistrations].reverse(),
    };
    expect(run(candidate(), reversed)).toEqual(run(candidate(), e));
  });
});

describe('evaluate: messages a partner reads', () => {
  it('never name an owner, another partner, or a CRM record, whatever fires', () => {
    const v = run(
      candidate({ country: 'DE', name: 'Acme Corp' }),
      evidence({
        partner: partner({ status: 'inactive', activeRegistrations: 99 }),
        accounts: [
          account({ ownerRole: 'direct', isCustomer: true, country: 'FR' }),
          account({ crm: 'salesforce', externalId: 'sf-account-001', name: 'Acmee Corp', domains: ['acmee.com'], matchedBy: 'name' }),
        ],
        openOpportunities: [opportunity()],
        activeRegistrations: [registration(), registration({ id: 'reg_other_0002', matchedBy: 'name', companyName: 'Acme Corp.', domain: 'acme.de' })],
      }),
      { reserved: { domains: [{ domain: 'acme.com', note: 'Dana Directseller' }], territories: [{ country: 'DE' }, { country: 'FR' }] } },
    );
    expect(new Set(codes(v.reasons))).toEqual(
      new Set([
        'DUPLICATE_REGISTRATION',
        'OPEN_OPPORTUNITY',
        'DIRECT_OWNED_ACCOUNT',
        'RESERVED_ACCOUNT',
        'EXISTING_CUSTOMER',
        'SIMILAR_COMPANY_NAME',
        'PARTNER_INACTIVE',
        'PARTNER_CAP_REACHED',
      ]),
    );
    for (const { message } of v.reasons) {
      for (const secret of SECRETS) expect(message).not.toContain(secret);
    }
    // ... while staff still see them in the evidence.
    const staffView = JSON.stringify(v.reasons.map((r) => r.evidence));
    for (const secret of ['Dana Directseller', 'Rival Reseller Ltd', 'partner_other_c0ffee', 'hs-company-90001', 'hs-deal-55501']) {
      expect(staffView).toContain(secret);
    }
  });
});
