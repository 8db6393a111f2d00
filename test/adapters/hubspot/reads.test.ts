// Reads at the HTTP boundary: batch reads with their associations in one extra call, 207 partial reads,
// property history → who changed what, domains, paging, changed-since search, owners, describe.
import nock from 'nock';
import { adapterWith, APP_ID, companyBody, dealBody, hubspot } from './helpers';

const READ = '/crm/v3/objects/deals/batch/read';
const ASSOCIATIONS = '/crm/v4/associations/deals/companies/batch/read';

afterEach(() => nock.cleanAll());

const ids = (n: number, from = 30000000001) => Array.from({ length: n }, (_, i) => String(from + i));

function assocResult(dealId: string, companies: Array<[string, number[]]>) {
  return {
    from: { id: dealId },
    to: companies.map(([id, types]) => ({
      toObjectId: Number(id),
      associationTypes: types.map((t) => ({ category: 'HUBSPOT_DEFINED', typeId: t, label: t === 5 ? 'Primary' : null })),
    })),
  };
}

const noAssociations = (id: string) => ({
  status: 'error',
  category: 'OBJECT_NOT_FOUND',
  subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
  message: `No company is associated with deal ${id}.`,
  context: { fromObjectId: [id] },
  errors: [],
  links: {},
});

describe('readOpportunities', () => {
  it('reads 100 deals and ALL their companies in two calls; missing deals (207) are left out of the map', async () => {
    const { adapter, gate } = adapterWith();
    const { scope, requests } = hubspot();
    const wanted = ids(100);
    let readBody: { inputs: Array<{ id: string }>; properties: string[]; propertiesWithHistory: string[] } | undefined;
    let assocBody: { inputs: Array<{ id: string }> } | undefined;
    scope
      .post(READ, (b) => ((readBody = b), true))
      .reply(207, {
        status: 'COMPLETE',
        results: wanted.slice(0, 99).map((id) => dealBody(id, { dealreg_status: 'approved', closedate: '2026-03-31T00:00:00Z', hs_is_closed: 'true', hs_is_closed_won: 'true' })),
        numErrors: 1,
        errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some DEAL objects, they may be deleted or not exist. Check that ids are valid.', context: { ids: [wanted[99]] }, errors: [], links: {} }],
      })
      .post(ASSOCIATIONS, (b) => ((assocBody = b), true))
      .reply(207, {
        status: 'COMPLETE',
        results: wanted.slice(0, 98).map((id) => assocResult(id, [['20000000002', [341]], ['20000000001', [5, 341]]])),
        numErrors: 2,
        errors: [noAssociations(wanted[98]!), noAssociations(wanted[99]!)],
      });

    const map = await adapter.readOpportunities(wanted, ['dealreg_status']);

    expect(requests()).toBe(2);
    expect(gate.acquired).toEqual(['api', 'api']);
    expect(readBody!.inputs).toHaveLength(100);
    expect(readBody!.properties).toEqual(expect.arrayContaining(['dealname', 'amount', 'deal_currency_code', 'closedate', 'pipeline', 'dealstage', 'hubspot_owner_id', 'dealreg_registration_id', 'hs_lastmodifieddate', 'hs_is_closed', 'hs_is_closed_won', 'hs_merged_object_ids', 'dealreg_status']));
    expect(readBody!.propertiesWithHistory).toEqual([]); // > 50 ids: HubSpot refuses history
    expect(assocBody!.inputs).toEqual(wanted.map((id) => ({ id })));
    expect(map.size).toBe(99);
    expect(map.has(wanted[99]!)).toBe(false);
    expect(map.get(wanted[0]!)).toEqual({
      externalId: wanted[0],
      registrationId: `reg-${wanted[0]}`,
      name: `Deal ${wanted[0]}`,
      amount: 1000,
      currency: 'EUR',
      closeDate: '2026-03-31',
      pipelineId: 'default',
      stageId: 'appointmentscheduled',
      isClosed: true,
      isWon: true,
      ownerId: null,
      accountExternalIds: ['20000000001', '20000000002'], // primary first
      fields: { dealreg_status: 'approved' },
      updatedAt: '2026-11-20T10:00:00.000Z',
      mergedIds: [],
    });
    expect(map.get(wanted[98]!)!.accountExternalIds).toEqual([]);
  });

  it('up to 50 ids, the same call brings property history: who changed each field last', async () => {
    const { adapter } = adapterWith();
    let readBody: { propertiesWithHistory: string[] } | undefined;
    const entry = (value: string, timestamp: string, sourceType: string, sourceId?: string) => ({ value, timestamp, sourceType, ...(sourceId ? { sourceId } : {}) });
    hubspot()
      .scope.post(READ, (b) => ((readBody = b), true))
      .reply(200, {
        status: 'COMPLETE',
        results: [
          dealBody('30000000001', {}, {
            propertiesWithHistory: {
              dealreg_status: [entry('approved', '2026-11-20T10:00:00.000Z', 'INTEGRATION', APP_ID), entry('pending_review', '2026-11-19T10:00:00.000Z', 'INTEGRATION', APP_ID)],
              amount: [entry('1000', '2026-11-18T10:00:00.000Z', 'INTEGRATION', APP_ID), entry('1200', '2026-11-21T08:00:00.000Z', 'CRM_UI', 'userId:901')],
              closedate: [entry('2026-03-31T00:00:00Z', '2026-11-21T09:00:00.000Z', 'WORKFLOW', '12345')],
              dealname: [entry('x', '2026-11-21T09:00:00.000Z', 'INTEGRATION', '999')],
            },
          }),
        ],
      })
      .post(ASSOCIATIONS)
      .reply(200, { status: 'COMPLETE', results: [assocResult('30000000001', [['20000000001', [5]]])] });
    const map = await adapter.readOpportunities(['30000000001'], ['dealreg_status', 'amount', 'closedate', 'dealname']);
    expect(readBody!.propertiesWithHistory).toEqual(['dealreg_status', 'amount', 'closedate', 'dealname']);
    expect(map.get('30000000001')!.fieldChanges).toEqual({
      dealreg_status: { at: '2026-11-20T10:00:00.000Z', origin: { kind: 'self' } },
      amount: { at: '2026-11-21T08:00:00.000Z', origin: { kind: 'user', userId: '901' } },
      closedate: { at: '2026-11-21T09:00:00.000Z', origin: { kind: 'other', source: 'WORKFLOW:12345' } },
      dealname: { at: '2026-11-21T09:00:00.000Z', origin: { kind: 'other', source: 'INTEGRATION:999' } },
    });
  });

  it('a merged-away id answers with the surviving deal (and its companies, read in one more call)', async () => {
    const { adapter } = adapterWith();
    const { scope, requests } = hubspot();
    let second: unknown;
    scope
      .post(READ)
      .reply(200, { status: 'COMPLETE', results: [dealBody('30000000009', { hs_merged_object_ids: '30000000001' })] })
      .post(ASSOCIATIONS, (b: { inputs: Array<{ id: string }> }) => b.inputs[0]!.id === '30000000001')
      .reply(207, { status: 'COMPLETE', results: [], numErrors: 1, errors: [noAssociations('30000000001')] })
      .post(ASSOCIATIONS, (b) => ((second = b), true))
      .reply(200, { status: 'COMPLETE', results: [assocResult('30000000009', [['20000000003', [5]]])] });
    const map = await adapter.readOpportunities(['30000000001'], []);
    expect(requests()).toBe(3);
    expect(second).toEqual({ inputs: [{ id: '30000000009' }] });
    expect(map.get('30000000001')).toMatchObject({ externalId: '30000000009', mergedIds: ['30000000001'], accountExternalIds: ['20000000003'] });
  });

  it('no ids, no calls; 101 ids → INVALID', async () => {
    const { adapter, gate } = adapterWith();
    expect((await adapter.readOpportunities([], [])).size).toBe(0);
    await expect(adapter.readOpportunities(ids(101), [])).rejects.toMatchObject({ code: 'INVALID', crmCode: 'BATCH_TOO_LARGE' });
    expect(gate.acquired).toEqual([]);
  });
});

