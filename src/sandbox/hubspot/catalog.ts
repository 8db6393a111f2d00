// What a fresh HubSpot portal holds before anyone touches it: the standard deal and company
// properties dealreg reads and writes, their groups, and the default "Sales Pipeline".
import type { GroupDef, OptionDef, PipelineDef, PropertyDef, PropertyType } from './model';
import type { ObjectType } from './object-types';

interface Spec {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  group?: string;
  options?: Array<[value: string, label: string]>;
  readOnlyValue?: boolean;
  calculated?: boolean;
  externalOptions?: boolean;
  description?: string;
}

function options(pairs: Array<[string, string]> = []): OptionDef[] {
  return pairs.map(([value, label], i) => ({ label, value, displayOrder: i, hidden: false }));
}

function build(specs: Spec[], defaultGroup: string, at: number): PropertyDef[] {
  return specs.map((s, i) => ({
    name: s.name,
    label: s.label,
    type: s.type,
    fieldType: s.fieldType,
    description: s.description ?? '',
    groupName: s.group ?? defaultGroup,
    options: options(s.options),
    displayOrder: i,
    hasUniqueValue: false,
    hidden: false,
    hubspotDefined: true,
    calculated: s.calculated ?? false,
    externalOptions: s.externalOptions ?? false,
    formField: false,
    readOnlyValue: s.readOnlyValue ?? false,
    readOnlyDefinition: true,
    archivable: false,
    createdAt: at,
    updatedAt: at,
    archived: false,
  }));
}

const SYSTEM: Spec[] = [
  { name: 'hs_object_id', label: 'Record ID', type: 'number', fieldType: 'number', readOnlyValue: true },
  { name: 'createdate', label: 'Create Date', type: 'datetime', fieldType: 'date' },
  { name: 'hs_lastmodifieddate', label: 'Last Modified Date', type: 'datetime', fieldType: 'date', readOnlyValue: true },
  { name: 'hs_merged_object_ids', label: 'Merged Record IDs', type: 'enumeration', fieldType: 'checkbox', readOnlyValue: true },
  { name: 'hubspot_owner_id', label: 'Owner', type: 'enumeration', fieldType: 'select', externalOptions: true },
  { name: 'hs_all_owner_ids', label: 'All owner IDs', type: 'enumeration', fieldType: 'checkbox', readOnlyValue: true, calculated: true },
];

const DEAL: Spec[] = [
  { name: 'dealname', label: 'Deal Name', type: 'string', fieldType: 'text' },
  { name: 'amount', label: 'Amount', type: 'number', fieldType: 'number' },
  { name: 'closedate', label: 'Close Date', type: 'datetime', fieldType: 'date' },
  { name: 'dealstage', label: 'Deal Stage', type: 'enumeration', fieldType: 'radio' },
  { name: 'pipeline', label: 'Pipeline', type: 'enumeration', fieldType: 'select' },
  { name: 'dealtype', label: 'Deal Type', type: 'enumeration', fieldType: 'radio', options: [['newbusiness', 'New Business'], ['existingbusiness', 'Existing Business']] },
  { name: 'description', label: 'Deal Description', type: 'string', fieldType: 'textarea' },
  { name: 'deal_currency_code', label: 'Currency', type: 'string', fieldType: 'text' },
  { name: 'hs_priority', label: 'Priority', type: 'enumeration', fieldType: 'select', options: [['low', 'Low'], ['medium', 'Medium'], ['high', 'High']] },
  { name: 'closed_lost_reason', label: 'Closed Lost Reason', type: 'string', fieldType: 'textarea' },
  { name: 'closed_won_reason', label: 'Closed Won Reason', type: 'string', fieldType: 'textarea' },
  { name: 'hs_is_closed', label: 'Is Deal Closed?', type: 'bool', fieldType: 'booleancheckbox', readOnlyValue: true, calculated: true, options: [['true', 'True'], ['false', 'False']] },
  { name: 'hs_is_closed_won', label: 'Is Closed Won', type: 'bool', fieldType: 'booleancheckbox', readOnlyValue: true, calculated: true, options: [['true', 'True'], ['false', 'False']] },
  { name: 'hs_deal_stage_probability', label: 'Deal probability', type: 'number', fieldType: 'number', readOnlyValue: true, calculated: true },
  { name: 'hs_closed_won_date', label: 'Closed Won Date', type: 'datetime', fieldType: 'date', readOnlyValue: true, calculated: true },
];

