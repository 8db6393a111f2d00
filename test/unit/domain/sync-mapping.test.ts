// Sync mappings: the schema RevOps saves, validation against a real CRM describe, and the small readers
// (stage outcome, create stage, owner role). The describe below is HubSpot's: its default deal
// properties, the dealreg_* properties ensureSchema() provisions, and the default sales pipeline.
import type { CrmDescribe, CrmFieldInfo, CrmPipelineInfo } from '../../../src/crm/crm-adapter';
import { DEALREG_DEAL_PROPERTIES } from '../../../src/crm/hubspot/hubspot-schema';
import { HUBSPOT_REGISTRATION_ID_PROPERTY, defaultHubspotMapping } from '../../../src/crm/hubspot/hubspot-mapping-defaults';
import {
  INBOUND_FIELDS,
  createStage,
  ownerOf,
  ownerRole,
  stageOutcome,
  syncMappingSchema,
  templatePlaceholders,
  validateMappingAgainst,
  type SyncMapping,
  type SyncMappingInput,
} from '../../../src/domain/sync-mapping';
import { REGISTRATION_STATUSES } from '../../../src/domain/types';

// ---- a HubSpot portal, as describe() reports it ---------------------------------------------------

const field = (name: string, type: CrmFieldInfo['type'], extra: Partial<CrmFieldInfo> = {}): CrmFieldInfo => ({ name, label: name, type, readOnly: false, unique: false, ...extra });
const options = (...values: string[]) => values.map((value) => ({ value, label: value }));

const HUBSPOT_DEFAULT_DEAL_FIELDS: CrmFieldInfo[] = [
  field('dealname', 'string'),
  field('amount', 'number'),
  field('closedate', 'datetime'),
  field('dealstage', 'enumeration', { options: [] }),
  field('pipeline', 'enumeration', { options: [] }),
  field('dealtype', 'enumeration', { options: options('newbusiness', 'existingbusiness') }),
  field('description', 'string'),
  // On a real portal the currency is an enumeration of the portal's currencies.
  field('deal_currency_code', 'enumeration', { options: options('EUR', 'USD', 'GBP') }),
  field('hs_priority', 'enumeration', { options: options('low', 'medium', 'high') }),
  field('hubspot_owner_id', 'enumeration', { options: [] }),
  field('closed_lost_reason', 'string'),
  field('createdate', 'datetime'),
  field('hs_lastmodifieddate', 'datetime', { readOnly: true }),
  field('hs_object_id', 'number', { readOnly: true, unique: true }),
  field('hs_is_closed_won', 'boolean', { readOnly: true }),
  field('hs_deal_stage_probability', 'number', { readOnly: true }),
  field('hs_closed_won_date', 'datetime', { readOnly: true }),
];

/** What ensureSchema() provisions, as describe() then reports it. */
const DEALREG_FIELDS: CrmFieldInfo[] = DEALREG_DEAL_PROPERTIES.map((p) =>
  field(p.name, p.type, { unique: p.hasUniqueValue, ...(p.type === 'enumeration' ? { options: p.options.map((o) => ({ value: o.value, label: o.label })) } : {}) }),
);

const DEFAULT_PIPELINE: CrmPipelineInfo = {
  id: 'default',
  label: 'Sales Pipeline',
  stages: [
    { id: 'appointmentscheduled', label: 'Appointment Scheduled', isClosed: false, isWon: false, order: 0 },
    { id: 'qualifiedtobuy', label: 'Qualified To Buy', isClosed: false, isWon: false, order: 1 },
    { id: 'presentationscheduled', label: 'Presentation Scheduled', isClosed: false, isWon: false, order: 2 },
    { id: 'decisionmakerboughtin', label: 'Decision Maker Bought-In', isClosed: false, isWon: false, order: 3 },
    { id: 'contractsent', label: 'Contract Sent', isClosed: false, isWon: false, order: 4 },
    { id: 'closedwon', label: 'Closed Won', isClosed: true, isWon: true, order: 5 },
    { id: 'closedlost', label: 'Closed Lost', isClosed: true, isWon: false, order: 6 },
  ],
};

/** A custom pipeline, stages listed out of display order (as a CRM may return them). */
const PARTNER_PIPELINE: CrmPipelineInfo = {
  id: '7654321',
  label: 'Partner Pipeline',
  stages: [
    { id: '7654330', label: 'Partner Won', isClosed: true, isWon: true, order: 3 },
    { id: '7654322', label: 'Partner Qualified', isClosed: false, isWon: false, order: 1 },
    { id: '7654329', label: 'Disqualified', isClosed: true, isWon: false, order: 4 },
    { id: '7654321', label: 'Partner Intro', isClosed: false, isWon: false, order: 0 },
  ],
};

