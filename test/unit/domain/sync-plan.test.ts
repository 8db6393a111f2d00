// Sync planning, both ways: what dealreg writes to a CRM record, and what a CRM record's current
// values mean for the registration. The examples use the HubSpot default mapping (dealname is
// CRM-owned, amount is latest-wins, closedate is CRM-owned two-way, dealreg_* are dealreg-owned)
// and what HubSpot really returns when a deal is read back (every value a string).
import { defaultHubspotMapping } from '../../../src/crm/hubspot/hubspot-mapping-defaults';
import { syncMappingSchema, type SyncMapping, type SyncMappingInput } from '../../../src/domain/sync-mapping';
import {
  KNOWN_OWNER,
  KNOWN_PIPELINE,
  KNOWN_STAGE,
  KNOWN_STATUS,
  canonicalise,
  desiredValue,
  planInbound,
  planOutbound,
  renderTemplate,
  sameValue,
  verdictSummary,
  type KnownValues,
  type RegistrationFacts,
} from '../../../src/domain/sync-plan';

const REG_ID = '0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b';
const URL = `https://dealreg.example.com/v1/registrations/${REG_ID}`;
const DEAL_ID = '30000000001';
const FIRST_OPEN = 'appointmentscheduled';

function facts(over: Partial<RegistrationFacts> = {}): RegistrationFacts {
  return {
    id: REG_ID,
    url: URL,
    status: 'approved',
    source: 'api',
    company: { name: 'Acme Robotics', domain: 'acme-robotics.com', country: 'DE' },
    contact: { name: 'Ada Byron', email: 'ada@acme-robotics.com' },
    amount: { value: 48000, currency: 'EUR' },
    expectedCloseDate: '2026-03-31',
    notes: null,
    partner: { name: 'Northwind Partners', type: 'reseller', tier: 'gold' },
    protection: { startsAt: '2026-01-05T09:30:00.000Z', endsAt: '2026-04-05T09:30:00.000Z' },
    verdict: { outcome: 'approve', codes: [] },
    ...over,
  };
}

const HUBSPOT: SyncMapping = syncMappingSchema.parse(defaultHubspotMapping());
const mapping = (fields: SyncMappingInput['fields'], stages: Partial<SyncMappingInput['stages']> = {}) =>
  syncMappingSchema.parse({ fields, stages: { pipelineId: 'default', byStatus: { won: 'closedwon', lost: 'closedlost' }, ...stages } });
const fieldOf = (m: SyncMapping, crmField: string) => m.fields.find((f) => f.crmField === crmField)!;

/** The first push of a registration: a create. */
const create = (f: RegistrationFacts = facts(), m: SyncMapping = HUBSPOT, createStageId: string | null = FIRST_OPEN) => planOutbound({ facts: f, mapping: m, link: null, createStageId });
/** A later push, against what the link knows the CRM holds. */
const push = (f: RegistrationFacts, known: KnownValues, m: SyncMapping = HUBSPOT) => planOutbound({ facts: f, mapping: m, link: { externalId: DEAL_ID, known }, createStageId: FIRST_OPEN });
/** What the link knows after the first push of the default registration succeeded. */
const KNOWN_AFTER_CREATE = create().knownAfter;

/** The deal as HubSpot returns it right after our create: strings, HubSpot's own datetime format. */
const READ_BACK: Record<string, string | null> = {
  dealname: 'Acme Robotics (Northwind Partners)',
  amount: '48000',
  deal_currency_code: 'EUR',
  closedate: '2026-03-31T00:00:00Z',
  dealreg_status: 'approved',
  dealreg_partner_name: 'Northwind Partners',
  dealreg_partner_type: 'reseller',
  dealreg_partner_tier: 'gold',
  dealreg_protection_end: '2026-04-05',
  dealreg_verdict_summary: 'approved: no conflicts',
  dealreg_registration_url: URL,
};
const CRM_CHANGED_AT = '2026-01-06T10:00:00.000Z';

interface InboundArgs {
  facts?: RegistrationFacts;
  mapping?: SyncMapping;
  known?: KnownValues;
  fields?: Record<string, string | null>;
  stageId?: string | null;
  pipelineId?: string | null;
  ownerId?: string | null;
  changedAt?: string;
  stageOutcome?: 'won' | 'lost' | 'open' | 'unknown';
  localPendingSince?: string | null;
}
function inbound(a: InboundArgs = {}) {
  return planInbound({
    facts: a.facts ?? facts(),
    mapping: a.mapping ?? HUBSPOT,
    known: a.known ?? KNOWN_AFTER_CREATE,
    crm: {
      fields: { ...READ_BACK, ...a.fields },
      stageId: a.stageId === undefined ? FIRST_OPEN : a.stageId,
      pipelineId: a.pipelineId === undefined ? 'default' : a.pipelineId,
      ownerId: a.ownerId ?? null,
      changedAt: a.changedAt ?? CRM_CHANGED_AT,
    },
    stageOutcome: a.stageOutcome ?? 'open',
    localPendingSince: a.localPendingSince ?? null,
  });
}
const NOTHING = { changes: [], close: null, ownerChange: null, stageChange: null, repush: false, notes: [] };

