// The canonical registration model and the shapes the pure domain works on.
// Nothing here knows HubSpot, Salesforce, Prisma or HTTP.

export const REGISTRATION_STATUSES = ['pending_review', 'approved', 'rejected', 'won', 'lost', 'expired', 'withdrawn'] as const;
export type RegistrationStatus = (typeof REGISTRATION_STATUSES)[number];

export const PARTNER_TYPES = ['reseller', 'referral', 'affiliate', 'technology'] as const;
export type PartnerType = (typeof PARTNER_TYPES)[number];

export const PARTNER_TIERS = ['registered', 'silver', 'gold'] as const;
export type PartnerTier = (typeof PARTNER_TIERS)[number];

export const PARTNER_STATUSES = ['active', 'inactive'] as const;
export type PartnerStatus = (typeof PARTNER_STATUSES)[number];

export const STAFF_ROLES = ['admin', 'revops', 'partner_manager'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** Stable API: integrators script against these codes. Extend, never rename. */
export const REASON_CODES = [
  'DUPLICATE_REGISTRATION',
  'OPEN_OPPORTUNITY',
  'DIRECT_OWNED_ACCOUNT',
  'RESERVED_ACCOUNT',
  'EXISTING_CUSTOMER',
  'SIMILAR_COMPANY_NAME',
  'INVALID_DOMAIN',
  'FREE_EMAIL_DOMAIN',
  'PARTNER_INACTIVE',
  'PARTNER_CAP_REACHED',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export type Outcome = 'approve' | 'review' | 'reject';
export const CRM_NAMES = ['hubspot', 'salesforce'] as const;
export type CrmName = (typeof CRM_NAMES)[number];

/** What a partner (or the CRM) submitted, already shape-validated. The domain may be raw user input. */
export interface RegistrationCandidate {
  partnerId: string;
  company: { name: string; domain: string; country?: string | null };
}

export interface PartnerFacts {
  id: string;
  name: string;
  type: PartnerType;
  tier: PartnerTier;
  status: PartnerStatus;
  /** Registrations of this partner currently pending_review or approved. */
  activeRegistrations: number;
}

export interface MirrorAccountFact {
  crm: CrmName;
  externalId: string;
  name: string;
  domains: string[];
  country: string | null;
  ownerId: string | null;
  ownerName: string | null;
  ownerRole: 'direct' | 'partner' | 'unknown';
  isCustomer: boolean;
  /** How the account was matched to the candidate. */
  matchedBy: 'domain' | 'name';
}

export interface OpenOpportunityFact {
  crm: CrmName;
  externalId: string;
  accountExternalId: string;
  name: string;
  stage: string | null;
  amount: number | null;
  ownerName: string | null;
  /** Set when the opportunity is the CRM side of one of our own registrations. */
  registrationId: string | null;
}

export interface ActiveRegistrationFact {
  id: string;
  partnerId: string;
  partnerName: string;
  status: 'pending_review' | 'approved';
  companyName: string;
  domain: string;
  createdAt: string; // ISO
  matchedBy: 'domain' | 'name';
}

/** Everything evaluate() may look at, gathered by the caller (from the account mirror) in one query. */
export interface Evidence {
  partner: PartnerFacts;
  accounts: MirrorAccountFact[];
  openOpportunities: OpenOpportunityFact[];
  activeRegistrations: ActiveRegistrationFact[];
  /** Per CRM, when the mirror was last known complete (null: never backfilled / no CRM connected). */
  mirrorFreshness: { crm: CrmName; syncedAt: string | null }[];
}

export interface ReasonEvidence {
  matchedDomain?: string;
  account?: { crm: CrmName; externalId: string; name: string; ownerName?: string | null; ownerRole?: string };
  opportunity?: {
    crm: CrmName;
    externalId: string;
    name: string;
    stage?: string | null;
    amount?: number | null;
    ownerName?: string | null;
    /** Set when the opportunity is the CRM side of one of our registrations. */
    registrationId?: string | null;
  };
  registration?: { id: string; partnerId: string; status: string; createdAt: string; partnerName?: string; companyName?: string; domain?: string };
  reserved?: { kind: 'domain' | 'territory'; value: string; note?: string };
  similarity?: { theirs: string; ours: string; score: number };
  partner?: { id: string; status?: string; activeRegistrations?: number; cap?: number };
  domain?: { input: string; normalised?: string | null };
}

export interface Reason {
  code: ReasonCode;
  outcome: Outcome; // how this reason alone would decide
  message: string;
  evidence: ReasonEvidence;
}

export interface Verdict {
  outcome: Outcome;
  reasons: Reason[];
  policyVersion: number;
  /** The registrable domain the verdict was computed for (null when the input was not a domain). */
  domain: string | null;
  mirrorFreshness: Evidence['mirrorFreshness'];
  evaluatedAt: string; // ISO
}

/** One event in a registration's life that the protection clock cares about. */
export type ClockEvent =
  | { type: 'approved'; at: string; days: number }
  | { type: 'extended'; at: string; days: number }
  | { type: 'ended'; at: string; status: 'won' | 'lost' | 'expired' | 'withdrawn' };

export interface Protection {
  startsAt: string;
  endsAt: string;
  extensionsUsed: number;
  extendedDays: number;
  endedAt: string | null;
}