const COMPANY: Spec[] = [
  { name: 'name', label: 'Company name', type: 'string', fieldType: 'text' },
  { name: 'domain', label: 'Company Domain Name', type: 'string', fieldType: 'text' },
  { name: 'hs_additional_domains', label: 'Additional Domains', type: 'string', fieldType: 'text', description: 'Semicolon-separated list of additional domains' },
  { name: 'website', label: 'Website URL', type: 'string', fieldType: 'text' },
  { name: 'lifecyclestage', label: 'Lifecycle Stage', type: 'enumeration', fieldType: 'radio', options: [
    ['subscriber', 'Subscriber'], ['lead', 'Lead'], ['marketingqualifiedlead', 'Marketing Qualified Lead'],
    ['salesqualifiedlead', 'Sales Qualified Lead'], ['opportunity', 'Opportunity'], ['customer', 'Customer'],
    ['evangelist', 'Evangelist'], ['other', 'Other'],
  ] },
  { name: 'type', label: 'Type', type: 'enumeration', fieldType: 'select', options: [
    ['PROSPECT', 'Prospect'], ['PARTNER', 'Partner'], ['RESELLER', 'Reseller'], ['VENDOR', 'Vendor'], ['OTHER', 'Other'],
  ] },
  { name: 'country', label: 'Country/Region', type: 'string', fieldType: 'text' },
  { name: 'state', label: 'State/Region', type: 'string', fieldType: 'text' },
  { name: 'city', label: 'City', type: 'string', fieldType: 'text' },
  { name: 'industry', label: 'Industry', type: 'string', fieldType: 'text' },
  { name: 'phone', label: 'Phone Number', type: 'string', fieldType: 'phonenumber' },
  { name: 'numberofemployees', label: 'Number of Employees', type: 'number', fieldType: 'number' },
  { name: 'annualrevenue', label: 'Annual Revenue', type: 'number', fieldType: 'number' },
  { name: 'description', label: 'Description', type: 'string', fieldType: 'textarea' },
];

export function defaultProperties(type: ObjectType, at: number): PropertyDef[] {
  const group = type === 'deals' ? 'dealinformation' : 'companyinformation';
  return build([...(type === 'deals' ? DEAL : COMPANY), ...SYSTEM], group, at);
}

export function defaultGroups(type: ObjectType): GroupDef[] {
  const info = type === 'deals'
    ? { name: 'dealinformation', label: 'Deal information', displayOrder: 0, archived: false }
    : { name: 'companyinformation', label: 'Company information', displayOrder: 0, archived: false };
  return [info, { name: 'analyticsinformation', label: 'Analytics information', displayOrder: 1, archived: false }];
}

const DEFAULT_STAGES: Array<[id: string, label: string, probability: string, closed: boolean]> = [
  ['appointmentscheduled', 'Appointment Scheduled', '0.2', false],
  ['qualifiedtobuy', 'Qualified To Buy', '0.4', false],
  ['presentationscheduled', 'Presentation Scheduled', '0.6', false],
  ['decisionmakerboughtin', 'Decision Maker Bought-In', '0.8', false],
  ['contractsent', 'Contract Sent', '0.9', false],
  ['closedwon', 'Closed Won', '1.0', true],
  ['closedlost', 'Closed Lost', '0.0', true],
];

export function defaultPipeline(at: number): PipelineDef {
  return {
    id: 'default',
    label: 'Sales Pipeline',
    displayOrder: 0,
    createdAt: at,
    updatedAt: at,
    archived: false,
    stages: DEFAULT_STAGES.map(([id, label, probability, isClosed], i) => ({
      id, label, probability, isClosed, displayOrder: i, createdAt: at, updatedAt: at, archived: false,
    })),
  };
}
