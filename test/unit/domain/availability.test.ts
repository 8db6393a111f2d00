import { availabilityFrom } from '../../../src/domain/availability';
import { partnerVerdict } from '../../../src/domain/partner-verdict';
import type { Verdict } from '../../../src/domain/types';

const verdict = (over: Partial<Verdict> = {}): Verdict => ({
  outcome: 'reject',
  reasons: [],
  policyVersion: 3,
  domain: 'acme.com',
  mirrorFreshness: [],
  evaluatedAt: '2025-01-01T00:00:00.000Z',
  ...over,
});

describe('availabilityFrom', () => {
  it.each([
    ['approve', 'available'],
    ['review', 'needs_review'],
    ['reject', 'blocked'],
  ] as const)('a %s verdict answers %s', (outcome, availability) => {
    expect(availabilityFrom(verdict({ outcome }))).toBe(availability);
  });

  it('answers a bare word, so nothing about the holder can leak', () => {
    const v = verdict({
      reasons: [
        {
          code: 'DUPLICATE_REGISTRATION',
          outcome: 'reject',
          message: 'Another partner registered this company first.',
          evidence: { registration: { id: 'reg_1', partnerId: 'partner_other', status: 'approved', createdAt: '2025-01-01T00:00:00.000Z' } },
        },
      ],
    });
    expect(availabilityFrom(v)).toBe('blocked');
    expect(typeof availabilityFrom(v)).toBe('string');
  });
});

describe('partnerVerdict', () => {
  it('drops evidence and shows each distinct message once', () => {
    const account = (externalId: string) => ({ crm: 'hubspot' as const, externalId, name: 'Acme', ownerName: 'Dana Direct', ownerRole: 'direct' });
    const v = verdict({
      reasons: [
        { code: 'DIRECT_OWNED_ACCOUNT', outcome: 'reject', message: 'This account is owned by our direct sales team.', evidence: { account: account('1') } },
        { code: 'DIRECT_OWNED_ACCOUNT', outcome: 'reject', message: 'This account is owned by our direct sales team.', evidence: { account: account('2') } },
        { code: 'EXISTING_CUSTOMER', outcome: 'review', message: 'This company is already our customer.', evidence: { account: account('1') } },
      ],
    });
    expect(partnerVerdict(v)).toEqual({
      outcome: 'reject',
      policyVersion: 3,
      reasons: [
        { code: 'DIRECT_OWNED_ACCOUNT', message: 'This account is owned by our direct sales team.' },
        { code: 'EXISTING_CUSTOMER', message: 'This company is already our customer.' },
      ],
    });
    expect(JSON.stringify(partnerVerdict(v))).not.toContain('Dana Direct');
  });
});
