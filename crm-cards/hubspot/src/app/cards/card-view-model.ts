// A copy of dealreg's card contract (src/domain/card-view-model.ts): HubSpot's card build bundles only
// this folder, so it cannot import from dealreg's src/. test/unit/crm/hubspot-card-view-model.test.ts
// fails the type check when the two drift apart: change both together (extend, never rename).

/** How a value should look: the cards map tones to their design system's (HubSpot Tag / SLDS badge). */
export type CardTone = 'success' | 'warning' | 'danger' | 'info' | 'neutral';

export type CardActionId = 'approve' | 'reject' | 'approve_extension';

export interface CardAction {
  id: CardActionId;
  /** Button text, e.g. "Approve", "Reject", "Approve 30-day extension". */
  label: string;
  /** The card must ask for a reason (reject) and send it as `reason`. */
  requiresReason: boolean;
  /** For approve_extension: the extension request to approve. */
  extensionRequestId?: string;
}

export interface CardReason {
  /** The stable reason code (DUPLICATE_REGISTRATION, OPEN_OPPORTUNITY, ...). */
  code: string;
  /** Short title for a rep, e.g. "Open opportunity on this account". */
  title: string;
  /** The evidence in words, e.g. "Deal “Umbrella renewal” (Presentation scheduled) is open on umbrella.com, owned by Dana Direct." */
  detail: string;
  tone: CardTone;
}

export interface CardAttributionPartner {
  partnerId: string;
  name: string;
  role: 'sourcing' | 'influencing';
  /** "Sourcing partner" / "Influencing partner". */
  roleLabel: string;
  percent: number;
  /** The partner's share of the amount (null when the registration has no amount). */
  amount: number | null;
  /** e.g. "$48,000.00" or "—". */
  amountLabel: string;
  /** e.g. "Registered 2026-09-01" / "Touch 2026-10-12 (registration 019a…)". */
  evidence: string | null;
}

export interface CardRegistration {
  id: string;
  status: 'pending_review' | 'approved' | 'rejected' | 'won' | 'lost' | 'expired' | 'withdrawn';
  /** "Pending review", "Approved", ... */
  statusLabel: string;
  statusTone: CardTone;
  /** "Acme Inc. (acme.com)". */
  company: string;
  submittedOn: string; // YYYY-MM-DD
  partner: {
    id: string;
    name: string;
    type: 'reseller' | 'referral' | 'affiliate' | 'technology';
    /** "Reseller", "Referral partner", "Affiliate", "Technology partner". */
    typeLabel: string;
    tier: 'registered' | 'silver' | 'gold';
    /** "Gold", "Silver", "Registered". */
    tierLabel: string;
    /** The partner's contact person (from the partner record), when known. */
    contact: { name: string | null; email: string | null } | null;
  };
  protection: {
    startsOn: string | null; // YYYY-MM-DD
    endsOn: string | null; // YYYY-MM-DD
    /** Whole days from today to the end (0 on the last day); null when not protected. */
    daysLeft: number | null;
    /** "Protected for 34 more days (until 2027-03-02)", "Protection ended on 2026-11-30", "Not protected: pending review". */
    label: string;
    tone: CardTone;
  };
  /** The verdict's reasons with their evidence, in a rep's words (empty: "No conflicts found"). */
  reasons: CardReason[];
  /** "Approved automatically: no conflicts found", "Needs review: 1 conflict", ... */
  verdictLabel: string;
  attribution: {
    /** Frozen with the won amount: the split no longer changes. */
    frozen: boolean;
    currency: string | null;
    total: number | null;
    /** e.g. "$48,000.00 (frozen when won)" or "No amount yet". */
    totalLabel: string;
    partners: CardAttributionPartner[];
  };
  /** A pending extension request, when there is one. */
  extension: { id: string; days: number; reason: string | null; requestedOn: string } | null;
  /** What this user may do now (empty: view only). */
  actions: CardAction[];
  /** Why there are no actions, e.g. "Only partner managers can approve registrations." (null when there are some, or nothing to decide). */
  actionsNote: string | null;
}

/** The card's whole document: a registration, or the empty state. */
export type CardView =
  | { kind: 'registration'; registration: CardRegistration; viewer: CardViewer; generatedAt: string }
  | { kind: 'empty'; title: string; message: string; viewer: CardViewer; generatedAt: string };

export interface CardViewer {
  /** "salesforce:005…" / "hubspot:701". */
  id: string;
  /** The dealreg role this CRM user maps to (viewer: no mapping). */
  role: 'admin' | 'revops' | 'partner_manager' | 'viewer';
}

/** POST /cards/<crm>/registrations/:id/actions answers with the action's outcome and the new view. */
export interface CardActionResult {
  ok: true;
  action: CardActionId;
  view: CardView;
}
