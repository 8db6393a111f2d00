// writeOpportunities / createAccounts at the HTTP boundary: one batch call per kind of write, 207
// partial results, the unique-clash create → update fallback, and what a bad input costs.
import nock from 'nock';
import type { OpportunityWrite } from '../../../src/crm/crm-adapter';
import { adapterWith, dealBody, errorBody, hubspot, RATE_LIMIT_BODY, uniqueClashMessage } from './helpers';

const CREATE = '/crm/v3/objects/deals/batch/create';
const UPDATE = '/crm/v3/objects/deals/batch/update';
const READ = '/crm/v3/objects/deals/batch/read';
const ASSOCIATE = '/crm/v4/associations/deals/companies/batch/create';

afterEach(() => nock.cleanAll());

const create = (i: number, extra: Partial<OpportunityWrite> = {}): OpportunityWrite => ({
  registrationId: `reg-${i}`,
  externalId: null,
  fields: { dealname: `Acme ${i}`, amount: 1000 + i, dealreg_status: 'approved', closedate: null },
  pipelineId: 'default',
  stageId: 'appointmentscheduled',
  accountExternalId: '20000000001',
  ...extra,
});

const update = (i: number, id: string, extra: Partial<OpportunityWrite> = {}): OpportunityWrite => ({
  registrationId: `reg-${i}`,
  externalId: id,
  fields: { dealreg_status: 'won', closedate: null },
  ...extra,
});

interface CreateInput {
  objectWriteTraceId: string;
  properties: Record<string, string>;
  associations: Array<{ to: { id: string }; types: Array<{ associationCategory: string; associationTypeId: number }> }>;
}

/** 201 for every input of a batch create, echoing objectWriteTraceId like HubSpot. */
function createdAll(inputs: CreateInput[], firstId = 30000000001) {
  return {
    status: 'COMPLETE',
    results: inputs.map((input, i) => dealBody(String(firstId + i), input.properties, { objectWriteTraceId: input.objectWriteTraceId })),
    startedAt: '2026-11-20T10:00:00.000Z',
    completedAt: '2026-11-20T10:00:00.200Z',
  };
}

function traceError(trace: string, category: string, message: string) {
  return { status: 'error', category, message, context: { objectWriteTraceId: [trace] }, errors: [], links: {}, objectWriteTraceId: trace };
}