const HUBSPOT: CrmDescribe = {
  crm: 'hubspot',
  opportunityFields: [...HUBSPOT_DEFAULT_DEAL_FIELDS, ...DEALREG_FIELDS],
  pipelines: [DEFAULT_PIPELINE],
  fetchedAt: '2026-01-05T09:00:00.000Z',
};
const HUBSPOT_TWO_PIPELINES: CrmDescribe = { ...HUBSPOT, pipelines: [DEFAULT_PIPELINE, PARTNER_PIPELINE] };
const REQUIRED = [HUBSPOT_REGISTRATION_ID_PROPERTY];

// ---- helpers ---------------------------------------------------------------------------------------

const STAGES = { pipelineId: 'default' };
const parse = (input: SyncMappingInput): SyncMapping => syncMappingSchema.parse(input);
const withFields = (fields: SyncMappingInput['fields'], extra: Partial<SyncMappingInput> = {}) => parse({ stages: STAGES, fields, ...extra });
const withStages = (stages: SyncMappingInput['stages']) => parse({ stages });

/** The schema's complaints as "path: message", or [] when the input parses. */
function complaints(input: unknown): string[] {
  const r = syncMappingSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}
const fieldComplaints = (...fields: unknown[]) => complaints({ stages: STAGES, fields });

const validate = (m: SyncMapping, d: CrmDescribe = HUBSPOT, required: string[] = REQUIRED) => validateMappingAgainst(m, d, required);

// ---- the schema ------------------------------------------------------------------------------------

