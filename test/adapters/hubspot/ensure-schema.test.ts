// ensureSchema at the HTTP boundary: what a first run creates (group + properties in one batch), that a
// second run only reads, and how it copes with races, old definitions and wrong definitions.
import nock from 'nock';
import { DEALREG_DEAL_PROPERTIES } from '../../../src/crm/hubspot';
import { adapterWith, errorBody, hubspot } from './helpers';

const GROUP = '/crm/v3/properties/deals/groups/dealreg';
const GROUPS = '/crm/v3/properties/deals/groups';
const PROPERTIES = '/crm/v3/properties/deals';
const BATCH_CREATE = '/crm/v3/properties/deals/batch/create';
const NAMES = DEALREG_DEAL_PROPERTIES.map((p) => p.name);

afterEach(() => nock.cleanAll());

/** A deal property as GET /crm/v3/properties/deals lists it. */
function property(name: string, over: Record<string, unknown> = {}) {
  const spec = DEALREG_DEAL_PROPERTIES.find((p) => p.name === name);
  return {
    updatedAt: '2026-11-20T10:00:00.000Z',
    createdAt: '2026-11-20T10:00:00.000Z',
    name,
    label: spec?.label ?? name,
    type: spec?.type ?? 'string',
    fieldType: spec?.fieldType ?? 'text',
    description: '',
    groupName: spec ? 'dealreg' : 'dealinformation',
    options: (spec?.options ?? []).map((o) => ({ ...o, description: '', hidden: false })),
    displayOrder: 0,
    calculated: false,
    externalOptions: false,
    hasUniqueValue: spec?.hasUniqueValue ?? false,
    hidden: false,
    hubspotDefined: !spec,
    modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
    formField: false,
    archived: false,
    ...over,
  };
}

const standard = [property('dealname'), property('amount', { type: 'number' }), property('dealstage', { type: 'enumeration' })];
const group = { name: 'dealreg', label: 'dealreg partner registration', displayOrder: -1, archived: false };

