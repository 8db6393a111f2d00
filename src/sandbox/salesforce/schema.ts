// The sObjects the sandbox serves and their fields, as `describe` reports them. An org's schema depends
// on whether the dealreg custom fields are deployed, on its record types and on its OpportunityStage rows.
import { KEY_PREFIX } from './ids';

export type FieldType =
  | 'id' | 'string' | 'textarea' | 'url' | 'email' | 'phone' | 'picklist' | 'boolean'
  | 'currency' | 'double' | 'percent' | 'int' | 'date' | 'datetime' | 'reference';

export interface PicklistValue {
  active: boolean;
  defaultValue: boolean;
  label: string;
  validFor: null;
  value: string;
}

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length: number;
  precision: number;
  scale: number;
  digits: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  defaultedOnCreate: boolean;
  externalId: boolean;
  unique: boolean;
  caseSensitive: boolean;
  custom: boolean;
  nameField: boolean;
  idLookup: boolean;
  calculated: boolean;
  picklistValues: PicklistValue[];
  restrictedPicklist: boolean;
  referenceTo: string[];
  relationshipName: string | null;
  /** Required on create through the API: not nillable, createable, not defaulted. */
  required: boolean;
}

export interface RecordTypeInfo {
  id: string;
  developerName: string;
  name: string;
  isDefault: boolean;
}

export interface SObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  /** Change Data Capture channel exists for it (`/data/<Name>ChangeEvent`). */
  cdc: boolean;
  fields: FieldDef[];
  /** Lower-cased field name → field. */
  byName: Map<string, FieldDef>;
  /** Lower-cased relationship name → the reference field. */
  byRelationship: Map<string, FieldDef>;
  recordTypes: RecordTypeInfo[];
}

export type OrgSchema = Map<string, SObjectDef>;

type FieldOpts = Partial<Omit<FieldDef, 'name' | 'label' | 'type' | 'picklistValues'>> & { picklist?: string[] | PicklistValue[] };

function field(name: string, type: FieldType, label: string, opts: FieldOpts = {}): FieldDef {
  const readOnly = opts.createable === false && opts.updateable === false;
  const def: FieldDef = {
    name,
    label,
    type,
    length: opts.length ?? defaultLength(type),
    precision: opts.precision ?? 0,
    scale: opts.scale ?? 0,
    digits: opts.digits ?? 0,
    nillable: opts.nillable ?? true,
    createable: opts.createable ?? true,
    updateable: opts.updateable ?? !readOnly,
    defaultedOnCreate: opts.defaultedOnCreate ?? false,
    externalId: opts.externalId ?? false,
    unique: opts.unique ?? false,
    caseSensitive: opts.caseSensitive ?? false,
    custom: name.endsWith('__c'),
    nameField: opts.nameField ?? false,
    idLookup: opts.idLookup ?? false,
    calculated: opts.calculated ?? false,
    picklistValues: toPicklist(opts.picklist),
    restrictedPicklist: opts.restrictedPicklist ?? false,
    referenceTo: opts.referenceTo ?? [],
    relationshipName: opts.relationshipName ?? null,
    required: false,
  };
  def.required = !def.nillable && def.createable && !def.defaultedOnCreate && type !== 'boolean';
  return def;
}

function defaultLength(type: FieldType): number {
  switch (type) {
    case 'id':
    case 'reference':
      return 18;
    case 'string':
    case 'url':
    case 'picklist':
      return 255;
    case 'textarea':
      return 32000;
    case 'email':
      return 80;
    case 'phone':
      return 40;
    default:
      return 0;
  }
}

function toPicklist(values: string[] | PicklistValue[] | undefined): PicklistValue[] {
  if (!values) return [];
  return values.map((v) => (typeof v === 'string' ? { active: true, defaultValue: false, label: v, validFor: null, value: v } : v));
}

const ro = { createable: false, updateable: false } as const;

function systemFields(): FieldDef[] {
  return [
    field('IsDeleted', 'boolean', 'Deleted', { ...ro, nillable: false, defaultedOnCreate: true }),
    field('CreatedDate', 'datetime', 'Created Date', { ...ro, nillable: false, defaultedOnCreate: true }),
    field('CreatedById', 'reference', 'Created By ID', { ...ro, nillable: false, defaultedOnCreate: true, referenceTo: ['User'], relationshipName: 'CreatedBy' }),
    field('LastModifiedDate', 'datetime', 'Last Modified Date', { ...ro, nillable: false, defaultedOnCreate: true }),
    field('LastModifiedById', 'reference', 'Last Modified By ID', { ...ro, nillable: false, defaultedOnCreate: true, referenceTo: ['User'], relationshipName: 'LastModifiedBy' }),
    field('SystemModstamp', 'datetime', 'System Modstamp', { ...ro, nillable: false, defaultedOnCreate: true }),
  ];
}