describe('sync mapping schema', () => {
  it('fills every default from a mapping that names only its pipeline', () => {
    expect(parse({ stages: STAGES })).toEqual({
      createWhen: 'approved',
      fields: [],
      stages: { pipelineId: 'default', byStatus: {}, wonStageIds: 'auto', lostStageIds: 'auto' },
      accounts: { associate: true, createIfMissing: false },
      owners: { assignedRole: 'direct', unassignedRole: 'unknown', directTeamIds: [], partnerTeamIds: [] },
    });
  });

  it('a field without direction or transform is written to the CRM as is', () => {
    const [f] = withFields([{ registrationField: 'partner.name', crmField: 'dealreg_partner_name' }]).fields;
    expect(f).toEqual({ registrationField: 'partner.name', crmField: 'dealreg_partner_name', direction: 'to_crm', transform: 'none' });
    expect(ownerOf(f!)).toBe('dealreg');
  });

  it('trims the CRM field name', () => {
    expect(withFields([{ registrationField: 'notes', crmField: '  description ' }]).fields[0]!.crmField).toBe('description');
  });

  it.each([
    ['to_crm without owner', { registrationField: 'notes', crmField: 'description' }, 'dealreg'],
    ['from_crm without owner', { registrationField: 'amount.value', crmField: 'amount', direction: 'from_crm' }, 'crm'],
    ['both owned by latest', { registrationField: 'amount.value', crmField: 'amount', direction: 'both', owner: 'latest' }, 'latest'],
    ['to_crm owned by the CRM', { template: '{company.name}', crmField: 'dealname', owner: 'crm' }, 'crm'],
  ] as const)('ownerOf: %s is owned by %s', (_, f, owner) => {
    expect(ownerOf(withFields([f]).fields[0]!)).toBe(owner);
  });

  it('refuses a template on a from_crm field: a template cannot be read back', () => {
    expect(fieldComplaints({ template: '{company.name}', crmField: 'dealname', direction: 'from_crm' })).toEqual([
      'fields.0.direction: a template can only be written to the CRM (direction "to_crm")',
    ]);
  });

  it('refuses a template on a two-way field too', () => {
    expect(fieldComplaints({ template: '{company.name}', crmField: 'dealname', direction: 'both', owner: 'dealreg' })).toEqual([
      'fields.0.direction: a template can only be written to the CRM (direction "to_crm")',
    ]);
  });

  it.each(['status', 'company.name', 'partner.name', 'protection.endsAt', 'notes'] as const)('refuses %s flowing back from the CRM: it is not inbound-writable', (registrationField) => {
    const got = fieldComplaints({ registrationField, crmField: 'description', direction: 'from_crm' });
    expect(got).toEqual([`fields.0.direction: ${registrationField} cannot be changed from the CRM; fields that can: amount.value, amount.currency, expectedCloseDate`]);
  });

  it.each(INBOUND_FIELDS)('accepts %s flowing back from the CRM', (registrationField) => {
    expect(fieldComplaints({ registrationField, crmField: 'somefield', direction: 'from_crm' })).toEqual([]);
  });

  it('refuses a two-way field that is not inbound-writable', () => {
    expect(fieldComplaints({ registrationField: 'status', crmField: 'dealreg_status', direction: 'both', owner: 'dealreg' })).toEqual([
      'fields.0.direction: status cannot be changed from the CRM; fields that can: amount.value, amount.currency, expectedCloseDate',
    ]);
  });

  it('refuses "both" without an owner: someone must win when both sides change', () => {
    expect(fieldComplaints({ registrationField: 'amount.value', crmField: 'amount', direction: 'both' })).toEqual([
      'fields.0.owner: a two-way field needs an owner: "dealreg", "crm" or "latest"',
    ]);
  });

  it.each(['dealreg', 'latest'] as const)('refuses a from_crm field owned by %s', (owner) => {
    expect(fieldComplaints({ registrationField: 'amount.value', crmField: 'amount', direction: 'from_crm', owner })).toEqual([
      'fields.0.owner: a field that only flows from the CRM is owned by the CRM',
    ]);
  });

  it('accepts a from_crm field explicitly owned by the CRM', () => {
    expect(fieldComplaints({ registrationField: 'amount.value', crmField: 'amount', direction: 'from_crm', owner: 'crm' })).toEqual([]);
  });

  it('needs exactly one of registrationField or template', () => {
    expect(fieldComplaints({ crmField: 'dealname' })).toEqual(['fields.0.registrationField: give exactly one of registrationField or template']);
    expect(fieldComplaints({ registrationField: 'company.name', template: '{company.name}', crmField: 'dealname' })).toEqual([
      'fields.0.registrationField: give exactly one of registrationField or template',
    ]);
  });

  it('refuses a template placeholder that is not a registration field, naming it', () => {
    const got = fieldComplaints({ template: '{company.name} for {partner.title}', crmField: 'dealname' });
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^fields\.0\.template: unknown placeholder \{partner\.title\}; known: registration\.id, /);
  });

  it('refuses two fields writing the same CRM field, pointing at the first writer', () => {
    expect(
      fieldComplaints(
        { template: '{company.name} ({partner.name})', crmField: 'dealname' },
        { registrationField: 'notes', crmField: 'description' },
        { registrationField: 'company.name', crmField: 'dealname' },
      ),
    ).toEqual(['fields.2.crmField: dealname is already written by fields[0]']);
  });

  it('counts a two-way field as a writer', () => {
    expect(
      fieldComplaints({ registrationField: 'amount.value', crmField: 'amount', direction: 'both', owner: 'latest' }, { template: '{amount.value}', crmField: 'amount', transform: 'number' }),
    ).toEqual(['fields.1.crmField: amount is already written by fields[0]']);
  });

  it('lets one CRM field be read by a from_crm field while a to_crm field writes another', () => {
    expect(
      fieldComplaints({ registrationField: 'amount.value', crmField: 'amount', direction: 'from_crm' }, { registrationField: 'amount.value', crmField: 'dealreg_amount', transform: 'number' }),
    ).toEqual([]);
  });

  it('refuses two CRM fields flowing back into the same registration field', () => {
    expect(
      fieldComplaints(
        { registrationField: 'expectedCloseDate', crmField: 'closedate', direction: 'both', owner: 'crm' },
        { registrationField: 'expectedCloseDate', crmField: 'dealreg_close', direction: 'from_crm' },
      ),
    ).toEqual(['fields.1.registrationField: expectedCloseDate already flows back from fields[0]']);
  });

  it('refuses a misspelt key instead of ignoring it', () => {
    expect(fieldComplaints({ registrationFeild: 'notes', registrationField: 'notes', crmField: 'description' })).toEqual(['fields.0: Unrecognized key: "registrationFeild"']);
  });

  it('refuses a byStatus key that is not a registration status', () => {
    expect(complaints({ stages: { pipelineId: 'default', byStatus: { closed: 'closedwon' } } })).toEqual(['stages.byStatus: Unrecognized key: "closed"']);
  });

  it('refuses an unknown transform and an unknown direction', () => {
    expect(fieldComplaints({ registrationField: 'notes', crmField: 'description', transform: 'trim' })).toEqual([expect.stringMatching(/^fields\.0\.transform: /)]);
    expect(fieldComplaints({ registrationField: 'notes', crmField: 'description', direction: 'two_way' })).toEqual([expect.stringMatching(/^fields\.0\.direction: /)]);
  });

  it('needs a pipeline', () => {
    expect(complaints({ fields: [] })).toEqual([expect.stringMatching(/^stages: /)]);
  });

  it('templatePlaceholders lists each {field} of a template in order', () => {
    expect(templatePlaceholders('{company.name} ({partner.name}) – {company.name}')).toEqual(['company.name', 'partner.name', 'company.name']);
    expect(templatePlaceholders('no placeholders')).toEqual([]);
  });
});

