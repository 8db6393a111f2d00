// buildCardView: the facts of one registration (or none) → the CardView both CRM cards render
// (card-view-model.ts). Pure: no I/O, `now` is passed in. Every word a rep reads is decided here, so the
// cards compute nothing. Cards are staff-facing: reasons name their evidence (owners, conflicting deals,
// the other partner), which the partner API never shows.
import type {
  CardAction,
  CardAttributionPartner,
  CardReason,
  CardRegistration,
  CardTone,
  CardView,
  CardViewer,
} from './card-view-model';
import type { AttributionView } from './attribution';
import type { CrmName, Outcome, PartnerTier, PartnerType, Reason, RegistrationStatus } from './types';

const DAY_MS = 86_400_000;

/** The registration as the card needs it (a row of the card query, not the API JSON). */
export interface CardRegistrationFacts {
  id: string;
  status: RegistrationStatus;
  companyName: string;
  companyDomain: string;
  amount: { value: number; currency: string | null } | null;
  protectionStartsAt: Date | null;
  protectionEndsAt: Date | null;
  /** When it left the active states (won, lost, expired, withdrawn, rejected). */
  endedAt: Date | null;
  createdAt: Date;
  /** The verdict's outcome and its reasons with their evidence (Verdict.reasons). */
  verdict: { outcome: Outcome; reasons: Reason[] };
}

export interface CardPartnerFacts {
  id: string;
  name: string;
  type: PartnerType;
  tier: PartnerTier;
  contactName: string | null;
  contactEmail: string | null;
}

export interface CardExtensionFacts {
  id: string;
  requestedDays: number;
  reason: string | null;
  createdAt: Date;
}

export interface CardViewInput {
  /** The CRM the card is shown in (the words for its records: deal / opportunity). */
  crm: CrmName;
  now: Date;
  viewer: CardViewer;
  /**
   * A permission the viewer lacks on the CRM side, which stops them acting whatever their dealreg role
   * (Salesforce: the custom permission `Dealreg_Approve`); null or absent: nothing missing.
   */
  missingCrmPermission?: string | null;
  /** null: no registration on this CRM record (the empty state). */
  registration: CardRegistrationFacts | null;
  partner?: CardPartnerFacts | null;
  /** The attribution (attributionFor); null: the registration's partner sources it alone. */
  attribution?: AttributionView | null;
  /** The pending extension request, if any. */
  extension?: CardExtensionFacts | null;
  /** CRM stage ids → labels, for stages the built-in HubSpot defaults do not know. */
  stageLabels?: Readonly<Record<string, string>>;
}

const STATUS: Record<RegistrationStatus, { label: string; tone: CardTone }> = {
  pending_review: { label: 'Pending review', tone: 'warning' },
  approved: { label: 'Approved', tone: 'success' },
  rejected: { label: 'Rejected', tone: 'danger' },
  won: { label: 'Won', tone: 'success' },
  lost: { label: 'Lost', tone: 'neutral' },
  expired: { label: 'Expired', tone: 'neutral' },
  withdrawn: { label: 'Withdrawn', tone: 'neutral' },
};

const PARTNER_TYPE: Record<PartnerType, string> = {
  reseller: 'Reseller',
  referral: 'Referral partner',
  affiliate: 'Affiliate',
  technology: 'Technology partner',
};

const PARTNER_TIER: Record<PartnerTier, string> = { registered: 'Registered', silver: 'Silver', gold: 'Gold' };

const REASON_TONE: Record<Outcome, CardTone> = { reject: 'danger', review: 'warning', approve: 'info' };

/** HubSpot's default sales pipeline: the mirror keeps stage ids, a rep knows the labels. */
const HUBSPOT_DEFAULT_STAGES: Readonly<Record<string, string>> = {
  appointmentscheduled: 'Appointment scheduled',
  qualifiedtobuy: 'Qualified to buy',
  presentationscheduled: 'Presentation scheduled',
  decisionmakerboughtin: 'Decision maker bought-in',
  contractsent: 'Contract sent',
  closedwon: 'Closed won',
  closedlost: 'Closed lost',
};