describe('creates', () => {
  it('creates 100 new deals in ONE call, each traced by its registration id, with its primary company inline', async () => {
    const { adapter, gate } = adapterWith();
    const { scope, requests } = hubspot();
    let sent: CreateInput[] = [];
    scope.post(CREATE, (body: { inputs: CreateInput[] }) => {
      sent = body.inputs;
      return true;
    }).reply(201, (_uri, body) => createdAll((body as { inputs: CreateInput[] }).inputs));

    const results = await adapter.writeOpportunities(Array.from({ length: 100 }, (_, i) => create(i)));

    expect(requests()).toBe(1);
    expect(gate.acquired).toEqual(['api']);
    expect(sent).toHaveLength(100);
    expect(sent[7]).toEqual({
      objectWriteTraceId: 'reg-7',
      properties: { dealname: 'Acme 7', amount: '1007', dealreg_status: 'approved', pipeline: 'default', dealstage: 'appointmentscheduled', dealreg_registration_id: 'reg-7' },
      associations: [{ to: { id: '20000000001' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 5 }] }],
    });
    expect(results).toHaveLength(100);
    expect(results.find((r) => r.registrationId === 'reg-7')).toEqual({ registrationId: 'reg-7', ok: true, externalId: '30000000008', created: true });
  });

  it('leaves out the association when no company is known', async () => {
    const { adapter } = adapterWith();
    let sent: CreateInput[] = [];
    hubspot().scope.post(CREATE, (b: { inputs: CreateInput[] }) => ((sent = b.inputs), true)).reply(201, (_u, b) => createdAll((b as { inputs: CreateInput[] }).inputs));
    await adapter.writeOpportunities([create(1, { accountExternalId: null, pipelineId: null, stageId: undefined })]);
    expect(sent[0]!.associations).toEqual([]);
    expect(sent[0]!.properties).not.toHaveProperty('pipeline');
    expect(sent[0]!.properties).not.toHaveProperty('dealstage');
  });

  it('reports a 207 per input: the good ones created, the refused one INVALID', async () => {
    const { adapter } = adapterWith();
    const { scope, requests } = hubspot();
    scope.post(CREATE).reply(207, {
      status: 'COMPLETE',
      results: [dealBody('30000000001', {}, { objectWriteTraceId: 'reg-1' }), dealBody('30000000003', {}, { objectWriteTraceId: 'reg-3' })],
      numErrors: 1,
      errors: [traceError('reg-2', 'VALIDATION_ERROR', 'Property values were not valid: [{"isValid":false,"message":"many is not a valid decimal","error":"INVALID_DECIMAL","name":"amount"}]')],
      startedAt: '2026-11-20T10:00:00.000Z',
      completedAt: '2026-11-20T10:00:00.100Z',
    });
    const results = await adapter.writeOpportunities([create(1), create(2), create(3)]);
    expect(requests()).toBe(1);
    expect(results).toEqual(
      expect.arrayContaining([
        { registrationId: 'reg-1', ok: true, externalId: '30000000001', created: true },
        { registrationId: 'reg-3', ok: true, externalId: '30000000003', created: true },
        { registrationId: 'reg-2', ok: false, error: expect.objectContaining({ code: 'INVALID', crmCode: 'VALIDATION_ERROR' }) },
      ]),
    );
    expect((results.find((r) => r.registrationId === 'reg-2') as { error: Error }).error.message).toContain('INVALID_DECIMAL');
  });

  it('completes a create whose deal already exists (unique clash, Existing ID) as an update of that deal: created false', async () => {
    const { adapter } = adapterWith();
    const { scope, requests } = hubspot();
    let updated: Array<{ id: string; properties: Record<string, string> }> = [];
    scope
      .post(CREATE)
      .reply(207, {
        status: 'COMPLETE',
        results: [dealBody('30000000002', {}, { objectWriteTraceId: 'reg-2' })],
        numErrors: 1,
        errors: [traceError('reg-1', 'VALIDATION_ERROR', uniqueClashMessage('reg-1', '30000000001'))],
      })
      .post(UPDATE, (b: { inputs: typeof updated }) => ((updated = b.inputs), true))
      .reply(200, { status: 'COMPLETE', results: [dealBody('30000000001')] });
    const results = await adapter.writeOpportunities([create(1, { accountExternalId: null }), create(2, { accountExternalId: null })]);
    expect(requests()).toBe(2);
    expect(updated).toEqual([{ id: '30000000001', properties: { dealname: 'Acme 1', amount: '1001', dealreg_status: 'approved', closedate: '', pipeline: 'default', dealstage: 'appointmentscheduled' } }]);
    expect(results).toEqual(
      expect.arrayContaining([
        { registrationId: 'reg-1', ok: true, externalId: '30000000001', created: false },
        { registrationId: 'reg-2', ok: true, externalId: '30000000002', created: true },
      ]),
    );
    expect(scope.isDone()).toBe(true);
  });

  it('finds the existing deal by dealreg_registration_id when the clash does not name it, and re-asserts its company', async () => {
    const { adapter } = adapterWith();
    const { scope, requests } = hubspot();
    const clash = 'Property values were not valid: [{"isValid":false,"message":"reg-1 already has that value.","error":"INVALID_PROPERTY_VALUE","name":"dealreg_registration_id"}]';
    let lookup: unknown;
    let associated: unknown;
    scope
      .post(CREATE)
      .reply(207, { status: 'COMPLETE', results: [], numErrors: 1, errors: [traceError('reg-1', 'VALIDATION_ERROR', clash)] })
      .post(READ, (b) => ((lookup = b), true))
      .reply(200, { status: 'COMPLETE', results: [dealBody('30000000009', { dealreg_registration_id: 'reg-1' })] })
      .post(UPDATE)
      .reply(200, { status: 'COMPLETE', results: [dealBody('30000000009')] })
      .post(ASSOCIATE, (b) => ((associated = b), true))
      .reply(201, { status: 'COMPLETE', results: [{ fromObjectTypeId: '0-3', fromObjectId: 30000000009, toObjectTypeId: '0-2', toObjectId: 20000000001, labels: ['Primary'] }] });
    const results = await adapter.writeOpportunities([create(1)]);
    expect(requests()).toBe(4);
    expect(lookup).toEqual({ idProperty: 'dealreg_registration_id', inputs: [{ id: 'reg-1' }], properties: ['dealreg_registration_id'], propertiesWithHistory: [] });
    expect(associated).toEqual({ inputs: [{ from: { id: '30000000009' }, to: { id: '20000000001' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 5 }] }] });
    expect(results).toEqual([{ registrationId: 'reg-1', ok: true, externalId: '30000000009', created: false }]);
  });

  it('a clash on some other unique property is a CONFLICT, not a reason to update a deal', async () => {
    const { adapter } = adapterWith();
    const { scope, requests } = hubspot();
    const other = 'Property values were not valid: [{"isValid":false,"message":"X-1 already has that value. Existing ID: 30000000077","error":"INVALID_PROPERTY_VALUE","name":"erp_deal_number"}]';
    scope.post(CREATE).reply(207, { status: 'COMPLETE', results: [], numErrors: 1, errors: [traceError('reg-1', 'VALIDATION_ERROR', other)] });
    const [r] = await adapter.writeOpportunities([create(1, { fields: { erp_deal_number: 'X-1' } })]);
    expect(requests()).toBe(1);
    expect(r).toMatchObject({ ok: false, error: { code: 'CONFLICT', existingId: '30000000077' } });
  });

  it('isolates one bad input when HubSpot refuses the whole create batch (400), without losing the others', async () => {
    const { adapter } = adapterWith();
    const { scope, requests } = hubspot();
    const bad = errorBody('VALIDATION_ERROR', 'Property values were not valid: [{"isValid":false,"message":"Property \\"nope\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"nope"}]');
    const hasBad = (b: { inputs: CreateInput[] }) => b.inputs.some((i) => 'nope' in i.properties);
    scope
      .post(CREATE, (b: { inputs: CreateInput[] }) => hasBad(b))
      .times(2)
      .reply(400, bad)
      .post(CREATE, (b: { inputs: CreateInput[] }) => !hasBad(b))
      .reply(201, (_u, b) => createdAll((b as { inputs: CreateInput[] }).inputs));
    const results = await adapter.writeOpportunities([create(1), create(2, { fields: { nope: 'x' } })]);
    expect(requests()).toBe(3); // both, then each half
    expect(results).toEqual(
      expect.arrayContaining([
        { registrationId: 'reg-1', ok: true, externalId: '30000000001', created: true },
        { registrationId: 'reg-2', ok: false, error: expect.objectContaining({ code: 'INVALID', status: 400, crmCode: 'VALIDATION_ERROR' }) },
      ]),
    );
  });

  it('refuses a registration id twice in one call instead of letting HubSpot clash with itself', async () => {
    const { adapter } = adapterWith();
    let sent: CreateInput[] = [];
    hubspot().scope.post(CREATE, (b: { inputs: CreateInput[] }) => ((sent = b.inputs), true)).reply(201, (_u, b) => createdAll((b as { inputs: CreateInput[] }).inputs));
    const results = await adapter.writeOpportunities([create(1), create(1)]);
    expect(sent).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ registrationId: 'reg-1', ok: false, error: expect.objectContaining({ code: 'INVALID', crmCode: 'DUPLICATE_INPUT' }) }]);
  });
});

