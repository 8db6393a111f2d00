// Builders for the pure domain's inputs. Names and ids are distinctive so a test can assert that none
// of them reaches a partner-facing message.
import { policySchema, type Policy, type PolicyInput } from '../../../src/domain/policy';
import type {
  ActiveRegistrationFact,
  Evidence,
  MirrorAccountFact,
  OpenOpportunityFact,
  PartnerFacts,
  RegistrationCandidate,
} from '../../../src/domain/types';

export const NOW = new Date('2025-03-01T12:00:00.000Z');
export const PARTNER_ID = 'partner_self_7f3a';

export const policy = (input: PolicyInput = {}): Policy => policySchema.parse(input);

export const candidate = (company: Partial<RegistrationCandidate['company']> = {}, partnerId = PARTNER_ID): RegistrationCandidate => ({
  partnerId,
  company: { name: 'Acme Inc.', domain: 'https://www.acme.com/', country: null, ...company },
});

export const partner = (over: Partial<PartnerFacts> = {}): PartnerFacts => ({
  id: PARTNER_ID,
  name: 'Self Partner GmbH',
  type: 'reseller',
  tier: 'registered',
  status: 'active',
  activeRegistrations: 0,
  ...over,
});

export const account = (over: Partial<MirrorAccountFact> = {}): MirrorAccountFact => ({
  crm: 'hubspot',
  externalId: 'hs-company-90001',
  name: 'Acme Incorporated',
  domains: ['acme.com'],
  country: null,
  ownerId: 'owner-id-4411',
  ownerName: 'Dana Directseller',
  ownerRole: 'partner',
  isCustomer: false,
  matchedBy: 'domain',
  ...over,
});

export const opportunity = (over: Partial<OpenOpportunityFact> = {}): OpenOpportunityFact => ({
  crm: 'hubspot',
  externalId: 'hs-deal-55501',
  accountExternalId: 'hs-company-90001',
  name: 'Acme - Enterprise renewal',
  stage: 'negotiation',
  amount: 120000,
  ownerName: 'Olga Opportunityowner',
  registrationId: null,
  ...over,
});

export const registration = (over: Partial<ActiveRegistrationFact> = {}): ActiveRegistrationFact => ({
  id: 'reg_other_0001',
  partnerId: 'partner_other_c0ffee',
  partnerName: 'Rival Reseller Ltd',
  status: 'approved',
  companyName: 'Acme Inc',
  domain: 'acme.com',
  createdAt: '2025-02-01T09:00:00.000Z',
  matchedBy: 'domain',
  ...over,
});

export const evidence = (over: Partial<Evidence> = {}): Evidence => ({
  partner: partner(),
  accounts: [],
  openOpportunities: [],
  activeRegistrations: [],
  mirrorFreshness: [{ crm: 'hubspot', syncedAt: '2025-03-01T11:59:00.000Z' }],
  ...over,
});

/** Everything a partner must never see in a message. */
export const SECRETS = [
  'Dana Directseller',
  'Olga Opportunityowner',
  'Rival Reseller Ltd',
  'partner_other_c0ffee',
  'reg_other_0001',
  'hs-company-90001',
  'hs-deal-55501',
  'owner-id-4411',
  'sf-account-001',
  'Acme - Enterprise renewal',
];