// ---- values ----------------------------------------------------------------------------------------

describe('canonicalise', () => {
  const amount = fieldOf(HUBSPOT, 'amount');
  const closedate = fieldOf(HUBSPOT, 'closedate');

  it.each([
    ['48000', 48000],
    ['48000.00', 48000],
    [' 48000 ', 48000],
    [48000, 48000],
    ['48000.016', 48000.02],
    [48000.004, 48000],
  ] as const)('an amount of %j is %j', (raw, value) => {
    expect(canonicalise(amount, raw)).toBe(value);
  });

  it.each([null, undefined, '', '   ', 'TBD', 'NaN'])('an amount of %j is empty', (raw) => {
    expect(canonicalise(amount, raw)).toBeNull();
  });

  it('reads the amount as a number even without a transform', () => {
    expect(canonicalise({ transform: 'none', registrationField: 'amount.value' }, '48000')).toBe(48000);
  });

  it.each([
    ['2026-03-31', '2026-03-31'],
    ['2026-03-31T00:00:00Z', '2026-03-31'],
    ['2026-03-31T00:00:00.000Z', '2026-03-31'],
    ['1774915200000', '2026-03-31'],
  ])('a close date (no transform) of %j is the day %j', (raw, day) => {
    expect(canonicalise({ transform: 'none', registrationField: 'expectedCloseDate' }, raw)).toBe(day);
  });

  it('reads protection dates as days', () => {
    expect(canonicalise({ transform: 'none', registrationField: 'protection.endsAt' }, '2026-04-05T09:30:00.000Z')).toBe('2026-04-05');
  });

  it.each([
    ['2026-03-31', '2026-03-31T00:00:00.000Z'],
    ['2026-03-31T00:00:00Z', '2026-03-31T00:00:00.000Z'],
    ['2026-03-31T02:00:00+02:00', '2026-03-31T00:00:00.000Z'],
    ['1774915200000', '2026-03-31T00:00:00.000Z'],
    [1774915200000, '2026-03-31T00:00:00.000Z'],
  ] as const)('a datetime close date of %j is the instant %j', (raw, iso) => {
    expect(canonicalise(closedate, raw)).toBe(iso);
  });

  it('a date that does not parse is empty', () => {
    expect(canonicalise(closedate, 'end of Q1')).toBeNull();
    expect(canonicalise({ transform: 'date' }, 'soon')).toBeNull();
  });

  it('upper / lower change the case', () => {
    expect(canonicalise({ transform: 'upper' }, 'eur')).toBe('EUR');
    expect(canonicalise({ transform: 'lower' }, 'Reseller')).toBe('reseller');
  });

  it('without a transform, text stays text and numbers and booleans stay themselves', () => {
    expect(canonicalise({ transform: 'none', registrationField: 'partner.name' }, 'Northwind Partners')).toBe('Northwind Partners');
    expect(canonicalise({ transform: 'none' }, 7)).toBe(7);
    expect(canonicalise({ transform: 'none' }, true)).toBe(true);
    expect(canonicalise({ transform: 'none' }, '')).toBeNull();
  });
});

describe('sameValue', () => {
  it('missing and null are the same (an empty field)', () => {
    expect(sameValue(null, undefined)).toBe(true);
    expect(sameValue(undefined, undefined)).toBe(true);
  });

  it('numbers within half a cent are the same', () => {
    expect(sameValue(48000, 48000.004)).toBe(true);
    expect(sameValue(48000, 48000.01)).toBe(false);
  });

  it('compares canonical values: the string "48000" is not the number 48000 until canonicalised', () => {
    expect(sameValue('48000', 48000)).toBe(false);
    expect(sameValue(canonicalise(fieldOf(HUBSPOT, 'amount'), '48000'), 48000)).toBe(true);
  });

  it('text is compared exactly', () => {
    expect(sameValue('approved', 'approved')).toBe(true);
    expect(sameValue('approved', 'Approved')).toBe(false);
    expect(sameValue('', null)).toBe(false);
  });
});

