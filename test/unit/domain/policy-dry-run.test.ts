import { dryRun, type DryRunItem } from '../../../src/domain/policy-dry-run';
import { evaluate } from '../../../src/domain/rules/evaluate';
import type { PolicyInput } from '../../../src/domain/policy';
import type { Evidence, RegistrationCandidate } from '../../../src/domain/types';
import { account, candidate, evidence, NOW, policy, registration } from './fixtures';

const current: PolicyInput = {};
const decided = (registrationId: string, c: RegistrationCandidate, e: Evidence): DryRunItem => ({
  registrationId,
  candidate: c,
  evidence: e,
  previous: evaluate({ candidate: c, evidence: e, policy: policy(current), policyVersion: 1, now: NOW }),
  decidedAt: NOW,
});

const items = (): DryRunItem[] => [
  decided('reg_clean', candidate(), evidence()),
  decided('reg_customer', candidate({ domain: 'customer.com' }), evidence({ accounts: [account({ domains: ['customer.com'], isCustomer: true })] })),
  decided(
    'reg_lookalike',
    candidate({ name: 'Acme Corp' }),
    evidence({ accounts: [account({ name: 'Acmee Corp', domains: ['acmee.com'], matchedBy: 'name' })] }),
  ),
  decided('reg_german', candidate({ domain: 'acme.de', country: 'DE' }), evidence()),
  decided('reg_german_duplicate', candidate({ domain: 'beispiel.de', country: 'DE' }), evidence({ activeRegistrations: [registration({ domain: 'beispiel.de' })] })),
];

describe('dryRun', () => {
  it('reports nothing when the proposed policy decides everything the same way', () => {
    expect(dryRun(items(), policy(current), 2)).toEqual({ total: 5, changed: 0, transitions: {}, changes: [] });
  });

  it('reports exactly the verdicts that change, with their outcome and reason codes', () => {
    const proposed = policy({
      outcomes: { EXISTING_CUSTOMER: 'approve' },
      similarNameThreshold: 0.9,
      reserved: { territories: [{ country: 'DE' }] },
    });
    expect(dryRun(items(), proposed, 2)).toEqual({
      total: 5,
      changed: 4,
      transitions: { 'review→approve': 2, 'approve→reject': 1, 'reject→reject': 1 },
      changes: [
        { registrationId: 'reg_customer', from: 'review', to: 'approve', added: [], removed: [] },
        { registrationId: 'reg_lookalike', from: 'review', to: 'approve', added: [], removed: ['SIMILAR_COMPANY_NAME'] },
        { registrationId: 'reg_german', from: 'approve', to: 'reject', added: ['RESERVED_ACCOUNT'], removed: [] },
        { registrationId: 'reg_german_duplicate', from: 'reject', to: 'reject', added: ['RESERVED_ACCOUNT'], removed: [] },
      ],
    });
  });

  it('compares against the stored verdict, not a fresh one under the old policy', () => {
    const [clean] = items();
    const stale: DryRunItem = { ...clean!, previous: { outcome: 'review', reasons: [] } };
    expect(dryRun([stale], policy(current), 2)).toEqual({
      total: 1,
      changed: 1,
      transitions: { 'review→approve': 1 },
      changes: [{ registrationId: 'reg_clean', from: 'review', to: 'approve', added: [], removed: [] }],
    });
  });

  it('handles an empty history', () => {
    expect(dryRun([], policy(current), 2)).toEqual({ total: 0, changed: 0, transitions: {}, changes: [] });
  });
});