/** Within this many days of the end, protection is shown as a warning. */
const ENDING_SOON_DAYS = 7;

const DECIDERS: ReadonlySet<CardViewer['role']> = new Set(['partner_manager', 'admin']);

export const EMPTY_CARD_TITLE = 'No partner on this deal';

export function buildCardView(input: CardViewInput): CardView {
  const generatedAt = input.now.toISOString();
  const reg = input.registration;
  if (!reg || !input.partner) {
    const record = input.crm === 'salesforce' ? 'opportunity' : 'deal';
    return {
      kind: 'empty',
      title: EMPTY_CARD_TITLE,
      message: `No partner has registered this ${record} in dealreg, so there is no protection, verdict or attribution to show. Registrations that partners submit appear here once they are synced to this ${record}.`,
      viewer: input.viewer,
      generatedAt,
    };
  }
  const partner = input.partner;
  const submittedOn = day(reg.createdAt);
  const { actions, actionsNote } = actionsFor(input, reg);
  const registration: CardRegistration = {
    id: reg.id,
    status: reg.status,
    statusLabel: STATUS[reg.status].label,
    statusTone: STATUS[reg.status].tone,
    company: `${reg.companyName} (${reg.companyDomain})`,
    submittedOn,
    partner: {
      id: partner.id,
      name: partner.name,
      type: partner.type,
      typeLabel: PARTNER_TYPE[partner.type],
      tier: partner.tier,
      tierLabel: PARTNER_TIER[partner.tier],
      contact: partner.contactName || partner.contactEmail ? { name: partner.contactName, email: partner.contactEmail } : null,
    },
    protection: protectionOf(reg, input.now),
    reasons: reg.verdict.reasons.map((r) => reasonOf(r, input, partner)),
    verdictLabel: verdictLabel(reg),
    attribution: attributionOf(reg, partner, input.attribution ?? null, submittedOn),
    extension: input.extension
      ? { id: input.extension.id, days: input.extension.requestedDays, reason: input.extension.reason, requestedOn: day(input.extension.createdAt) }
      : null,
    actions,
    actionsNote,
  };
  return { kind: 'registration', registration, viewer: input.viewer, generatedAt };
}

// ---------------------------------------------------------------------------------------------------
// Protection

function protectionOf(reg: CardRegistrationFacts, now: Date): CardRegistration['protection'] {
  const startsOn = reg.protectionStartsAt ? day(reg.protectionStartsAt) : null;
  const endsOn = reg.protectionEndsAt ? day(reg.protectionEndsAt) : null;
  const base = { startsOn, endsOn };
  if (reg.status === 'pending_review') return { ...base, daysLeft: null, label: 'Not protected: pending review', tone: 'warning' };
  if (reg.status === 'rejected') return { ...base, daysLeft: null, label: 'Not protected: rejected', tone: 'danger' };
  if (!reg.protectionEndsAt) {
    return { ...base, daysLeft: null, label: `Not protected: ${STATUS[reg.status].label.toLowerCase()}`, tone: 'neutral' };
  }
  const endsAt = reg.protectionEndsAt;
  if (reg.status === 'approved' && endsAt.getTime() > now.getTime()) {
    const daysLeft = Math.round((utcMidnight(endsAt) - utcMidnight(now)) / DAY_MS);
    if (daysLeft <= 0) return { ...base, daysLeft: 0, label: 'Last day of protection', tone: 'warning' };
    return {
      ...base,
      daysLeft,
      label: `Protected for ${daysLeft} more ${daysLeft === 1 ? 'day' : 'days'} (until ${endsOn})`,
      tone: daysLeft <= ENDING_SOON_DAYS ? 'warning' : 'success',
    };
  }
  // Ended: won, lost, withdrawn stop the clock when they happen; otherwise (expired, or approved and
  // lapsed before the sweep ran) it ended at its end date.
  const ended = reg.endedAt && reg.endedAt.getTime() < endsAt.getTime() && reg.status !== 'expired' ? reg.endedAt : endsAt;
  return { ...base, daysLeft: null, label: `Protection ended on ${day(ended)}`, tone: 'neutral' };
}

// ---------------------------------------------------------------------------------------------------
// Reasons: each code in a rep's words, naming its evidence.