// ---- the HubSpot defaults --------------------------------------------------------------------------

describe('the HubSpot default mapping', () => {
  const mapping = parse(defaultHubspotMapping());

  it('parses with the schema', () => {
    expect(syncMappingSchema.safeParse(defaultHubspotMapping()).success).toBe(true);
  });

  it('validates cleanly against a portal with the default deal properties, the dealreg properties and the default pipeline', () => {
    expect(validate(mapping)).toEqual([]);
  });

  it('validates cleanly on a portal where the currency is a plain text property', () => {
    const fields = HUBSPOT.opportunityFields.map((f) => (f.name === 'deal_currency_code' ? field('deal_currency_code', 'string') : f));
    expect(validate(mapping, { ...HUBSPOT, opportunityFields: fields })).toEqual([]);
  });

  it('needs the dealreg properties: on a portal without them, each one it writes is reported', () => {
    const issues = validate(mapping, { ...HUBSPOT, opportunityFields: HUBSPOT_DEFAULT_DEAL_FIELDS });
    expect(issues.map((i) => i.message)).toEqual([
      'the CRM has no field dealreg_registration_id, which dealreg needs (provision it, see README)',
      ...['dealreg_status', 'dealreg_partner_name', 'dealreg_partner_type', 'dealreg_partner_tier', 'dealreg_protection_end', 'dealreg_verdict_summary', 'dealreg_registration_url'].map(
        (n) => `the CRM has no opportunity field "${n}"`,
      ),
    ]);
  });

  it('starts new deals in the first open stage and moves them to closedwon / closedlost when the registration is won / lost', () => {
    expect(createStage(mapping, HUBSPOT)).toBe('appointmentscheduled');
    expect(mapping.stages.byStatus).toEqual({ won: 'closedwon', lost: 'closedlost' });
  });

  it('only lets amount, currency and close date come back from HubSpot, with an owner for each two-way field', () => {
    const inbound = mapping.fields.filter((f) => f.direction !== 'to_crm');
    expect(inbound.map((f) => [f.crmField, f.direction, ownerOf(f)])).toEqual([
      ['amount', 'both', 'latest'],
      ['closedate', 'both', 'crm'],
    ]);
  });
});

// ---- validation against the CRM --------------------------------------------------------------------