describe('verdictSummary', () => {
  it.each([
    [{ outcome: 'approve', codes: [] }, 'approved: no conflicts'],
    [{ outcome: 'review', codes: ['SIMILAR_COMPANY_NAME', 'OPEN_OPPORTUNITY'] }, 'needs review: SIMILAR_COMPANY_NAME, OPEN_OPPORTUNITY'],
    [{ outcome: 'reject', codes: ['DUPLICATE_REGISTRATION'] }, 'rejected: DUPLICATE_REGISTRATION'],
    [{ outcome: 'approve', codes: ['EXISTING_CUSTOMER'] }, 'approved: EXISTING_CUSTOMER'],
  ])('%j reads "%s"', (verdict, summary) => {
    expect(verdictSummary(verdict)).toBe(summary);
  });
});

describe('renderTemplate', () => {
  it('fills placeholders with the registration\'s facts', () => {
    expect(renderTemplate('{company.name} ({partner.name})', facts())).toBe('Acme Robotics (Northwind Partners)');
    expect(renderTemplate('{company.domain} – {verdict.summary}', facts())).toBe('acme-robotics.com – approved: no conflicts');
  });

  it('repeats a placeholder as often as it appears', () => {
    expect(renderTemplate('{partner.tier}/{partner.tier}', facts())).toBe('gold/gold');
  });

  it('drops the brackets around an empty value', () => {
    expect(renderTemplate('{company.name} ({company.country})', facts({ company: { name: 'Acme Robotics', domain: 'acme-robotics.com', country: null } }))).toBe('Acme Robotics');
  });

  it('leaves single spaces where an empty bracketed value was dropped mid-template', () => {
    const noCountry = facts({ company: { name: 'Acme Robotics', domain: 'acme-robotics.com', country: null } });
    expect(renderTemplate('{company.name} ({company.country}) - {partner.name}', noCountry)).toBe('Acme Robotics - Northwind Partners');
  });

  it('collapses runs of whitespace and trims', () => {
    expect(renderTemplate('  {company.name}   {notes} ', facts())).toBe('Acme Robotics');
  });

  it('writes a value that looks like a placeholder as is, without expanding it', () => {
    const odd = facts({ company: { name: 'Acme {partner.name}', domain: 'acme-robotics.com', country: 'DE' } });
    expect(renderTemplate('{company.name} ({partner.name})', odd)).toBe('Acme {partner.name} (Northwind Partners)');
  });

  it('renders numbers as written', () => {
    expect(renderTemplate('{amount.value} {amount.currency}', facts())).toBe('48000 EUR');
  });
});

describe('desiredValue', () => {
  it('translates a status through the valueMap; an unmapped status passes through', () => {
    const m = mapping([{ registrationField: 'status', crmField: 'partner_status', valueMap: { pending_review: 'In review', approved: 'Approved' } }]);
    expect(desiredValue(m.fields[0]!, facts())).toBe('Approved');
    expect(desiredValue(m.fields[0]!, facts({ status: 'won' }))).toBe('won');
  });

  it('applies the transform after the valueMap', () => {
    const m = mapping([{ registrationField: 'partner.type', crmField: 'dealtype', valueMap: { reseller: 'newbusiness' }, transform: 'upper' }]);
    expect(desiredValue(m.fields[0]!, facts())).toBe('NEWBUSINESS');
  });

  it('does not treat a value named like an Object member ("constructor") as mapped', () => {
    const m = mapping([{ registrationField: 'contact.name', crmField: 'description', valueMap: { Ada: 'Ada B.' } }]);
    expect(desiredValue(m.fields[0]!, facts({ contact: { name: 'constructor', email: 'c@acme-robotics.com' } }))).toBe('constructor');
    expect(desiredValue(m.fields[0]!, facts({ contact: { name: 'toString', email: 'c@acme-robotics.com' } }))).toBe('toString');
  });

  it('renders a template', () => {
    expect(desiredValue(fieldOf(HUBSPOT, 'dealname'), facts())).toBe('Acme Robotics (Northwind Partners)');
  });

  it('is null when the registration has no value', () => {
    expect(desiredValue(fieldOf(HUBSPOT, 'amount'), facts({ amount: null }))).toBeNull();
    expect(desiredValue(fieldOf(HUBSPOT, 'dealreg_protection_end'), facts({ protection: null }))).toBeNull();
  });
});

// ---- outbound --------------------------------------------------------------------------------------