describe('accounts', () => {
  it('reads companies with every domain normalised to its registrable domain (invalid and free-mail ones dropped)', async () => {
    const { adapter } = adapterWith();
    let body: { properties: string[] } | undefined;
    hubspot()
      .scope.post('/crm/v3/objects/companies/batch/read', (b) => ((body = b), true))
      .reply(207, {
        status: 'COMPLETE',
        results: [
          companyBody('20000000001', {
            domain: 'www.Acme.com',
            website: 'https://eu.acme.com/contact',
            hs_additional_domains: 'acme.co.uk; gmail.com;not a domain;ACME.com',
            lifecyclestage: 'customer',
            hs_merged_object_ids: '20000000007;20000000008',
          }),
        ],
        numErrors: 1,
        errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some COMPANY objects', context: { ids: ['404'] } }],
      });
    const map = await adapter.readAccounts(['20000000001', '404']);
    expect(body!.properties).toEqual(['name', 'domain', 'website', 'hs_additional_domains', 'country', 'hubspot_owner_id', 'lifecyclestage', 'hs_lastmodifieddate', 'hs_merged_object_ids']);
    expect([...map.keys()]).toEqual(['20000000001']);
    expect(map.get('20000000001')).toEqual({
      externalId: '20000000001',
      name: 'Company 20000000001',
      domains: ['acme.com', 'acme.co.uk'],
      country: 'Germany',
      ownerId: '70000001',
      isCustomer: true,
      updatedAt: '2026-11-20T10:00:00.000Z',
      mergedIds: ['20000000007', '20000000008'],
    });
  });

  it('lists companies 100 a page with the after cursor', async () => {
    const { adapter } = adapterWith();
    const { scope } = hubspot();
    scope
      .get('/crm/v3/objects/companies')
      .query((q) => q.limit === '100' && q.after === undefined && Array.isArray(q.properties) && q.properties.includes('hs_additional_domains'))
      .reply(200, { results: [companyBody('20000000001')], paging: { next: { after: '20000000001', link: 'https://api.hubapi.test/crm/v3/objects/companies?after=20000000001' } } })
      .get('/crm/v3/objects/companies')
      .query((q) => q.after === '20000000001')
      .reply(200, { results: [companyBody('20000000002')] });
    const first = await adapter.listAccounts(null);
    expect(first.next).toBe('20000000001');
    const second = await adapter.listAccounts(first.next);
    expect(second).toMatchObject({ next: null, records: [{ externalId: '20000000002' }] });
    expect(scope.isDone()).toBe(true);
  });

  it('finds companies changed since a time with ONE search: GTE epoch ms, oldest first, newestAt from the last', async () => {
    const { adapter, gate } = adapterWith();
    let search: unknown;
    hubspot()
      .scope.post('/crm/v3/objects/companies/search', (b) => ((search = b), true))
      .reply(200, {
        total: 3,
        results: [companyBody('20000000001', { hs_lastmodifieddate: '2026-11-20T10:00:00.000Z' }), companyBody('20000000002', { hs_lastmodifieddate: '2026-11-20T11:00:00.000Z' })],
        paging: { next: { after: '2' } },
      });
    const page = await adapter.accountsChangedSince('2026-11-20T00:00:00.000Z', 2);
    expect(search).toEqual({
      filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: String(Date.parse('2026-11-20T00:00:00.000Z')) }] }],
      sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
      properties: ['name', 'domain', 'website', 'hs_additional_domains', 'country', 'hubspot_owner_id', 'lifecyclestage', 'hs_lastmodifieddate', 'hs_merged_object_ids'],
      limit: 2,
    });
    expect(page.records.map((r) => r.externalId)).toEqual(['20000000001', '20000000002']);
    expect(page).toMatchObject({ newestAt: '2026-11-20T11:00:00.000Z', more: true });
    expect(gate.acquired).toEqual(['search']);
  });

  it('changed-since refuses a limit above 200 and a since that is not a time, before calling', async () => {
    const { adapter, gate } = adapterWith();
    await expect(adapter.accountsChangedSince('2026-11-20T00:00:00.000Z', 201)).rejects.toMatchObject({ code: 'INVALID' });
    await expect(adapter.accountsChangedSince('yesterday', 10)).rejects.toMatchObject({ code: 'INVALID', crmCode: 'INVALID_CURSOR' });
    expect(gate.acquired).toEqual([]);
  });
});