describe('updates', () => {
  it('updates by id in ONE call; ids HubSpot does not find come back NOT_FOUND (207); null clears a field', async () => {
    const { adapter } = adapterWith();
    const { scope, requests } = hubspot();
    let sent: Array<{ id: string; properties: Record<string, string> }> = [];
    scope.post(UPDATE, (b: { inputs: typeof sent }) => ((sent = b.inputs), true)).reply(207, {
      status: 'COMPLETE',
      results: [dealBody('30000000001'), dealBody('30000000002')],
      numErrors: 1,
      errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some DEAL objects, they may be deleted or not exist. Check that ids are valid.', context: { ids: ['404404'] }, errors: [], links: {} }],
    });
    const results = await adapter.writeOpportunities([update(1, '30000000001'), update(2, '30000000002'), update(3, '404404')]);
    expect(requests()).toBe(1);
    expect(sent[0]).toEqual({ id: '30000000001', properties: { dealreg_status: 'won', closedate: '' } });
    expect(results).toEqual(
      expect.arrayContaining([
        { registrationId: 'reg-1', ok: true, externalId: '30000000001', created: false },
        { registrationId: 'reg-2', ok: true, externalId: '30000000002', created: false },
        { registrationId: 'reg-3', ok: false, error: expect.objectContaining({ code: 'NOT_FOUND', crmCode: 'OBJECT_NOT_FOUND' }) },
      ]),
    );
  });

  it('VALIDATION_ERROR on a one-deal update → INVALID for that write', async () => {
    const { adapter } = adapterWith();
    hubspot().scope.post(UPDATE).reply(400, errorBody('VALIDATION_ERROR', 'Property values were not valid: [{"isValid":false,"message":"nope was not one of the allowed options: [pending_review, approved]","error":"INVALID_OPTION","name":"dealreg_status"}]'));
    const [r] = await adapter.writeOpportunities([update(1, '30000000001', { fields: { dealreg_status: 'nope' } })]);
    expect(r).toMatchObject({ registrationId: 'reg-1', ok: false, error: { code: 'INVALID', status: 400, crmCode: 'VALIDATION_ERROR' } });
    expect((r as { error: Error }).error.message).toContain('INVALID_OPTION');
  });

  it('a mixed batch costs one create call and one update call', async () => {
    const { adapter, gate } = adapterWith();
    const { scope, requests } = hubspot();
    scope
      .post(CREATE)
      .reply(201, (_u, b) => createdAll((b as { inputs: CreateInput[] }).inputs))
      .post(UPDATE)
      .reply(200, { status: 'COMPLETE', results: [dealBody('30000000050')] });
    const results = await adapter.writeOpportunities([create(1), create(2), update(3, '30000000050')]);
    expect(requests()).toBe(2);
    expect(gate.acquired).toHaveLength(2);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it('after the creates went through, a rate-limited update step is reported per write instead of thrown', async () => {
    const { adapter, gate } = adapterWith();
    hubspot()
      .scope.post(CREATE)
      .reply(201, (_u, b) => createdAll((b as { inputs: CreateInput[] }).inputs))
      .post(UPDATE)
      .reply(429, RATE_LIMIT_BODY, { 'Retry-After': '2' });
    const results = await adapter.writeOpportunities([create(1), update(2, '30000000050')]);
    expect(results).toEqual(
      expect.arrayContaining([
        { registrationId: 'reg-1', ok: true, externalId: '30000000001', created: true },
        { registrationId: 'reg-2', ok: false, error: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterMs: 2000 }) },
      ]),
    );
    expect(gate.paused).toEqual([2000]);
  });

  it('while isolating a bad input, a 429 on the second half is reported for that half; the first half stays written', async () => {
    const { adapter, gate } = adapterWith();
    const { scope, requests } = hubspot();
    scope
      .post(UPDATE, (b: { inputs: unknown[] }) => b.inputs.length === 4)
      .reply(400, errorBody('VALIDATION_ERROR', 'Property values were not valid: [{"isValid":false,"message":"x","error":"INVALID_OPTION","name":"dealreg_status"}]'))
      .post(UPDATE, (b: { inputs: Array<{ id: string }> }) => b.inputs[0]!.id === '1')
      .reply(200, { status: 'COMPLETE', results: [dealBody('1'), dealBody('2')] })
      .post(UPDATE, (b: { inputs: Array<{ id: string }> }) => b.inputs[0]!.id === '3')
      .reply(429, RATE_LIMIT_BODY, { 'Retry-After': '5' });
    const results = await adapter.writeOpportunities([update(1, '1'), update(2, '2'), update(3, '3'), update(4, '4')]);
    expect(requests()).toBe(3);
    expect(results.filter((r) => r.ok).map((r) => r.registrationId)).toEqual(['reg-1', 'reg-2']);
    expect(results.filter((r) => !r.ok)).toEqual([
      { registrationId: 'reg-3', ok: false, error: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterMs: 5000 }) },
      { registrationId: 'reg-4', ok: false, error: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterMs: 5000 }) },
    ]);
    expect(gate.paused).toEqual([5000]);
  });

  it('a whole-call failure before anything was written is thrown', async () => {
    const { adapter } = adapterWith();
    hubspot().scope.post(UPDATE).reply(503, errorBody('SERVICE_UNAVAILABLE', 'Service Unavailable.'));
    await expect(adapter.writeOpportunities([update(1, '30000000001')])).rejects.toMatchObject({ code: 'TEMPORARY', status: 503 });
  });
});