describe('planOutbound: the first push creates the deal', () => {
  it('writes every to_crm and two-way field, in the CRM\'s canonical form, in the first open stage of the pipeline', () => {
    expect(create()).toEqual({
      kind: 'create',
      fields: {
        dealname: 'Acme Robotics (Northwind Partners)',
        amount: 48000,
        deal_currency_code: 'EUR',
        closedate: '2026-03-31T00:00:00.000Z',
        dealreg_status: 'approved',
        dealreg_partner_name: 'Northwind Partners',
        dealreg_partner_type: 'reseller',
        dealreg_partner_tier: 'gold',
        dealreg_protection_end: '2026-04-05',
        dealreg_verdict_summary: 'approved: no conflicts',
        dealreg_registration_url: URL,
      },
      pipelineId: 'default',
      stageId: FIRST_OPEN,
      knownAfter: expect.any(Object),
    });
  });

  it('remembers what it wrote, the status it wrote for, and the stage and pipeline', () => {
    const plan = create();
    expect(plan.knownAfter).toEqual({ ...plan.fields, [KNOWN_STATUS]: 'approved', [KNOWN_STAGE]: FIRST_OPEN, [KNOWN_PIPELINE]: 'default' });
  });

  it('upper-cases the currency on the way out', () => {
    expect(create(facts({ amount: { value: 48000, currency: 'eur' } })).fields.deal_currency_code).toBe('EUR');
  });

  it('leaves out fields the registration has no value for', () => {
    const plan = create(facts({ amount: null, url: null, expectedCloseDate: null }));
    expect(Object.keys(plan.fields)).toEqual(['dealname', 'dealreg_status', 'dealreg_partner_name', 'dealreg_partner_type', 'dealreg_partner_tier', 'dealreg_protection_end', 'dealreg_verdict_summary']);
  });

  it('never writes a from_crm field', () => {
    const m = mapping([
      { registrationField: 'amount.value', crmField: 'amount', direction: 'from_crm' },
      { registrationField: 'status', crmField: 'dealreg_status' },
    ]);
    expect(create(facts(), m).fields).toEqual({ dealreg_status: 'approved' });
  });

  it('writes CRM-owned fields (the deal name, the close date) on create', () => {
    const plan = create();
    expect(plan.fields.dealname).toBe('Acme Robotics (Northwind Partners)');
    expect(plan.fields.closedate).toBe('2026-03-31T00:00:00.000Z');
  });

  it('uses the create stage it is given (the mapping\'s onCreate)', () => {
    expect(create(facts(), HUBSPOT, 'qualifiedtobuy').stageId).toBe('qualifiedtobuy');
  });

  it('creates a registration that is already won straight into closedwon', () => {
    const plan = create(facts({ status: 'won' }));
    expect(plan.stageId).toBe('closedwon');
    expect(plan.knownAfter[KNOWN_STAGE]).toBe('closedwon');
  });

  it('still creates when the link exists but an earlier create never succeeded (no external id)', () => {
    const plan = planOutbound({ facts: facts(), mapping: HUBSPOT, link: { externalId: null, known: {} }, createStageId: FIRST_OPEN });
    expect(plan.kind).toBe('create');
    expect(plan.fields.dealreg_status).toBe('approved');
  });

  it('without a create stage (no describe), leaves the stage to the CRM', () => {
    const plan = create(facts(), HUBSPOT, null);
    expect(plan.stageId).toBeNull();
    expect(plan.pipelineId).toBe('default');
    expect(plan.knownAfter).not.toHaveProperty(KNOWN_STAGE);
  });
});