describe('validateMappingAgainst', () => {
  it('reports a dealreg field the CRM lacks', () => {
    const describe = { ...HUBSPOT, opportunityFields: HUBSPOT.opportunityFields.filter((f) => f.name !== 'dealreg_registration_id') };
    expect(validate(withStages(STAGES), describe)).toEqual([
      { path: ['fields'], message: 'the CRM has no field dealreg_registration_id, which dealreg needs (provision it, see README)' },
    ]);
  });

  it('needs no field when the caller requires none', () => {
    expect(validateMappingAgainst(withStages(STAGES), { ...HUBSPOT, opportunityFields: [] })).toEqual([]);
  });

  it('reports an unknown CRM field at its path, with no suggestion when nothing is close', () => {
    expect(validate(withFields([{ registrationField: 'notes', crmField: 'partner_notes_xyz' }]))).toEqual([
      { path: ['fields', 0, 'crmField'], message: 'the CRM has no opportunity field "partner_notes_xyz"' },
    ]);
  });

  it.each([
    ['Amount', 'amount.value', 'number', '"amount"'],
    ['close_date', 'expectedCloseDate', 'datetime', '"closedate"'],
    ['dealreg_stauts', 'status', 'none', '"dealreg_status"'],
    ['dealreg_partner', 'partner.name', 'none', '"dealreg_partner_name", "dealreg_partner_type", "dealreg_partner_tier"'],
  ] as const)('suggests the field meant when "%s" does not exist', (crmField, registrationField, transform, suggestion) => {
    const [issue, ...rest] = validate(withFields([{ registrationField, crmField, transform }]));
    expect(rest).toEqual([]);
    expect(issue).toEqual({ path: ['fields', 0, 'crmField'], message: `the CRM has no opportunity field "${crmField}" (did you mean ${suggestion}?)` });
  });

  it('refuses writing into a read-only CRM field', () => {
    expect(validate(withFields([{ registrationField: 'amount.value', crmField: 'hs_deal_stage_probability', transform: 'number' }]))).toEqual([
      { path: ['fields', 0, 'crmField'], message: '"hs_deal_stage_probability" is read-only in the CRM: it can only flow from the CRM' },
    ]);
  });

  it('refuses a two-way field on a read-only CRM field (the write half cannot work)', () => {
    const issues = validate(withFields([{ registrationField: 'expectedCloseDate', crmField: 'hs_closed_won_date', direction: 'both', owner: 'crm', transform: 'datetime' }]));
    expect(issues).toEqual([{ path: ['fields', 0, 'crmField'], message: '"hs_closed_won_date" is read-only in the CRM: it can only flow from the CRM' }]);
  });

  it('lets a read-only CRM field flow from the CRM', () => {
    expect(validate(withFields([{ registrationField: 'expectedCloseDate', crmField: 'hs_closed_won_date', direction: 'from_crm', transform: 'datetime' }]))).toEqual([]);
  });

  it.each([
    ['a close date into the amount', { registrationField: 'expectedCloseDate', crmField: 'amount' }, '"amount" is a number field; expectedCloseDate with transform "none" does not fit it'],
    ['an amount into the close date', { registrationField: 'amount.value', crmField: 'closedate' }, '"closedate" is a datetime field; amount.value with transform "none" does not fit it'],
    ['a company name into the amount', { registrationField: 'company.name', crmField: 'amount' }, '"amount" is a number field; company.name with transform "none" does not fit it'],
    ['a template into a number field', { template: '{company.name} ({partner.name})', crmField: 'amount' }, '"amount" is a number field; the template with transform "none" does not fit it'],
    ['an upper-cased currency into a number field', { registrationField: 'amount.currency', crmField: 'amount', transform: 'upper' }, '"amount" is a number field; amount.currency with transform "upper" does not fit it'],
    ['text into a boolean', { registrationField: 'partner.type', crmField: 'closed_won_flag' }, '"closed_won_flag" is a boolean field; partner.type with transform "none" does not fit it'],
  ] as const)('reports a type mismatch: %s', (_, f, message) => {
    const describe = { ...HUBSPOT, opportunityFields: [...HUBSPOT.opportunityFields, field('closed_won_flag', 'boolean')] };
    expect(validate(withFields([f]), describe)).toEqual([{ path: ['fields', 0, 'transform'], message }]);
  });

  it.each([
    ['a number into a number field', { registrationField: 'amount.value', crmField: 'amount' }],
    ['a number into a text field', { registrationField: 'amount.value', crmField: 'description', transform: 'number' }],
    ['a date into a datetime field', { registrationField: 'expectedCloseDate', crmField: 'closedate' }],
    ['a date into a date field', { registrationField: 'protection.endsAt', crmField: 'dealreg_protection_end' }],
    ['a datetime into a text field', { registrationField: 'protection.endsAt', crmField: 'description', transform: 'datetime' }],
    ['text into an enumeration', { registrationField: 'partner.type', crmField: 'dealtype', valueMap: { reseller: 'newbusiness' } }],
  ] as const)('accepts %s', (_, f) => {
    expect(validate(withFields([f]))).toEqual([]);
  });

  describe('status into an enumeration', () => {
    it('lists every status the enumeration has no option for', () => {
      expect(validate(withFields([{ registrationField: 'status', crmField: 'hs_priority' }]))).toEqual([
        { path: ['fields', 0, 'valueMap'], message: `"hs_priority" has no option for: ${REGISTRATION_STATUSES.join(', ')} (add options or a valueMap)` },
      ]);
    });

    it('counts a valueMap: only the statuses still without an option are listed', () => {
      const issues = validate(withFields([{ registrationField: 'status', crmField: 'hs_priority', valueMap: { pending_review: 'low', approved: 'medium', won: 'high' } }]));
      expect(issues).toEqual([{ path: ['fields', 0, 'valueMap'], message: '"hs_priority" has no option for: rejected, lost, expired, withdrawn (add options or a valueMap)' }]);
    });

    it('is satisfied when every status maps to an option', () => {
      const valueMap = Object.fromEntries(REGISTRATION_STATUSES.map((s) => [s, s === 'won' ? 'high' : s === 'approved' ? 'medium' : 'low']));
      expect(validate(withFields([{ registrationField: 'status', crmField: 'hs_priority', valueMap }]))).toEqual([]);
    });

    it('checks the value as written: upper-cased statuses fit upper-case options', () => {
      const upper = field('partner_status', 'enumeration', { options: options(...REGISTRATION_STATUSES.map((s) => s.toUpperCase())) });
      const describe = { ...HUBSPOT, opportunityFields: [...HUBSPOT.opportunityFields, upper] };
      expect(validate(withFields([{ registrationField: 'status', crmField: 'partner_status', transform: 'upper' }]), describe)).toEqual([]);
    });

    it('checks the value as written: upper-cased statuses do not fit the lower-case dealreg_status options', () => {
      const issues = validate(withFields([{ registrationField: 'status', crmField: 'dealreg_status', transform: 'upper' }]));
      expect(issues).toEqual([
        { path: ['fields', 0, 'valueMap'], message: '"dealreg_status" has no option for: PENDING_REVIEW, APPROVED, REJECTED, WON, LOST, EXPIRED, WITHDRAWN (add options or a valueMap)' },
      ]);
    });

    it('does not check options of a text field', () => {
      expect(validate(withFields([{ registrationField: 'status', crmField: 'description' }]))).toEqual([]);
    });
  });

  describe('stages', () => {
    it('reports an unknown pipeline, listing the pipelines there are, and checks no stage of it', () => {
      const issues = validate(withStages({ pipelineId: 'partners', onCreate: 'nope', byStatus: { won: 'nope' } }), HUBSPOT_TWO_PIPELINES);
      expect(issues).toEqual([{ path: ['stages', 'pipelineId'], message: 'no pipeline "partners"; pipelines: default (Sales Pipeline), 7654321 (Partner Pipeline)' }]);
    });

    it('says "none" when the CRM has no pipeline at all', () => {
      expect(validate(withStages(STAGES), { ...HUBSPOT, pipelines: [] })).toEqual([{ path: ['stages', 'pipelineId'], message: 'no pipeline "default"; pipelines: none' }]);
    });

    it('reports an onCreate stage the pipeline lacks, listing its stages', () => {
      expect(validate(withStages({ pipelineId: 'default', onCreate: 'qualified' }))).toEqual([
        {
          path: ['stages', 'onCreate'],
          message: 'pipeline "Sales Pipeline" has no stage "qualified"; stages: appointmentscheduled, qualifiedtobuy, presentationscheduled, decisionmakerboughtin, contractsent, closedwon, closedlost',
        },
      ]);
    });

    it('refuses onCreate on a closed stage: a new deal must start open', () => {
      expect(validate(withStages({ pipelineId: 'default', onCreate: 'closedwon' }))).toEqual([
        { path: ['stages', 'onCreate'], message: '"Closed Won" is a closed stage: a new opportunity must start open' },
      ]);
    });

    it('accepts onCreate on an open stage', () => {
      expect(validate(withStages({ pipelineId: 'default', onCreate: 'qualifiedtobuy' }))).toEqual([]);
    });

    it('refuses a stage of another pipeline', () => {
      const issues = validate(withStages({ pipelineId: 'default', byStatus: { approved: '7654322' } }), HUBSPOT_TWO_PIPELINES);
      expect(issues).toEqual([{ path: ['stages', 'byStatus', 'approved'], message: expect.stringMatching(/^pipeline "Sales Pipeline" has no stage "7654322"; stages: /) }]);
    });

    it('refuses byStatus won pointing at an open stage', () => {
      expect(validate(withStages({ pipelineId: 'default', byStatus: { won: 'contractsent' } }))).toEqual([
        { path: ['stages', 'byStatus', 'won'], message: '"Contract Sent" is not a closed-won stage' },
      ]);
    });

    it('refuses byStatus won pointing at closed lost, and lost at closed won', () => {
      expect(validate(withStages({ pipelineId: 'default', byStatus: { won: 'closedlost', lost: 'closedwon' } }))).toEqual([
        { path: ['stages', 'byStatus', 'won'], message: '"Closed Lost" is not a closed-won stage' },
        { path: ['stages', 'byStatus', 'lost'], message: '"Closed Won" is not a closed-lost stage' },
      ]);
    });

    it('refuses moving an approved registration into a closed-won stage: the sync would then close the registration as won', () => {
      const issues = validate(withStages({ pipelineId: 'default', byStatus: { approved: 'closedwon' } }));
      expect(issues).toEqual([{ path: ['stages', 'byStatus', 'approved'], message: expect.stringContaining('"Closed Won" means won') }]);
    });

    it('refuses moving a registration pending review into a closed-lost stage', () => {
      const issues = validate(withStages({ pipelineId: 'default', byStatus: { pending_review: 'closedlost' } }));
      expect(issues).toEqual([{ path: ['stages', 'byStatus', 'pending_review'], message: expect.stringContaining('"Closed Lost" means lost') }]);
    });

    it('accepts open stages for active statuses and closed stages for ended ones', () => {
      const m = withStages({
        pipelineId: 'default',
        byStatus: { pending_review: 'appointmentscheduled', approved: 'qualifiedtobuy', won: 'closedwon', lost: 'closedlost', rejected: 'closedlost', expired: 'closedlost', withdrawn: 'closedlost' },
      });
      expect(validate(m)).toEqual([]);
    });

    it('refuses explicit won / lost stages that do not exist or are open', () => {
      const issues = validate(withStages({ pipelineId: 'default', wonStageIds: ['closedwon', 'contractsent'], lostStageIds: ['closedlost', 'gone'] }));
      expect(issues).toEqual([
        { path: ['stages', 'wonStageIds', 1], message: '"Contract Sent" is an open stage; only closed stages can mean won' },
        { path: ['stages', 'lostStageIds', 1], message: expect.stringMatching(/^pipeline "Sales Pipeline" has no stage "gone"; stages: /) },
      ]);
    });
  });
});