function idField(label: string): FieldDef {
  return field('Id', 'id', label, { ...ro, nillable: false, defaultedOnCreate: true, idLookup: true });
}

function ownerField(): FieldDef {
  return field('OwnerId', 'reference', 'Owner ID', { nillable: false, defaultedOnCreate: true, referenceTo: ['User'], relationshipName: 'Owner' });
}

function recordTypeField(): FieldDef {
  return field('RecordTypeId', 'reference', 'Record Type ID', { defaultedOnCreate: true, referenceTo: ['RecordType'], relationshipName: 'RecordType' });
}

export const ACCOUNT_TYPES = ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Channel Partner / Reseller', 'Installation Partner', 'Technology Partner', 'Other'];
export const INDUSTRIES = [
  'Agriculture', 'Apparel', 'Banking', 'Biotechnology', 'Chemicals', 'Communications', 'Construction', 'Consulting', 'Education',
  'Electronics', 'Energy', 'Engineering', 'Entertainment', 'Environmental', 'Finance', 'Food & Beverage', 'Government', 'Healthcare',
  'Hospitality', 'Insurance', 'Machinery', 'Manufacturing', 'Media', 'Not For Profit', 'Recreation', 'Retail', 'Shipping',
  'Technology', 'Telecommunications', 'Transportation', 'Utilities', 'Other',
];
export const PARTNER_ROLES = ['System Integrator', 'Agency', 'Advertiser', 'VAR/Reseller', 'Distributor', 'Developer', 'Broker', 'Lender', 'Supplier', 'Institution', 'Contractor', 'Dealer', 'Consultant'];
export const USER_TYPES = ['Standard', 'PowerPartner', 'CspLitePortal', 'CustomerSuccess', 'PowerCustomerSuccess', 'CsnOnly', 'Guest'];
export const DEALREG_STATUSES = ['pending_review', 'approved', 'rejected', 'won', 'lost', 'expired', 'withdrawn'];
export const FORECAST_CATEGORY_NAMES = ['Omitted', 'Pipeline', 'Best Case', 'Commit', 'Closed'];
/** ForecastCategoryName → ForecastCategory (the API value behind it). */
export const FORECAST_CATEGORY: Record<string, string> = { Omitted: 'Omitted', Pipeline: 'Pipeline', 'Best Case': 'BestCase', Commit: 'Forecast', Closed: 'Closed' };

export const DEALREG_FIELD_NAMES = [
  'Dealreg_Registration_Id__c',
  'Dealreg_Partner__c',
  'Dealreg_Partner_Tier__c',
  'Dealreg_Status__c',
  'Dealreg_Protection_End__c',
  'Dealreg_Verdict__c',
];

function dealregFields(): FieldDef[] {
  return [
    field('Dealreg_Registration_Id__c', 'string', 'Dealreg Registration ID', { length: 36, externalId: true, unique: true, idLookup: true }),
    field('Dealreg_Partner__c', 'string', 'Dealreg Partner', { length: 255 }),
    field('Dealreg_Partner_Tier__c', 'string', 'Dealreg Partner Tier', { length: 80 }),
    field('Dealreg_Status__c', 'picklist', 'Dealreg Status', {
      restrictedPicklist: true,
      picklist: DEALREG_STATUSES.map((v) => ({ active: true, defaultValue: false, label: labelOf(v), validFor: null, value: v })),
    }),
    field('Dealreg_Protection_End__c', 'date', 'Dealreg Protection End'),
    field('Dealreg_Verdict__c', 'string', 'Dealreg Verdict', { length: 255 }),
  ];
}