describe('planOutbound: later pushes update what changed', () => {
  it('writes nothing when nothing changed since the last push', () => {
    expect(push(facts(), KNOWN_AFTER_CREATE)).toEqual({ kind: 'none', fields: {}, pipelineId: null, stageId: null, knownAfter: KNOWN_AFTER_CREATE });
  });

  it('writes only the dealreg-owned field that changed', () => {
    const plan = push(facts({ partner: { name: 'Northwind Partners', type: 'reseller', tier: 'silver' } }), KNOWN_AFTER_CREATE);
    expect(plan).toMatchObject({ kind: 'update', fields: { dealreg_partner_tier: 'silver' }, stageId: null, pipelineId: null });
    expect(plan.knownAfter.dealreg_partner_tier).toBe('silver');
  });

  it('a protection end extended by a month writes the new day', () => {
    const plan = push(facts({ protection: { startsAt: '2026-01-05T09:30:00.000Z', endsAt: '2026-05-05T09:30:00.000Z' } }), KNOWN_AFTER_CREATE);
    expect(plan.fields).toEqual({ dealreg_protection_end: '2026-05-05' });
  });

  it('a protection end moved within the same day writes nothing (the CRM field holds a day)', () => {
    const plan = push(facts({ protection: { startsAt: '2026-01-05T09:30:00.000Z', endsAt: '2026-04-05T17:00:00.000Z' } }), KNOWN_AFTER_CREATE);
    expect(plan.kind).toBe('none');
  });

  it('a rep\'s edit of dealreg_status is undone on the next push', () => {
    const afterEdit = inbound({ fields: { dealreg_status: 'won' } });
    expect(afterEdit.repush).toBe(true);
    const plan = push(facts(), afterEdit.knownAfter);
    expect(plan).toMatchObject({ kind: 'update', fields: { dealreg_status: 'approved' }, stageId: null });
  });

  it('a dealreg-owned field the rep cleared is written again', () => {
    const afterEdit = inbound({ fields: { dealreg_partner_name: null } });
    expect(push(facts(), afterEdit.knownAfter).fields).toEqual({ dealreg_partner_name: 'Northwind Partners' });
  });

  it('a CRM-owned close date is written on create and never on update', () => {
    expect(create().fields.closedate).toBe('2026-03-31T00:00:00.000Z');
    const plan = push(facts({ expectedCloseDate: '2026-06-30' }), KNOWN_AFTER_CREATE);
    expect(plan.kind).toBe('none');
    expect(plan.fields).not.toHaveProperty('closedate');
  });

  it('a CRM-owned field stays unwritten even when the CRM never got a value for it', () => {
    const noDate = create(facts({ expectedCloseDate: null })).knownAfter;
    expect(noDate).not.toHaveProperty('closedate');
    expect(push(facts({ expectedCloseDate: '2026-06-30' }), noDate).fields).not.toHaveProperty('closedate');
  });

  it('the CRM-owned deal name is not rewritten when the company is renamed', () => {
    const plan = push(facts({ company: { name: 'Acme Robotics GmbH', domain: 'acme-robotics.com', country: 'DE' } }), KNOWN_AFTER_CREATE);
    expect(plan.fields).not.toHaveProperty('dealname');
  });

  it('a latest-wins amount changed in dealreg is written', () => {
    expect(push(facts({ amount: { value: 52000, currency: 'EUR' } }), KNOWN_AFTER_CREATE).fields).toEqual({ amount: 52000 });
  });

  it('an amount equal to what the CRM holds within half a cent is not rewritten', () => {
    expect(push(facts({ amount: { value: 48000.004, currency: 'EUR' } }), KNOWN_AFTER_CREATE).kind).toBe('none');
  });

  it('an amount removed in dealreg clears the CRM amount', () => {
    const plan = push(facts({ amount: null }), KNOWN_AFTER_CREATE);
    expect(plan.fields).toEqual({ amount: null });
    expect(plan.knownAfter.amount).toBeNull();
  });

  it('a field added to the mapping after the deal was created is written on the next push', () => {
    const m = syncMappingSchema.parse({ ...defaultHubspotMapping(), fields: [...defaultHubspotMapping().fields!, { registrationField: 'contact.email', crmField: 'partner_contact_email' }] });
    expect(push(facts(), KNOWN_AFTER_CREATE, m).fields).toEqual({ partner_contact_email: 'ada@acme-robotics.com' });
  });
});

describe('planOutbound: stages', () => {
  it('a stage moves to closedwon once when the registration becomes won, not again on the next push', () => {
    const won = facts({ status: 'won' });
    const first = push(won, KNOWN_AFTER_CREATE);
    expect(first).toMatchObject({ kind: 'update', fields: { dealreg_status: 'won' }, pipelineId: 'default', stageId: 'closedwon' });
    expect(first.knownAfter).toMatchObject({ [KNOWN_STATUS]: 'won', [KNOWN_STAGE]: 'closedwon' });
    const second = push(won, first.knownAfter);
    expect(second).toMatchObject({ kind: 'none', stageId: null, pipelineId: null });
  });

  it('after the win, a rep dragging the deal back to Contract Sent is not overridden by later pushes', () => {
    const won = facts({ status: 'won' });
    const first = push(won, KNOWN_AFTER_CREATE);
    const dragged = inbound({ facts: won, known: first.knownAfter, fields: { dealreg_status: 'won' }, stageId: 'contractsent' });
    expect(dragged.stageChange).toEqual({ from: 'closedwon', to: 'contractsent' });
    const next = push(facts({ status: 'won', notes: 'signed' }), dragged.knownAfter);
    expect(next.stageId).toBeNull();
  });

  it('a deal the rep already closed won is not moved again when the registration follows', () => {
    const closed = inbound({ stageId: 'closedwon', stageOutcome: 'won' });
    expect(closed.close).toBe('won');
    const plan = push(facts({ status: 'won' }), closed.knownAfter);
    expect(plan).toMatchObject({ kind: 'update', fields: { dealreg_status: 'won' }, stageId: null, pipelineId: null });
  });

  it('a lost registration moves the deal to closedlost', () => {
    expect(push(facts({ status: 'lost' }), KNOWN_AFTER_CREATE)).toMatchObject({ stageId: 'closedlost', pipelineId: 'default' });
  });

  it('a status the mapping names no stage for moves nothing', () => {
    const plan = push(facts({ status: 'expired' }), KNOWN_AFTER_CREATE);
    expect(plan).toMatchObject({ kind: 'update', fields: { dealreg_status: 'expired' }, stageId: null, pipelineId: null });
    expect(plan.knownAfter[KNOWN_STAGE]).toBe(FIRST_OPEN);
  });

  it('a stage move alone is an update', () => {
    const m = mapping([]);
    const known = create(facts(), m).knownAfter;
    expect(push(facts({ status: 'won' }), known, m)).toEqual({
      kind: 'update',
      fields: {},
      pipelineId: 'default',
      stageId: 'closedwon',
      knownAfter: { [KNOWN_STATUS]: 'won', [KNOWN_STAGE]: 'closedwon', [KNOWN_PIPELINE]: 'default' },
    });
  });
});