// ---- stage outcome, create stage, owner role -------------------------------------------------------

describe('stageOutcome', () => {
  const auto = withStages(STAGES);

  it.each([
    ['closedwon', 'won'],
    ['closedlost', 'lost'],
    ['contractsent', 'open'],
    ['appointmentscheduled', 'open'],
  ] as const)('with "auto", %s is %s', (stageId, outcome) => {
    expect(stageOutcome(auto, HUBSPOT, stageId, 'default')).toBe(outcome);
  });

  it('is unknown without a stage, or for a stage the CRM does not describe', () => {
    expect(stageOutcome(auto, HUBSPOT, null, 'default')).toBe('unknown');
    expect(stageOutcome(auto, HUBSPOT, 'archivedstage', 'default')).toBe('unknown');
  });

  it('looks only in the deal\'s pipeline when it is known', () => {
    expect(stageOutcome(auto, HUBSPOT_TWO_PIPELINES, '7654330', '7654321')).toBe('won');
    expect(stageOutcome(auto, HUBSPOT_TWO_PIPELINES, '7654330', 'default')).toBe('unknown');
  });

  it('looks in every pipeline when the deal\'s pipeline is not known', () => {
    expect(stageOutcome(auto, HUBSPOT_TWO_PIPELINES, '7654329', null)).toBe('lost');
  });

  it('explicit lists decide: a listed stage means won / lost, even an open-looking id the describe lacks', () => {
    const m = withStages({ pipelineId: 'default', wonStageIds: ['7654330'], lostStageIds: ['closedlost', '7654329'] });
    expect(stageOutcome(m, HUBSPOT_TWO_PIPELINES, '7654330', '7654321')).toBe('won');
    expect(stageOutcome(m, HUBSPOT_TWO_PIPELINES, '7654329', '7654321')).toBe('lost');
    expect(stageOutcome(m, { pipelines: [] }, 'closedlost', 'default')).toBe('lost');
  });

  it('with an explicit won list, the CRM\'s own closed-won stage that is not listed is not a win', () => {
    const m = withStages({ pipelineId: 'default', wonStageIds: ['7654330'] });
    expect(stageOutcome(m, HUBSPOT_TWO_PIPELINES, 'closedwon', 'default')).toBe('open');
    // lost is still "auto"
    expect(stageOutcome(m, HUBSPOT_TWO_PIPELINES, 'closedlost', 'default')).toBe('lost');
  });

  it('with an explicit lost list, the CRM\'s own closed-lost stage that is not listed is not a loss', () => {
    const m = withStages({ pipelineId: 'default', lostStageIds: ['7654329'] });
    expect(stageOutcome(m, HUBSPOT_TWO_PIPELINES, 'closedlost', 'default')).toBe('open');
    expect(stageOutcome(m, HUBSPOT_TWO_PIPELINES, 'closedwon', 'default')).toBe('won');
  });
});

