// The card's JSON crosses a network boundary: check it before rendering it. These guards check what the
// card dereferences (so a malformed document becomes an error state, not a crash); they do not
// re-decide anything dealreg decided.
import type {
  CardAction,
  CardActionResult,
  CardAttributionPartner,
  CardReason,
  CardRegistration,
  CardTone,
  CardView,
  CardViewer,
} from './card-view-model';

type Json = Record<string, unknown>;

// Records, not arrays, so that a value added to the contract fails the type check until it is listed here.
const keysOf = <T extends string>(r: Record<T, true>): readonly T[] => Object.keys(r) as T[];
const TONES = keysOf<CardTone>({ success: true, warning: true, danger: true, info: true, neutral: true });
const ACTION_IDS = keysOf<CardAction['id']>({ approve: true, reject: true, approve_extension: true });
const STATUSES = keysOf<CardRegistration['status']>({ pending_review: true, approved: true, rejected: true, won: true, lost: true, expired: true, withdrawn: true });
const ROLES = keysOf<CardViewer['role']>({ admin: true, revops: true, partner_manager: true, viewer: true });
const PARTNER_TYPES = keysOf<CardRegistration['partner']['type']>({ reseller: true, referral: true, affiliate: true, technology: true });
const TIERS = keysOf<CardRegistration['partner']['tier']>({ registered: true, silver: true, gold: true });
const ATTRIBUTION_ROLES = keysOf<CardAttributionPartner['role']>({ sourcing: true, influencing: true });

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumberOrNull = (v: unknown): v is number | null => v === null || isNumber(v);
const isOneOf = <T extends string>(values: readonly T[], v: unknown): v is T => typeof v === 'string' && (values as readonly string[]).includes(v);
const isArrayOf = <T>(v: unknown, item: (x: unknown) => x is T): v is T[] => Array.isArray(v) && v.every(item);

const isViewer = (v: unknown): v is CardViewer => isObject(v) && isString(v.id) && isOneOf(ROLES, v.role);

const isReason = (v: unknown): v is CardReason =>
  isObject(v) && isString(v.code) && isString(v.title) && isString(v.detail) && isOneOf(TONES, v.tone);

const isAction = (v: unknown): v is CardAction =>
  isObject(v) &&
  isOneOf(ACTION_IDS, v.id) &&
  isString(v.label) &&
  typeof v.requiresReason === 'boolean' &&
  (v.extensionRequestId === undefined || isString(v.extensionRequestId));

const isAttributionPartner = (v: unknown): v is CardAttributionPartner =>
  isObject(v) &&
  isString(v.partnerId) &&
  isString(v.name) &&
  isOneOf(ATTRIBUTION_ROLES, v.role) &&
  isString(v.roleLabel) &&
  isNumber(v.percent) &&
  isNumberOrNull(v.amount) &&
  isString(v.amountLabel) &&
  isStringOrNull(v.evidence);

const isPartner = (v: unknown): v is CardRegistration['partner'] =>
  isObject(v) &&
  isString(v.id) &&
  isString(v.name) &&
  isOneOf(PARTNER_TYPES, v.type) &&
  isString(v.typeLabel) &&
  isOneOf(TIERS, v.tier) &&
  isString(v.tierLabel) &&
  (v.contact === null || (isObject(v.contact) && isStringOrNull(v.contact.name) && isStringOrNull(v.contact.email)));

const isProtection = (v: unknown): v is CardRegistration['protection'] =>
  isObject(v) && isStringOrNull(v.startsOn) && isStringOrNull(v.endsOn) && isNumberOrNull(v.daysLeft) && isString(v.label) && isOneOf(TONES, v.tone);

const isAttribution = (v: unknown): v is CardRegistration['attribution'] =>
  isObject(v) &&
  typeof v.frozen === 'boolean' &&
  isStringOrNull(v.currency) &&
  isNumberOrNull(v.total) &&
  isString(v.totalLabel) &&
  isArrayOf(v.partners, isAttributionPartner);

const isExtension = (v: unknown): v is CardRegistration['extension'] =>
  v === null || (isObject(v) && isString(v.id) && isNumber(v.days) && isStringOrNull(v.reason) && isString(v.requestedOn));

const isRegistration = (v: unknown): v is CardRegistration =>
  isObject(v) &&
  isString(v.id) &&
  isOneOf(STATUSES, v.status) &&
  isString(v.statusLabel) &&
  isOneOf(TONES, v.statusTone) &&
  isString(v.company) &&
  isString(v.submittedOn) &&
  isPartner(v.partner) &&
  isProtection(v.protection) &&
  isArrayOf(v.reasons, isReason) &&
  isString(v.verdictLabel) &&
  isAttribution(v.attribution) &&
  isExtension(v.extension) &&
  isArrayOf(v.actions, isAction) &&
  isStringOrNull(v.actionsNote);

/** A `CardView` by its `kind`: a registration, or the empty state. Anything else is not a card. */
export function isCardView(v: unknown): v is CardView {
  if (!isObject(v) || !isViewer(v.viewer) || !isString(v.generatedAt)) return false;
  switch (v.kind) {
    case 'registration':
      return isRegistration(v.registration);
    case 'empty':
      return isString(v.title) && isString(v.message);
    default:
      return false;
  }
}

export function isCardActionResult(v: unknown): v is CardActionResult {
  return isObject(v) && v.ok === true && isOneOf(ACTION_IDS, v.action) && isCardView(v.view);
}

/** dealreg's error body: `{ error: { code, message } }`. */
export function readErrorBody(v: unknown): { code: string; message: string } | null {
  if (!isObject(v) || !isObject(v.error)) return null;
  const { code, message } = v.error;
  return isString(code) && isString(message) ? { code, message } : null;
}