// ---- inbound ---------------------------------------------------------------------------------------

describe('planInbound: echoes', () => {
  it('our own write read back is an echo', () => {
    expect(inbound()).toEqual({ ...NOTHING, knownAfter: KNOWN_AFTER_CREATE, echo: true });
  });

  it('our own write of a registration without a link or an amount, read back with those fields empty, is an echo', () => {
    const bare = facts({ url: null, amount: null });
    const known = create(bare).knownAfter;
    const plan = inbound({ facts: bare, known, fields: { dealreg_registration_url: null, amount: null, deal_currency_code: null } });
    expect(plan).toEqual({ ...NOTHING, knownAfter: known, echo: true });
  });

  it('HubSpot\'s empty string for an empty field is an echo too', () => {
    const bare = facts({ url: null });
    const plan = inbound({ facts: bare, known: create(bare).knownAfter, fields: { dealreg_registration_url: '' } });
    expect(plan.echo).toBe(true);
    expect(plan.repush).toBe(false);
  });

  it('an amount typed as "48000" in the CRM is no change from 48000', () => {
    expect(inbound({ fields: { amount: '48000.00' } }).echo).toBe(true);
    expect(inbound({ fields: { amount: '48000' } }).changes).toEqual([]);
  });

  it('a close date HubSpot returns in its own datetime format is no change', () => {
    expect(inbound({ fields: { closedate: '2026-03-31T00:00:00.000Z' } }).echo).toBe(true);
    expect(inbound({ fields: { closedate: '1774915200000' } }).echo).toBe(true);
  });

  it('a field that was not read says nothing', () => {
    const { dealreg_status: _status, ...withoutStatus } = READ_BACK;
    const plan = planInbound({
      facts: facts(),
      mapping: HUBSPOT,
      known: KNOWN_AFTER_CREATE,
      crm: { fields: withoutStatus, stageId: FIRST_OPEN, pipelineId: 'default', ownerId: null, changedAt: CRM_CHANGED_AT },
      stageOutcome: 'open',
      localPendingSince: null,
    });
    expect(plan.echo).toBe(true);
  });

  it('the first read of a from_crm close date equal to the registration\'s is no change', () => {
    const m = mapping([
      { registrationField: 'expectedCloseDate', crmField: 'closedate', direction: 'from_crm', transform: 'datetime' },
      { registrationField: 'status', crmField: 'dealreg_status' },
    ]);
    const known = create(facts(), m).knownAfter;
    expect(known).not.toHaveProperty('closedate');
    const plan = inbound({ mapping: m, known, fields: { closedate: '2026-03-31T00:00:00Z' } });
    expect(plan).toEqual({ ...NOTHING, knownAfter: known, echo: true });
  });
});