describe('opportunities: list and changed since', () => {
  it('lists deals 100 a page with their companies from the same call (associations=companies)', async () => {
    const { adapter, gate } = adapterWith();
    hubspot()
      .scope.get('/crm/v3/objects/deals')
      .query((q) => q.limit === '100' && q.associations === 'companies' && Array.isArray(q.properties) && q.properties.includes('dealreg_status') && q.after === 'c1')
      .reply(200, {
        results: [
          dealBody('30000000001', {}, { associations: { companies: { results: [{ id: '20000000002', type: 'deal_to_company_unlabeled' }, { id: '20000000001', type: 'deal_to_company' }, { id: '20000000001', type: 'deal_to_company_unlabeled' }] } } }),
          dealBody('30000000002'),
        ],
      });
    const page = await adapter.listOpportunities('c1', ['dealreg_status']);
    expect(gate.acquired).toEqual(['api']);
    expect(page.next).toBeNull();
    expect(page.records.map((r) => r.accountExternalIds)).toEqual([['20000000001', '20000000002'], []]);
  });

  it('finds deals changed since a time: one search and one association read', async () => {
    const { adapter, gate } = adapterWith();
    const { scope, requests } = hubspot();
    scope
      .post('/crm/v3/objects/deals/search', (b: { limit: number; properties: string[] }) => b.limit === 200 && b.properties.includes('dealreg_status'))
      .reply(200, { total: 2, results: [dealBody('30000000001', { hs_lastmodifieddate: '2026-11-20T10:00:00.000Z' }), dealBody('30000000002', { hs_lastmodifieddate: '2026-11-20T12:00:00.000Z' })] })
      .post(ASSOCIATIONS, { inputs: [{ id: '30000000001' }, { id: '30000000002' }] })
      .reply(207, { status: 'COMPLETE', results: [assocResult('30000000002', [['20000000001', [5]]])], numErrors: 1, errors: [noAssociations('30000000001')] });
    const page = await adapter.opportunitiesChangedSince('2026-11-20T00:00:00.000Z', 200, ['dealreg_status']);
    expect(requests()).toBe(2);
    expect(gate.acquired).toEqual(['search', 'api']);
    expect(page).toMatchObject({ more: false, newestAt: '2026-11-20T12:00:00.000Z' });
    expect(page.records.map((r) => r.accountExternalIds)).toEqual([[], ['20000000001']]);
  });

  it('nothing changed: no association call, newestAt null', async () => {
    const { adapter, gate } = adapterWith();
    hubspot().scope.post('/crm/v3/objects/deals/search').reply(200, { total: 0, results: [] });
    expect(await adapter.opportunitiesChangedSince('2026-11-20T00:00:00.000Z', 10, [])).toEqual({ records: [], newestAt: null, more: false });
    expect(gate.acquired).toEqual(['search']);
  });
});

