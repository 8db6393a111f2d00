// What dealreg needs in a HubSpot portal, as data: the deal property group "dealreg" and the deal
// properties dealreg writes. ensureSchema() creates what is missing; a provisioning script or the docs
// can print the same list (`DEALREG_DEAL_PROPERTIES`).
import { REGISTRATION_STATUSES } from '../../domain/types';

/** The unique-value deal property that holds the registration id: the external id of our deals. */
export const REGISTRATION_ID_PROPERTY = 'dealreg_registration_id';

export const DEALREG_PROPERTY_GROUP = {
  name: 'dealreg',
  label: 'dealreg partner registration',
  displayOrder: -1,
} as const;

export interface DealregPropertyOption {
  value: string;
  label: string;
  displayOrder: number;
}

export interface DealregPropertySpec {
  name: string;
  label: string;
  description: string;
  /** HubSpot property type. */
  type: 'string' | 'enumeration' | 'date';
  /** HubSpot field type (how the UI shows it). */
  fieldType: 'text' | 'textarea' | 'select' | 'date';
  hasUniqueValue: boolean;
  options: readonly DealregPropertyOption[];
}

const STATUS_LABELS: Record<(typeof REGISTRATION_STATUSES)[number], string> = {
  pending_review: 'Pending review',
  approved: 'Approved',
  rejected: 'Rejected',
  won: 'Won',
  lost: 'Lost',
  expired: 'Expired',
  withdrawn: 'Withdrawn',
};

const text = (name: string, label: string, description: string, fieldType: 'text' | 'textarea' = 'text'): DealregPropertySpec => ({
  name,
  label,
  description,
  type: 'string',
  fieldType,
  hasUniqueValue: false,
  options: [],
});

/** Every deal property dealreg needs, in display order. */
export const DEALREG_DEAL_PROPERTIES: readonly DealregPropertySpec[] = Object.freeze([
  {
    ...text(REGISTRATION_ID_PROPERTY, 'dealreg registration id', 'The dealreg registration this deal was created for (unique: one deal per registration).'),
    hasUniqueValue: true,
  },
  text('dealreg_partner_name', 'Registering partner', 'The partner that registered this deal.'),
  text('dealreg_partner_type', 'Partner type', 'reseller, referral, affiliate or technology.'),
  text('dealreg_partner_tier', 'Partner tier', 'The partner tier at registration time.'),
  {
    name: 'dealreg_status',
    label: 'Registration status',
    description: 'The dealreg registration status.',
    type: 'enumeration',
    fieldType: 'select',
    hasUniqueValue: false,
    options: REGISTRATION_STATUSES.map((value, displayOrder) => ({ value, label: STATUS_LABELS[value], displayOrder })),
  },
  {
    name: 'dealreg_protection_end',
    label: 'Protection ends',
    description: 'The last day the partner registration protects this deal.',
    type: 'date',
    fieldType: 'date',
    hasUniqueValue: false,
    options: [],
  },
  text('dealreg_verdict_summary', 'Rules of engagement verdict', 'Why dealreg approved, rejected or held the registration for review.', 'textarea'),
  text('dealreg_registration_url', 'Registration link', 'Where to see the registration in dealreg.'),
]);

/** The PropertyCreate body HubSpot takes for one of our properties. */
export function propertyCreateInput(spec: DealregPropertySpec): {
  name: string;
  label: string;
  description: string;
  groupName: string;
  type: DealregPropertySpec['type'];
  fieldType: DealregPropertySpec['fieldType'];
  hasUniqueValue: boolean;
  formField: boolean;
  displayOrder: number;
  options?: Array<{ value: string; label: string; displayOrder: number; hidden: boolean }>;
} {
  const body = {
    name: spec.name,
    label: spec.label,
    description: spec.description,
    groupName: DEALREG_PROPERTY_GROUP.name,
    type: spec.type,
    fieldType: spec.fieldType,
    hasUniqueValue: spec.hasUniqueValue,
    formField: false,
    displayOrder: DEALREG_DEAL_PROPERTIES.indexOf(spec),
  };
  if (spec.type !== 'enumeration') return body;
  return { ...body, options: spec.options.map((o) => ({ ...o, hidden: false })) };
}