function reasonOf(r: Reason, input: CardViewInput, partner: CardPartnerFacts): CardReason {
  const e = r.evidence ?? {};
  const here = input.crm;
  const tone = REASON_TONE[r.outcome] ?? 'warning';
  const account = e.account ? `${recordNoun(e.account.crm, here, 'account')} “${e.account.name}”` : null;
  const onDomain = e.matchedDomain ? ` (${e.matchedDomain})` : '';
  const owner = (name: string | null | undefined) => (name ? `, owned by ${name}` : '');
  switch (r.code) {
    case 'OPEN_OPPORTUNITY': {
      const o = e.opportunity;
      if (!o) return { code: r.code, title: 'Open opportunity on this account', detail: r.message, tone };
      const stage = o.stage ? ` (${stageLabel(o.stage, o.crm, input.stageLabels)})` : '';
      const where = e.matchedDomain ?? e.account?.name ?? 'this account';
      const ourOwn = o.registrationId ? ` It is the CRM side of registration ${shortId(o.registrationId)}.` : '';
      return {
        code: r.code,
        title: 'Open opportunity on this account',
        detail: `${capitalise(recordNoun(o.crm, here, 'opportunity'))} “${o.name}”${stage} is open on ${where}${owner(o.ownerName ?? e.account?.ownerName)}.${ourOwn}`,
        tone,
      };
    }
    case 'DUPLICATE_REGISTRATION': {
      const other = e.registration;
      if (!other) return { code: r.code, title: 'Already registered', detail: r.message, tone };
      const same = other.partnerId === partner.id;
      const who = same ? partner.name : other.partnerName ?? 'Another partner';
      const what = e.matchedDomain ?? other.domain ?? 'this company';
      return {
        code: r.code,
        title: same ? 'Already registered by this partner' : 'Already registered by another partner',
        detail: `${who} registered ${what} first, on ${day(other.createdAt)} (registration ${shortId(other.id)}, ${statusWords(other.status)} at the time).`,
        tone,
      };
    }
    case 'DIRECT_OWNED_ACCOUNT':
      return {
        code: r.code,
        title: 'Owned by direct sales',
        detail: account
          ? `${capitalise(account)}${onDomain} is owned by ${e.account?.ownerName ? `${e.account.ownerName}, of the direct sales team` : 'the direct sales team'}.`
          : r.message,
        tone,
      };
    case 'EXISTING_CUSTOMER':
      return {
        code: r.code,
        title: 'Already a customer',
        detail: account ? `${capitalise(account)}${onDomain} is already a customer${owner(e.account?.ownerName)}.` : r.message,
        tone,
      };
    case 'RESERVED_ACCOUNT': {
      const res = e.reserved;
      const note = res?.note ? ` Note: ${res.note}` : '';
      if (res?.kind === 'domain') {
        return { code: r.code, title: 'Reserved for direct sales', detail: `${e.matchedDomain ?? res.value} is on the reserved accounts list.${note}`, tone };
      }
      if (res?.kind === 'territory') {
        const subject = account ? `${capitalise(account)}${onDomain} is` : 'The company is';
        return { code: r.code, title: 'Reserved territory', detail: `${subject} in ${res.value}, a territory reserved for direct sales.${note}`, tone };
      }
      return { code: r.code, title: 'Reserved for direct sales', detail: r.message, tone };
    }
    case 'SIMILAR_COMPANY_NAME': {
      const s = e.similarity;
      const percent = s ? `${Math.round(s.score * 100)}%` : 'very';
      const ours = s?.ours ?? 'The company name';
      if (e.registration) {
        const other = e.registration;
        const byWhom = other.partnerId === partner.id ? 'this partner' : other.partnerName ?? 'another partner';
        return {
          code: r.code,
          title: 'Similar company name',
          detail: `“${ours}” is ${percent} similar to “${s?.theirs ?? other.companyName ?? 'another company'}”${other.domain ? ` (${other.domain})` : ''}, registered by ${byWhom} on ${day(other.createdAt)} (${statusWords(other.status)} at the time).`,
          tone,
        };
      }
      if (account) {
        return { code: r.code, title: 'Similar company name', detail: `“${ours}” is ${percent} similar to ${account}${owner(e.account?.ownerName)}.`, tone };
      }
      return { code: r.code, title: 'Similar company name', detail: r.message, tone };
    }
    case 'INVALID_DOMAIN':
      return { code: r.code, title: 'Not a company domain', detail: `“${e.domain?.input ?? '?'}” is not a valid company domain.`, tone };
    case 'FREE_EMAIL_DOMAIN':
      return {
        code: r.code,
        title: 'Free email domain',
        detail: `${e.domain?.normalised ?? e.domain?.input ?? 'The domain'} belongs to a free email provider, not to the company.`,
        tone,
      };
    case 'PARTNER_INACTIVE':
      return { code: r.code, title: 'Partner inactive', detail: `${partner.name}’s partner account was inactive when this was submitted.`, tone };
    case 'PARTNER_CAP_REACHED': {
      const p = e.partner;
      return {
        code: r.code,
        title: 'Partner at its registration limit',
        detail:
          p?.cap !== undefined
            ? `${partner.name} already had ${p.activeRegistrations ?? p.cap} open registrations; its ${PARTNER_TIER[partner.tier]} tier allows ${p.cap}.`
            : r.message,
        tone,
      };
    }
    default:
      return { code: r.code, title: capitalise(String(r.code).toLowerCase().replace(/_/g, ' ')), detail: r.message, tone };
  }
}