describe('ensureSchema', () => {
  it('first run: creates the group and all eight properties (one batch), in four calls', async () => {
    const { adapter, gate } = adapterWith();
    const { scope, requests } = hubspot();
    let groupBody: unknown;
    let inputs: Array<Record<string, unknown>> = [];
    scope
      .get(GROUP)
      .reply(404, errorBody('OBJECT_NOT_FOUND', 'Unable to find property group dealreg on object type deals'))
      .get(PROPERTIES)
      .query({ archived: 'false' })
      .reply(200, { results: standard })
      .post(GROUPS, (b) => ((groupBody = b), true))
      .reply(201, group)
      .post(BATCH_CREATE, (b: { inputs: typeof inputs }) => ((inputs = b.inputs), true))
      .reply(201, (_u, b) => ({ status: 'COMPLETE', results: (b as { inputs: Array<{ name: string }> }).inputs.map((i) => property(i.name)) }));

    const report = await adapter.ensureSchema();

    expect(report).toEqual({ created: NAMES, present: [], missing: [] });
    expect(requests()).toBe(4);
    expect(gate.acquired).toHaveLength(4);
    expect(groupBody).toEqual({ name: 'dealreg', label: 'dealreg partner registration', displayOrder: -1 });
    expect(inputs.map((i) => i.name)).toEqual(NAMES);
    expect(inputs.every((i) => i.groupName === 'dealreg')).toBe(true);
    expect(inputs[0]).toMatchObject({ name: 'dealreg_registration_id', type: 'string', fieldType: 'text', hasUniqueValue: true });
    expect(inputs.find((i) => i.name === 'dealreg_status')).toMatchObject({
      type: 'enumeration',
      fieldType: 'select',
      options: ['pending_review', 'approved', 'rejected', 'won', 'lost', 'expired', 'withdrawn'].map((value) => expect.objectContaining({ value })),
    });
    expect(inputs.find((i) => i.name === 'dealreg_protection_end')).toMatchObject({ type: 'date', fieldType: 'date' });
    expect(inputs.find((i) => i.name === 'dealreg_verdict_summary')).toMatchObject({ type: 'string', fieldType: 'textarea' });
  });

  it('second run: two reads, no create call at all, everything present', async () => {
    const { adapter, gate } = adapterWith();
    const { scope, requests } = hubspot();
    // Only reads are mocked: any create would be an unmatched request and fail the run.
    scope.get(GROUP).reply(200, group).get(PROPERTIES).query({ archived: 'false' }).reply(200, { results: [...standard, ...NAMES.map((n) => property(n))] });
    const report = await adapter.ensureSchema();
    expect(report).toEqual({ created: [], present: NAMES, missing: [] });
    expect(requests()).toBe(2);
    expect(gate.acquired).toEqual(['api', 'api']);
    expect(scope.isDone()).toBe(true);
  });

  it('creates only what is missing, and counts a property created meanwhile by someone else (207 OBJECT_ALREADY_EXISTS) as present', async () => {
    const { adapter } = adapterWith();
    let sent: string[] = [];
    hubspot()
      .scope.get(GROUP)
      .reply(200, group)
      .get(PROPERTIES)
      .query(true)
      .reply(200, { results: [...standard, ...NAMES.slice(0, 6).map((n) => property(n))] })
      .post(BATCH_CREATE, (b: { inputs: Array<{ name: string }> }) => ((sent = b.inputs.map((i) => i.name)), true))
      .reply(207, {
        status: 'COMPLETE',
        results: [property(NAMES[6]!)],
        numErrors: 1,
        errors: [{ status: 'error', category: 'OBJECT_ALREADY_EXISTS', message: `Property named '${NAMES[7]}' already exists.`, context: { name: [NAMES[7]] }, errors: [], links: {} }],
      });
    const report = await adapter.ensureSchema();
    expect(sent).toEqual(NAMES.slice(6));
    expect(report).toEqual({ created: [NAMES[6]], present: [...NAMES.slice(0, 6), NAMES[7]], missing: [] });
  });

  it('a group created by a concurrent run (409) is fine', async () => {
    const { adapter } = adapterWith();
    hubspot()
      .scope.get(GROUP)
      .reply(404, errorBody('OBJECT_NOT_FOUND', 'not found'))
      .get(PROPERTIES)
      .query(true)
      .reply(200, { results: NAMES.map((n) => property(n)) })
      .post(GROUPS)
      .reply(409, errorBody('OBJECT_ALREADY_EXISTS', "Property group named 'dealreg' already exists."));
    expect(await adapter.ensureSchema()).toEqual({ created: [], present: NAMES, missing: [] });
  });

  it('when the batch create is refused as a whole, creates one by one: 409 → present, refused → missing', async () => {
    const { adapter } = adapterWith();
    const { scope } = hubspot();
    scope
      .get(GROUP)
      .reply(200, group)
      .get(PROPERTIES)
      .query(true)
      .reply(200, { results: NAMES.slice(0, 6).map((n) => property(n)) })
      .post(BATCH_CREATE)
      .reply(409, errorBody('OBJECT_ALREADY_EXISTS', `Property named '${NAMES[6]}' already exists.`))
      .post(PROPERTIES, (b: { name: string }) => b.name === NAMES[6])
      .reply(409, errorBody('OBJECT_ALREADY_EXISTS', `Property named '${NAMES[6]}' already exists.`))
      .post(PROPERTIES, (b: { name: string }) => b.name === NAMES[7])
      .reply(400, errorBody('VALIDATION_ERROR', 'label too long'));
    const report = await adapter.ensureSchema();
    expect(report).toEqual({ created: [], present: [...NAMES.slice(0, 6), NAMES[6]], missing: [NAMES[7]] });
    expect(scope.isDone()).toBe(true);
  });

  it('reports an external-id property that exists without a unique value as missing (HubSpot cannot change it later)', async () => {
    const { adapter } = adapterWith();
    hubspot()
      .scope.get(GROUP)
      .reply(200, group)
      .get(PROPERTIES)
      .query(true)
      .reply(200, { results: NAMES.map((n) => property(n, n === 'dealreg_registration_id' ? { hasUniqueValue: false } : {})) });
    const report = await adapter.ensureSchema();
    expect(report.missing).toEqual(['dealreg_registration_id']);
    expect(report.present).toHaveLength(7);
  });

  it('adds the status options an older dealreg did not create, keeping the existing ones', async () => {
    const { adapter } = adapterWith();
    let patch: { options: Array<{ value: string }> } | undefined;
    const old = property('dealreg_status', { options: ['pending_review', 'approved', 'rejected', 'won', 'lost', 'expired'].map((value, i) => ({ value, label: value, displayOrder: i, hidden: false })) });
    hubspot()
      .scope.get(GROUP)
      .reply(200, group)
      .get(PROPERTIES)
      .query(true)
      .reply(200, { results: NAMES.map((n) => (n === 'dealreg_status' ? old : property(n))) })
      .patch('/crm/v3/properties/deals/dealreg_status', (b) => ((patch = b), true))
      .reply(200, property('dealreg_status'));
    const report = await adapter.ensureSchema();
    expect(patch!.options.map((o) => o.value)).toEqual(['pending_review', 'approved', 'rejected', 'won', 'lost', 'expired', 'withdrawn']);
    expect(report).toEqual({ created: [], present: NAMES, missing: [] });
  });

  it('an auth failure while reading is thrown, not reported as missing', async () => {
    const { adapter } = adapterWith();
    hubspot().scope.get(GROUP).reply(403, errorBody('MISSING_SCOPES', 'missing crm.schemas.deals.write'));
    await expect(adapter.ensureSchema()).rejects.toMatchObject({ code: 'AUTH', status: 403 });
  });
});