describe('createStage', () => {
  it('is the mapping\'s onCreate stage when it names one', () => {
    expect(createStage(withStages({ pipelineId: 'default', onCreate: 'qualifiedtobuy' }), HUBSPOT)).toBe('qualifiedtobuy');
    expect(createStage(withStages({ pipelineId: 'default', onCreate: 'qualifiedtobuy' }), null)).toBe('qualifiedtobuy');
  });

  it('is otherwise the pipeline\'s first open stage by display order, not by list position', () => {
    expect(createStage(withStages({ pipelineId: '7654321' }), HUBSPOT_TWO_PIPELINES)).toBe('7654321');
  });

  it('skips closed stages that come first in display order', () => {
    const pipeline: CrmPipelineInfo = {
      id: 'p',
      label: 'P',
      stages: [
        { id: 'lost', label: 'Lost', isClosed: true, isWon: false, order: 0 },
        { id: 'later', label: 'Later', isClosed: false, isWon: false, order: 2 },
        { id: 'first-open', label: 'First open', isClosed: false, isWon: false, order: 1 },
      ],
    };
    expect(createStage(withStages({ pipelineId: 'p' }), { pipelines: [pipeline] })).toBe('first-open');
    // and does not reorder the describe it was given
    expect(pipeline.stages.map((s) => s.id)).toEqual(['lost', 'later', 'first-open']);
  });

  it('is null without a describe, for an unknown pipeline, or when every stage is closed', () => {
    expect(createStage(withStages(STAGES), null)).toBeNull();
    expect(createStage(withStages({ pipelineId: 'partners' }), HUBSPOT)).toBeNull();
    const closedOnly: CrmPipelineInfo = { id: 'default', label: 'S', stages: DEFAULT_PIPELINE.stages.filter((s) => s.isClosed) };
    expect(createStage(withStages(STAGES), { pipelines: [closedOnly] })).toBeNull();
  });
});