describe('planInbound: fields edited in the CRM', () => {
  it('a rep\'s edit of dealreg_status is pushed back, not applied', () => {
    const plan = inbound({ fields: { dealreg_status: 'won' } });
    expect(plan).toMatchObject({ changes: [], close: null, repush: true, echo: false });
    expect(plan.knownAfter.dealreg_status).toBe('won');
  });

  it('a dealreg-owned two-way amount edited in the CRM is pushed back, not applied', () => {
    const m = mapping([{ registrationField: 'amount.value', crmField: 'amount', direction: 'both', owner: 'dealreg' }]);
    const plan = inbound({ mapping: m, known: create(facts(), m).knownAfter, fields: { amount: '99000' } });
    expect(plan).toMatchObject({ changes: [], repush: true, echo: false });
    expect(push(facts(), plan.knownAfter, m).fields).toEqual({ amount: 48000 });
  });

  it('a rep\'s new close date (CRM-owned) changes the registration and is not pushed back', () => {
    const plan = inbound({ fields: { closedate: '2026-04-30T00:00:00Z' } });
    expect(plan).toMatchObject({
      changes: [{ field: 'expectedCloseDate', crmField: 'closedate', from: '2026-03-31', to: '2026-04-30T00:00:00.000Z' }],
      repush: false,
      echo: false,
    });
    expect(plan.knownAfter.closedate).toBe('2026-04-30T00:00:00.000Z');
    // once applied, the next push has nothing to say about it
    expect(push(facts({ expectedCloseDate: '2026-04-30' }), plan.knownAfter).kind).toBe('none');
  });

  it('a rep clearing the CRM-owned close date clears the registration\'s', () => {
    expect(inbound({ fields: { closedate: null } }).changes).toEqual([{ field: 'expectedCloseDate', crmField: 'closedate', from: '2026-03-31', to: null }]);
  });

  it('a rep renaming the deal (CRM-owned, one-way) is kept: no change, no repush, and later pushes leave it', () => {
    const plan = inbound({ fields: { dealname: 'Acme Robotics – 2026 expansion' } });
    expect(plan).toMatchObject({ changes: [], repush: false, echo: false });
    expect(plan.knownAfter.dealname).toBe('Acme Robotics – 2026 expansion');
    expect(push(facts({ notes: 'call back in May' }), plan.knownAfter).fields).not.toHaveProperty('dealname');
  });

  it('a from_crm amount that differs from the registration\'s changes it', () => {
    const m = mapping([{ registrationField: 'amount.value', crmField: 'amount', direction: 'from_crm' }]);
    const plan = inbound({ mapping: m, known: create(facts(), m).knownAfter, fields: { amount: '55000' } });
    expect(plan.changes).toEqual([{ field: 'amount.value', crmField: 'amount', from: 48000, to: 55000 }]);
    expect(plan.repush).toBe(false);
  });

  it('a from_crm change already in the registration is no change, but the link learns the value', () => {
    const m = mapping([{ registrationField: 'amount.value', crmField: 'amount', direction: 'from_crm' }]);
    const plan = inbound({ mapping: m, known: { amount: 48000 }, facts: facts({ amount: { value: 55000, currency: 'EUR' } }), fields: { amount: '55000' } });
    expect(plan.changes).toEqual([]);
    expect(plan.knownAfter.amount).toBe(55000);
  });
});

describe('planInbound: latest wins', () => {
  const crm52k = { fields: { amount: '52000' }, changedAt: '2026-01-06T10:00:00.000Z' };
  const applied = [{ field: 'amount.value', crmField: 'amount', from: 48000, to: 52000 }];

  it('a CRM change with nothing pending in dealreg is applied', () => {
    expect(inbound(crm52k)).toMatchObject({ changes: applied, repush: false, echo: false });
  });

  it('a CRM change newer than our unpushed change is applied', () => {
    expect(inbound({ ...crm52k, localPendingSince: '2026-01-06T09:59:59.000Z' })).toMatchObject({ changes: applied, repush: false });
  });

  it('a CRM change older than our unpushed change is pushed back', () => {
    const plan = inbound({ ...crm52k, localPendingSince: '2026-01-06T10:00:01.000Z' });
    expect(plan).toMatchObject({ changes: [], repush: true, echo: false });
    // the push then writes dealreg's newer amount over the CRM's
    expect(push(facts({ amount: { value: 50000, currency: 'EUR' } }), plan.knownAfter).fields).toEqual({ amount: 50000 });
  });

  it('compares instants, not strings: a CRM change at 12:00 +02:00 is older than our change at 10:30Z', () => {
    const plan = inbound({ fields: { amount: '52000' }, changedAt: '2026-01-06T12:00:00+02:00', localPendingSince: '2026-01-06T10:30:00.000Z' });
    expect(plan).toMatchObject({ changes: [], repush: true });
  });

  it('compares instants, not strings: our change 250 ms after a CRM change stamped without milliseconds is newer', () => {
    const plan = inbound({ fields: { amount: '52000' }, changedAt: '2026-01-06T10:00:00Z', localPendingSince: '2026-01-06T10:00:00.250Z' });
    expect(plan).toMatchObject({ changes: [], repush: true });
  });

  it('a tie goes to the CRM', () => {
    expect(inbound({ ...crm52k, localPendingSince: '2026-01-06T10:00:00.000Z' })).toMatchObject({ changes: applied, repush: false });
  });

  it('a CRM-owned field ignores our pending change: the rep\'s close date applies even if we changed something later', () => {
    const plan = inbound({ fields: { closedate: '2026-04-30T00:00:00Z' }, localPendingSince: '2026-01-07T08:00:00.000Z' });
    expect(plan).toMatchObject({ changes: [{ field: 'expectedCloseDate', to: '2026-04-30T00:00:00.000Z' }], repush: false });
  });

  it('both sides moved to the same amount: nothing to change, nothing to push', () => {
    const plan = inbound({ ...crm52k, facts: facts({ amount: { value: 52000, currency: 'EUR' } }) });
    expect(plan).toMatchObject({ changes: [], repush: false });
    expect(plan.knownAfter.amount).toBe(52000);
  });
});