describe('batch sizes', () => {
  it('101 writes → a clear INVALID error and no HTTP call', async () => {
    const { adapter, gate } = adapterWith();
    const { requests } = hubspot();
    await expect(adapter.writeOpportunities(Array.from({ length: 101 }, (_, i) => create(i)))).rejects.toMatchObject({
      name: 'CrmError',
      code: 'INVALID',
      crmCode: 'BATCH_TOO_LARGE',
      message: expect.stringContaining('at most 100'),
    });
    expect(requests()).toBe(0);
    expect(gate.acquired).toEqual([]);
  });

  it('no writes, no calls', async () => {
    const { adapter, gate } = adapterWith();
    expect(await adapter.writeOpportunities([])).toEqual([]);
    expect(gate.acquired).toEqual([]);
  });
});

describe('createAccounts', () => {
  it('creates companies in one batch call keyed by objectWriteTraceId; refused ones come back per key', async () => {
    const { adapter } = adapterWith();
    const { scope, requests } = hubspot();
    let sent: unknown;
    scope.post('/crm/v3/objects/companies/batch/create', (b) => ((sent = b), true)).reply(207, {
      status: 'COMPLETE',
      results: [{ id: '20000000005', properties: { name: 'Acme', domain: 'acme.com' }, createdAt: '2026-11-20T10:00:00Z', updatedAt: '2026-11-20T10:00:00Z', archived: false, objectWriteTraceId: 'k1' }],
      numErrors: 1,
      errors: [traceError('k2', 'VALIDATION_ERROR', 'Property values were not valid: [{"isValid":false,"message":"bad","error":"INVALID_PROPERTY_VALUE","name":"domain"}]')],
    });
    const results = await adapter.createAccounts([
      { key: 'k1', name: 'Acme', domain: 'acme.com' },
      { key: 'k2', name: 'Bad', domain: '???' },
    ]);
    expect(requests()).toBe(1);
    expect(sent).toEqual({ inputs: [
      { objectWriteTraceId: 'k1', properties: { name: 'Acme', domain: 'acme.com' }, associations: [] },
      { objectWriteTraceId: 'k2', properties: { name: 'Bad', domain: '???' }, associations: [] },
    ] });
    expect(results).toEqual([
      { key: 'k1', ok: true, externalId: '20000000005' },
      { key: 'k2', ok: false, error: expect.objectContaining({ code: 'INVALID' }) },
    ]);
  });

  it('101 accounts → INVALID, no call', async () => {
    const { adapter } = adapterWith();
    await expect(adapter.createAccounts(Array.from({ length: 101 }, (_, i) => ({ key: `k${i}`, name: 'x', domain: 'x.com' })))).rejects.toMatchObject({ code: 'INVALID', crmCode: 'BATCH_TOO_LARGE' });
  });
});