function labelOf(value: string): string {
  const s = value.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** One row of the OpportunityStage table, as far as the schema needs it. */
export interface StageInfo {
  ApiName: string;
  MasterLabel: string;
  IsActive: boolean;
  SortOrder: number;
  DefaultProbability: number;
}

export interface SchemaOptions {
  withDealregFields: boolean;
  recordTypes: Record<string, RecordTypeInfo[]>;
  stages: StageInfo[];
}

export function buildSchema(opts: SchemaOptions): OrgSchema {
  const rt = (name: string): RecordTypeInfo[] => opts.recordTypes[name] ?? [];
  const stageValues: PicklistValue[] = opts.stages
    .filter((s) => s.IsActive)
    .sort((a, b) => a.SortOrder - b.SortOrder)
    .map((s) => ({ active: true, defaultValue: false, label: s.MasterLabel, validFor: null, value: s.ApiName }));

  const account: FieldDef[] = [
    idField('Account ID'),
    ...(rt('Account').length > 0 ? [recordTypeField()] : []),
    field('Name', 'string', 'Account Name', { nillable: false, nameField: true }),
    field('Type', 'picklist', 'Account Type', { picklist: ACCOUNT_TYPES, length: 255 }),
    field('ParentId', 'reference', 'Parent Account ID', { referenceTo: ['Account'], relationshipName: 'Parent' }),
    field('BillingStreet', 'textarea', 'Billing Street', { length: 255 }),
    field('BillingCity', 'string', 'Billing City', { length: 40 }),
    field('BillingState', 'string', 'Billing State/Province', { length: 80 }),
    field('BillingPostalCode', 'string', 'Billing Zip/Postal Code', { length: 20 }),
    field('BillingCountry', 'string', 'Billing Country', { length: 80 }),
    field('Phone', 'phone', 'Account Phone'),
    field('Website', 'url', 'Website'),
    field('Industry', 'picklist', 'Industry', { picklist: INDUSTRIES }),
    field('AnnualRevenue', 'currency', 'Annual Revenue', { precision: 18, scale: 0 }),
    field('NumberOfEmployees', 'int', 'Employees', { digits: 8 }),
    field('Description', 'textarea', 'Account Description'),
    ownerField(),
    field('IsPartner', 'boolean', 'Partner Account', { ...ro, nillable: false, defaultedOnCreate: true }),
    ...systemFields(),
    field('LastActivityDate', 'date', 'Last Activity', ro),
  ];

  const opportunity: FieldDef[] = [
    idField('Opportunity ID'),
    field('IsDeleted', 'boolean', 'Deleted', { ...ro, nillable: false, defaultedOnCreate: true }),
    field('AccountId', 'reference', 'Account ID', { referenceTo: ['Account'], relationshipName: 'Account' }),
    ...(rt('Opportunity').length > 0 ? [recordTypeField()] : []),
    field('IsPrivate', 'boolean', 'Private', { nillable: false, defaultedOnCreate: true }),
    field('Name', 'string', 'Name', { length: 120, nillable: false, nameField: true }),
    field('Description', 'textarea', 'Description'),
    field('StageName', 'picklist', 'Stage', { nillable: false, restrictedPicklist: true, length: 255, picklist: stageValues }),
    field('Amount', 'currency', 'Amount', { precision: 18, scale: 2 }),
    field('Probability', 'percent', 'Probability (%)', { precision: 3, scale: 0, defaultedOnCreate: true }),
    field('ExpectedRevenue', 'currency', 'Expected Amount', { ...ro, precision: 18, scale: 2, calculated: true }),
    field('CloseDate', 'date', 'Close Date', { nillable: false }),
    field('Type', 'picklist', 'Opportunity Type', { picklist: ['Existing Customer - Upgrade', 'Existing Customer - Replacement', 'Existing Customer - Downgrade', 'New Customer'] }),
    field('NextStep', 'string', 'Next Step', { length: 255 }),
    field('LeadSource', 'picklist', 'Lead Source', { picklist: ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'] }),
    field('IsClosed', 'boolean', 'Closed', { ...ro, nillable: false, defaultedOnCreate: true }),
    field('IsWon', 'boolean', 'Won', { ...ro, nillable: false, defaultedOnCreate: true }),
    field('ForecastCategory', 'picklist', 'Forecast Category', { ...ro, nillable: false, defaultedOnCreate: true, picklist: Object.values(FORECAST_CATEGORY) }),
    field('ForecastCategoryName', 'picklist', 'Forecast Category', { defaultedOnCreate: true, picklist: FORECAST_CATEGORY_NAMES }),
    field('HasOpportunityLineItem', 'boolean', 'Has Line Item', { ...ro, nillable: false, defaultedOnCreate: true }),
    ownerField(),
    ...systemFields().filter((f) => f.name !== 'IsDeleted'),
    field('LastActivityDate', 'date', 'Last Activity', ro),
    ...(opts.withDealregFields ? dealregFields() : []),
  ];

  const user: FieldDef[] = [
    idField('User ID'),
    field('Username', 'string', 'Username', { length: 80, nillable: false, unique: true, idLookup: true }),
    field('LastName', 'string', 'Last Name', { length: 80, nillable: false }),
    field('FirstName', 'string', 'First Name', { length: 40 }),
    field('Name', 'string', 'Full Name', { ...ro, length: 121, nillable: false, nameField: true, defaultedOnCreate: true }),
    field('CompanyName', 'string', 'Company Name', { length: 80 }),
    field('Department', 'string', 'Department', { length: 80 }),
    field('Title', 'string', 'Title', { length: 80 }),
    field('Email', 'email', 'Email', { length: 128, nillable: false }),
    field('Alias', 'string', 'Alias', { length: 8, nillable: false }),
    field('IsActive', 'boolean', 'Active', { nillable: false, defaultedOnCreate: true }),
    field('UserRoleId', 'reference', 'Role ID', { referenceTo: ['UserRole'], relationshipName: 'UserRole' }),
    field('ProfileId', 'reference', 'Profile ID', { nillable: false, referenceTo: ['Profile'], relationshipName: 'Profile' }),
    field('UserType', 'picklist', 'User Type', { ...ro, defaultedOnCreate: true, picklist: USER_TYPES }),
    field('ManagerId', 'reference', 'Manager ID', { referenceTo: ['User'], relationshipName: 'Manager' }),
    field('AccountId', 'reference', 'Account ID', { ...ro, referenceTo: ['Account'], relationshipName: 'Account' }),
    field('ContactId', 'reference', 'Contact ID', { createable: true, updateable: false, referenceTo: ['Contact'], relationshipName: 'Contact' }),
    field('TimeZoneSidKey', 'picklist', 'Time Zone', { nillable: false, picklist: ['America/Los_Angeles', 'America/New_York', 'Europe/London', 'Europe/Paris', 'Europe/Berlin', 'Asia/Tokyo', 'GMT'] }),
    field('LocaleSidKey', 'picklist', 'Locale', { nillable: false, picklist: ['en_US', 'en_GB', 'de_DE', 'fr_FR', 'ja_JP'] }),
    field('EmailEncodingKey', 'picklist', 'Email Encoding', { nillable: false, picklist: ['UTF-8', 'ISO-8859-1'] }),
    field('LanguageLocaleKey', 'picklist', 'Language', { nillable: false, picklist: ['en_US', 'de', 'fr', 'ja'] }),
    field('FederationIdentifier', 'string', 'SAML Federation ID', { length: 512 }),
    field('LastLoginDate', 'datetime', 'Last Login', ro),
    ...systemFields().filter((f) => f.name !== 'IsDeleted'),
  ];

  const partnerFields = (readOnly: boolean): FieldDef[] => {
    const w = readOnly ? ro : { createable: true, updateable: false };
    return [
      idField(readOnly ? 'Opportunity Partner ID' : 'Partner ID'),
      field('OpportunityId', 'reference', 'Opportunity ID', { ...w, referenceTo: ['Opportunity'], relationshipName: 'Opportunity', nillable: readOnly ? false : true }),
      ...(readOnly ? [] : [field('AccountFromId', 'reference', 'Account ID', { ...w, referenceTo: ['Account'], relationshipName: 'AccountFrom' })]),
      field('AccountToId', 'reference', 'Partner Account ID', { ...w, nillable: false, referenceTo: ['Account'], relationshipName: 'AccountTo' }),
      field('Role', 'picklist', 'Role', { ...w, length: 40, picklist: PARTNER_ROLES }),
      field('IsPrimary', 'boolean', 'Primary', { ...w, nillable: false, defaultedOnCreate: true }),
      field('ReversePartnerId', 'reference', 'Reverse Partner ID', { ...ro, referenceTo: [readOnly ? 'OpportunityPartner' : 'Partner'] }),
      ...systemFields(),
    ];
  };

  const stage: FieldDef[] = [
    idField('Opportunity Stage ID'),
    field('MasterLabel', 'string', 'Master Label', { ...ro, nillable: false }),
    field('ApiName', 'string', 'Api Name', { ...ro, nillable: false }),
    field('IsActive', 'boolean', 'Is Active', { ...ro, nillable: false, defaultedOnCreate: true }),
    field('SortOrder', 'int', 'Sort Order', { ...ro, digits: 9 }),
    field('IsClosed', 'boolean', 'Closed', { ...ro, nillable: false, defaultedOnCreate: true }),
    field('IsWon', 'boolean', 'Won', { ...ro, nillable: false, defaultedOnCreate: true }),
    field('ForecastCategory', 'picklist', 'Forecast Type', { ...ro, nillable: false, picklist: Object.values(FORECAST_CATEGORY) }),
    field('ForecastCategoryName', 'picklist', 'Forecast Category', { ...ro, nillable: false, picklist: FORECAST_CATEGORY_NAMES }),
    field('DefaultProbability', 'percent', 'Probability (%)', { ...ro, precision: 3, scale: 0 }),
    field('Description', 'string', 'Description', { ...ro }),
    ...systemFields().filter((f) => f.name !== 'IsDeleted'),
  ];

  const defs: SObjectDef[] = [
    sobject('Account', 'Account', 'Accounts', KEY_PREFIX.Account, account, { cdc: true, recordTypes: rt('Account') }),
    sobject('Opportunity', 'Opportunity', 'Opportunities', KEY_PREFIX.Opportunity, opportunity, { cdc: true, recordTypes: rt('Opportunity') }),
    sobject('User', 'User', 'Users', KEY_PREFIX.User, user, { deletable: false }),
    sobject('Partner', 'Partner', 'Partners', KEY_PREFIX.Partner, partnerFields(false), { updateable: false, cdc: true }),
    sobject('OpportunityPartner', 'Opportunity Partner', 'Opportunity Partner', KEY_PREFIX.OpportunityPartner, partnerFields(true), {
      createable: false,
      updateable: false,
      deletable: false,
    }),
    sobject('OpportunityStage', 'Opportunity Stage', 'Opportunity Stage', KEY_PREFIX.OpportunityStage, stage, {
      createable: false,
      updateable: false,
      deletable: false,
    }),
  ];
  return new Map(defs.map((d) => [d.name.toLowerCase(), d]));
}

function sobject(
  name: string,
  label: string,
  labelPlural: string,
  keyPrefix: string,
  fields: FieldDef[],
  opts: Partial<Pick<SObjectDef, 'createable' | 'updateable' | 'deletable' | 'cdc' | 'recordTypes'>> = {},
): SObjectDef {
  const byName = new Map(fields.map((f) => [f.name.toLowerCase(), f]));
  const byRelationship = new Map<string, FieldDef>();
  for (const f of fields) if (f.relationshipName) byRelationship.set(f.relationshipName.toLowerCase(), f);
  return {
    name,
    label,
    labelPlural,
    keyPrefix,
    createable: opts.createable ?? true,
    updateable: opts.updateable ?? true,
    deletable: opts.deletable ?? true,
    cdc: opts.cdc ?? false,
    fields,
    byName,
    byRelationship,
    recordTypes: opts.recordTypes ?? [],
  };
}

/** Salesforce's default opportunity stages of a new org. */
export const DEFAULT_STAGES: Array<{ label: string; probability: number; forecast: string; closed: boolean; won: boolean }> = [
  { label: 'Prospecting', probability: 10, forecast: 'Pipeline', closed: false, won: false },
  { label: 'Qualification', probability: 10, forecast: 'Pipeline', closed: false, won: false },
  { label: 'Needs Analysis', probability: 20, forecast: 'Pipeline', closed: false, won: false },
  { label: 'Value Proposition', probability: 50, forecast: 'Pipeline', closed: false, won: false },
  { label: 'Id. Decision Makers', probability: 60, forecast: 'Pipeline', closed: false, won: false },
  { label: 'Perception Analysis', probability: 70, forecast: 'Pipeline', closed: false, won: false },
  { label: 'Proposal/Price Quote', probability: 75, forecast: 'Pipeline', closed: false, won: false },
  { label: 'Negotiation/Review', probability: 90, forecast: 'Pipeline', closed: false, won: false },
  { label: 'Closed Won', probability: 100, forecast: 'Closed', closed: true, won: true },
  { label: 'Closed Lost', probability: 0, forecast: 'Omitted', closed: true, won: false },
];