describe('planInbound: stages, closing, owners', () => {
  it('a closed-won deal closes an approved registration as won', () => {
    const plan = inbound({ stageId: 'closedwon', stageOutcome: 'won' });
    expect(plan).toMatchObject({ close: 'won', stageChange: { from: FIRST_OPEN, to: 'closedwon' }, notes: [], echo: false });
    expect(plan.knownAfter[KNOWN_STAGE]).toBe('closedwon');
  });

  it('a closed-lost deal closes an approved registration as lost', () => {
    expect(inbound({ stageId: 'closedlost', stageOutcome: 'lost' })).toMatchObject({ close: 'lost', notes: [] });
  });

  it('a closed-won deal on a pending_review registration does not close it and says why', () => {
    const plan = inbound({ facts: facts({ status: 'pending_review' }), stageId: 'closedwon', stageOutcome: 'won' });
    expect(plan.close).toBeNull();
    expect(plan.notes).toEqual(['the deal is closed won but the registration is still pending review: decide it first']);
  });

  it.each([
    ['rejected', 'lost', 'the deal is closed lost; the registration is already rejected'],
    ['expired', 'won', 'the deal is closed won; the registration is already expired'],
    ['lost', 'won', 'the deal is closed won; the registration is already lost'],
  ] as const)('a closed deal on a %s registration does not close it (%s) and says so', (status, outcome, note) => {
    const plan = inbound({ facts: facts({ status }), stageId: `closed${outcome}`, stageOutcome: outcome });
    expect(plan.close).toBeNull();
    expect(plan.notes).toEqual([note]);
  });

  it('a closed-won deal on a registration already won says nothing more', () => {
    const plan = inbound({ facts: facts({ status: 'won' }), stageId: 'closedwon', stageOutcome: 'won' });
    expect(plan).toMatchObject({ close: null, notes: [] });
  });

  it('an open stage move is a stage change, not a close', () => {
    const plan = inbound({ stageId: 'contractsent', stageOutcome: 'open' });
    expect(plan).toMatchObject({ close: null, stageChange: { from: FIRST_OPEN, to: 'contractsent' }, echo: false, repush: false });
  });

  it('a stage the mapping cannot place closes nothing', () => {
    expect(inbound({ stageId: 'mystery', stageOutcome: 'unknown' })).toMatchObject({ close: null, notes: [] });
  });

  it('a move into another pipeline is remembered', () => {
    const plan = inbound({ stageId: '7654322', pipelineId: '7654321' });
    expect(plan.knownAfter).toMatchObject({ [KNOWN_STAGE]: '7654322', [KNOWN_PIPELINE]: '7654321' });
  });

  it('an owner assigned in the CRM is an owner change', () => {
    const plan = inbound({ ownerId: '7001' });
    expect(plan).toMatchObject({ ownerChange: { from: null, to: '7001' }, echo: false, changes: [], repush: false });
    expect(plan.knownAfter[KNOWN_OWNER]).toBe('7001');
  });

  it('the same owner again is no owner change', () => {
    const plan = inbound({ known: { ...KNOWN_AFTER_CREATE, [KNOWN_OWNER]: '7001' }, ownerId: '7001' });
    expect(plan.ownerChange).toBeNull();
    expect(plan.echo).toBe(true);
  });

  it('an owner removed in the CRM is an owner change to nobody', () => {
    expect(inbound({ known: { ...KNOWN_AFTER_CREATE, [KNOWN_OWNER]: '7001' }, ownerId: null }).ownerChange).toEqual({ from: '7001', to: null });
  });

  it('does not change the known values it was given', () => {
    const known = { ...KNOWN_AFTER_CREATE };
    inbound({ known, fields: { dealreg_status: 'won', closedate: null }, stageId: 'closedwon', stageOutcome: 'won', ownerId: '7001' });
    expect(known).toEqual(KNOWN_AFTER_CREATE);
  });
});