describe('owners and describe', () => {
  it('lists every owner across pages, with teams and the user id behind them', async () => {
    const { adapter } = adapterWith();
    const { scope } = hubspot();
    const owner = (id: string, userId: number, teams: Array<{ id: string; name: string; primary: boolean }>) => ({
      id, email: `o${id}@example.com`, type: 'PERSON', firstName: 'Ola', lastName: `Nr${id}`, userId, userIdIncludingInactive: userId, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', archived: false, teams,
    });
    scope
      .get('/crm/v3/owners/')
      .query({ limit: '100', archived: 'false' })
      .reply(200, { results: [owner('70000001', 901, [{ id: '9000001', name: 'Direct', primary: true }])], paging: { next: { after: '70000001' } } })
      .get('/crm/v3/owners/')
      .query({ limit: '100', archived: 'false', after: '70000001' })
      .reply(200, { results: [owner('70000002', 902, [])] });
    const owners = await adapter.listOwners();
    expect(owners).toEqual([
      { id: '70000001', name: 'Ola Nr70000001', email: 'o70000001@example.com', teamIds: ['9000001'], userId: '901' },
      { id: '70000002', name: 'Ola Nr70000002', email: 'o70000002@example.com', teamIds: [], userId: '902' },
    ]);
    expect(scope.isDone()).toBe(true);
  });

  it('describes deal fields (types, read-only, unique, options) and pipelines (closed / won from stage metadata) in two calls', async () => {
    const { adapter, gate } = adapterWith();
    const prop = (name: string, type: string, extra: Record<string, unknown> = {}) => ({
      name, label: name, type, fieldType: 'text', groupName: 'dealinformation', options: [], calculated: false, hasUniqueValue: false, hidden: false, hubspotDefined: true,
      modificationMetadata: { archivable: false, readOnlyDefinition: true, readOnlyValue: false }, archived: false, ...extra,
    });
    const stage = (id: string, order: number, isClosed: boolean, probability: string) => ({ id, label: id, displayOrder: order, metadata: { isClosed: String(isClosed), probability }, archived: false });
    hubspot()
      .scope.get('/crm/v3/properties/deals')
      .query({ archived: 'false' })
      .reply(200, {
        results: [
          prop('amount', 'number'),
          prop('closedate', 'datetime'),
          prop('dealreg_protection_end', 'date'),
          prop('hs_is_closed', 'bool', { calculated: true }),
          prop('hs_object_id', 'number', { modificationMetadata: { readOnlyValue: true } }),
          prop('dealreg_registration_id', 'string', { hasUniqueValue: true }),
          prop('dealreg_status', 'enumeration', { options: [{ label: 'Approved', value: 'approved', hidden: false }, { label: 'Old', value: 'old', hidden: true }] }),
          prop('phone', 'phone_number'),
        ],
      })
      .get('/crm/v3/pipelines/deals')
      .reply(200, {
        results: [
          { id: 'p2', label: 'Partner pipeline', displayOrder: 1, stages: [stage('s1', 0, false, '0.1')], archived: false },
          { id: 'default', label: 'Sales Pipeline', displayOrder: 0, stages: [stage('closedlost', 7, true, '0.0'), stage('closedwon', 6, true, '1.0'), stage('appointmentscheduled', 0, false, '0.2')], archived: false },
        ],
      });
    const d = await adapter.describe();
    expect(gate.acquired).toEqual(['api', 'api']);
    expect(Object.fromEntries(d.opportunityFields.map((f) => [f.name, [f.type, f.readOnly, f.unique]]))).toEqual({
      amount: ['number', false, false],
      closedate: ['datetime', false, false],
      dealreg_protection_end: ['date', false, false],
      hs_is_closed: ['boolean', true, false],
      hs_object_id: ['number', true, false],
      dealreg_registration_id: ['string', false, true],
      dealreg_status: ['enumeration', false, false],
      phone: ['string', false, false],
    });
    expect(d.opportunityFields.find((f) => f.name === 'dealreg_status')!.options).toEqual([{ value: 'approved', label: 'Approved' }]);
    expect(d.pipelines.map((p) => p.id)).toEqual(['default', 'p2']);
    expect(d.pipelines[0]!.stages).toEqual([
      { id: 'appointmentscheduled', label: 'appointmentscheduled', isClosed: false, isWon: false, order: 0 },
      { id: 'closedwon', label: 'closedwon', isClosed: true, isWon: true, order: 6 },
      { id: 'closedlost', label: 'closedlost', isClosed: true, isWon: false, order: 7 },
    ]);
  });
});