function verdictLabel(reg: CardRegistrationFacts): string {
  const n = reg.verdict.reasons.length;
  const conflicts = `${n} ${n === 1 ? 'conflict' : 'conflicts'}`;
  switch (reg.verdict.outcome) {
    case 'approve':
      return n === 0 ? 'Approved automatically: no conflicts found' : `Approved automatically: ${n} ${n === 1 ? 'finding' : 'findings'} noted`;
    case 'reject':
      return `Rejected automatically: ${conflicts}`;
    case 'review':
    default:
      if (reg.status === 'pending_review') return n === 0 ? 'Needs review: no conflicts found' : `Needs review: ${conflicts}`;
      return n === 0 ? 'Reviewed by a partner manager: no conflicts found' : `Reviewed by a partner manager: ${conflicts}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Attribution

function attributionOf(reg: CardRegistrationFacts, partner: CardPartnerFacts, view: AttributionView | null, submittedOn: string): CardRegistration['attribution'] {
  const amount = view ? view.amount : reg.amount;
  const currency = amount?.currency ?? reg.amount?.currency ?? null;
  const total = amount ? amount.value : null;
  const frozen = view?.frozen ?? false;
  const totalLabel = total === null ? 'No amount yet' : frozen ? `${money(total, currency)} (frozen when won)` : money(total, currency);
  const partners: CardAttributionPartner[] = view
    ? view.partners.map((p) => ({
        partnerId: p.partnerId,
        name: p.partnerName,
        role: p.role,
        roleLabel: p.role === 'sourcing' ? 'Sourcing partner' : 'Influencing partner',
        percent: p.percent,
        amount: p.amount,
        amountLabel: p.amount === null ? '—' : money(p.amount, currency),
        evidence: p.role === 'sourcing' && p.partnerId === partner.id && !p.evidence ? `Registered ${submittedOn}` : evidenceWords(p.evidence, reg.id, submittedOn),
      }))
    : [
        {
          partnerId: partner.id,
          name: partner.name,
          role: 'sourcing',
          roleLabel: 'Sourcing partner',
          percent: 100,
          amount: total,
          amountLabel: total === null ? '—' : money(total, currency),
          evidence: `Registered ${submittedOn}`,
        },
      ];
  return { frozen, currency, total, totalLabel, partners };
}

function evidenceWords(e: AttributionView['partners'][number]['evidence'], registrationId: string, submittedOn: string): string | null {
  if (!e) return null;
  const parts: string[] = [];
  if (e.touchedAt) parts.push(`Touch ${e.touchedAt.slice(0, 10)}${e.registrationId ? ` (registration ${shortId(e.registrationId)})` : ''}`);
  else if (e.registrationId === registrationId) parts.push(`Registered ${submittedOn}`);
  else if (e.registrationId) parts.push(`Registration ${shortId(e.registrationId)}`);
  if (e.note) parts.push(e.note);
  return parts.length > 0 ? parts.join(': ') : null;
}

const moneyFormats = new Map<string, (value: number) => string>();

/** en-US money: "$48,000.00", "€10,000.00", "¥48,000"; without a currency "48,000.00"; an unknown code "48,000.00 XYZ". */
export function money(value: number, currency: string | null): string {
  const code = currency?.trim().toUpperCase() || '';
  let format = moneyFormats.get(code);
  if (!format) {
    const plain = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    let f: Intl.NumberFormat | null = null;
    try {
      f = code ? new Intl.NumberFormat('en-US', { style: 'currency', currency: code }) : null;
    } catch {
      f = null; // not an ISO 4217 code
    }
    const currencyFormat = f;
    format = currencyFormat ? (v) => currencyFormat.format(v) : code ? (v) => `${plain.format(v)} ${code}` : (v) => plain.format(v);
    if (moneyFormats.size < 500) moneyFormats.set(code, format);
  }
  return format(value);
}

// ---------------------------------------------------------------------------------------------------
// Actions: what this viewer may do now.

function actionsFor(input: CardViewInput, reg: CardRegistrationFacts): { actions: CardAction[]; actionsNote: string | null } {
  const decider = DECIDERS.has(input.viewer.role);
  const blocked = (what: string): { actions: CardAction[]; actionsNote: string } => {
    if (!decider) {
      const ask = input.viewer.role === 'viewer' ? ' Ask your dealreg admin to give you the partner manager role.' : ` Your dealreg role is ${roleWords(input.viewer.role)}.`;
      return { actions: [], actionsNote: `Only partner managers (or admins) can ${what}.${ask}` };
    }
    const crmName = input.crm === 'salesforce' ? 'Salesforce' : 'HubSpot';
    return { actions: [], actionsNote: `To ${what}, your ${crmName} user needs the ${input.missingCrmPermission} permission. Ask your ${crmName} admin.` };
  };
  const may = decider && !input.missingCrmPermission;
  if (reg.status === 'pending_review') {
    if (!may) return blocked('approve or reject registrations');
    return {
      actions: [
        { id: 'approve', label: 'Approve', requiresReason: false },
        { id: 'reject', label: 'Reject', requiresReason: true },
      ],
      actionsNote: null,
    };
  }
  if (reg.status === 'approved' && input.extension) {
    if (!may) return blocked('approve extension requests');
    return {
      actions: [{ id: 'approve_extension', label: `Approve ${input.extension.requestedDays}-day extension`, requiresReason: false, extensionRequestId: input.extension.id }],
      actionsNote: null,
    };
  }
  return { actions: [], actionsNote: null };
}

// ---------------------------------------------------------------------------------------------------
// Words

function roleWords(role: CardViewer['role']): string {
  return role === 'revops' ? 'RevOps' : role === 'partner_manager' ? 'partner manager' : role;
}

function statusWords(status: string): string {
  return status === 'pending_review' ? 'pending review' : status;
}

/** "deal" / "opportunity" / "company" / "account", prefixed by the CRM when it is not the card's own. */
function recordNoun(crm: CrmName, here: CrmName, kind: 'opportunity' | 'account'): string {
  const noun = crm === 'hubspot' ? (kind === 'opportunity' ? 'deal' : 'company') : kind;
  return crm === here ? noun : `${crm === 'hubspot' ? 'HubSpot' : 'Salesforce'} ${noun}`;
}

function stageLabel(stage: string, crm: CrmName, labels: Readonly<Record<string, string>> | undefined): string {
  return labels?.[stage] ?? (crm === 'hubspot' ? HUBSPOT_DEFAULT_STAGES[stage] : undefined) ?? stage;
}

const capitalise = (s: string): string => (s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1));
const shortId = (id: string): string => `${id.slice(0, 8)}…`;
const day = (d: Date | string): string => (typeof d === 'string' ? new Date(d) : d).toISOString().slice(0, 10);
const utcMidnight = (d: Date): number => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