describe('ownerRole', () => {
  const owners = (o: Partial<SyncMapping['owners']>) => parse({ stages: STAGES, owners: o });
  const teams = owners({ directTeamIds: ['team-enterprise', 'team-midmarket'], partnerTeamIds: ['team-channel'] });

  it('an account without an owner has the unassigned role', () => {
    expect(ownerRole(parse({ stages: STAGES }), null)).toBe('unknown');
    expect(ownerRole(owners({ unassignedRole: 'partner' }), null)).toBe('partner');
    expect(ownerRole(owners({ unassignedRole: 'direct' }), { id: null, teamIds: ['team-enterprise'] })).toBe('direct');
  });

  it('with no teams listed, any owner has the assigned role (direct by default)', () => {
    expect(ownerRole(parse({ stages: STAGES }), { id: '7001', teamIds: [] })).toBe('direct');
    expect(ownerRole(owners({ assignedRole: 'unknown' }), { id: '7001', teamIds: ['team-x'] })).toBe('unknown');
  });

  it('an owner on a partner team is partner', () => {
    expect(ownerRole(teams, { id: '7002', teamIds: ['team-channel'] })).toBe('partner');
  });

  it('an owner on both a partner and a direct team counts as partner (the account is not direct-owned)', () => {
    expect(ownerRole(teams, { id: '7003', teamIds: ['team-enterprise', 'team-channel'] })).toBe('partner');
  });

  it('an owner on a direct team is direct', () => {
    expect(ownerRole(teams, { id: '7004', teamIds: ['team-x', 'team-midmarket'] })).toBe('direct');
  });

  it('when direct teams are listed, an owner on none of the teams is unknown, whatever assignedRole says', () => {
    expect(ownerRole(teams, { id: '7005', teamIds: ['team-support'] })).toBe('unknown');
    expect(ownerRole(owners({ assignedRole: 'direct', directTeamIds: ['team-enterprise'] }), { id: '7005', teamIds: [] })).toBe('unknown');
  });

  it('with only partner teams listed, an owner on none of them has the assigned role', () => {
    expect(ownerRole(owners({ partnerTeamIds: ['team-channel'] }), { id: '7006', teamIds: ['team-support'] })).toBe('direct');
  });
});
