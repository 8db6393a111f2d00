// Properties and groups, owners and deal pipelines through the real SDK.
import type { Client } from '@hubspot/api-client';
import { apiError, startSandbox, type Harness } from './harness';

let h: Harness;
let hs: Client;
let portalId: number;

beforeAll(async () => {
  h = await startSandbox();
  const p = await h.createPortal();
  portalId = p.portalId;
  hs = h.client(p.accessToken);
});
afterAll(() => h.close());

describe('properties', () => {
  it('lists the standard deal and company properties dealreg relies on', async () => {
    const deals = (await hs.crm.properties.coreApi.getAll('deals')).results.map((p) => p.name);
    expect(deals).toEqual(expect.arrayContaining(['dealname', 'amount', 'closedate', 'dealstage', 'pipeline', 'hubspot_owner_id', 'createdate', 'hs_lastmodifieddate', 'hs_object_id']));
    const companies = (await hs.crm.properties.coreApi.getAll('companies')).results.map((p) => p.name);
    expect(companies).toEqual(expect.arrayContaining(['name', 'domain', 'hs_additional_domains', 'lifecyclestage', 'country', 'hubspot_owner_id']));
  });

  it('reads one property; dealstage options are the live pipeline stages', async () => {
    const stage = await hs.crm.properties.coreApi.getByName('deals', 'dealstage');
    expect(stage).toMatchObject({ name: 'dealstage', type: 'enumeration', hubspotDefined: true, hasUniqueValue: false });
    expect(stage.options.map((o) => o.value)).toEqual(expect.arrayContaining(['appointmentscheduled', 'closedwon', 'closedlost']));
    const missing = await apiError(hs.crm.properties.coreApi.getByName('deals', 'no_such_thing'));
    expect(missing.code).toBe(404);
  });

  it('creates a custom property (201) and answers a duplicate name with 409 OBJECT_ALREADY_EXISTS', async () => {
    const input = { name: 'partner_id', label: 'Partner id', type: 'string' as never, fieldType: 'text' as never, groupName: 'dealinformation' };
    const created = await hs.crm.properties.coreApi.create('deals', input);
    expect(created).toMatchObject({ name: 'partner_id', hubspotDefined: false, hasUniqueValue: false });
    const dup = await apiError(hs.crm.properties.coreApi.create('deals', input));
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({ status: 'error', category: 'OBJECT_ALREADY_EXISTS', message: "Property named 'partner_id' already exists." });
    const stdDup = await apiError(hs.crm.properties.coreApi.create('companies', { ...input, name: 'domain', groupName: 'companyinformation' }));
    expect(stdDup.code).toBe(409);
  });

  it('validates new properties: group must exist, enumerations need options', async () => {
    const noGroup = await apiError(hs.crm.properties.coreApi.create('deals', { name: 'x1', label: 'x', type: 'string' as never, fieldType: 'text' as never, groupName: 'nope' }));
    expect(noGroup.code).toBe(400);
    const noOptions = await apiError(hs.crm.properties.coreApi.create('deals', { name: 'x2', label: 'x', type: 'enumeration' as never, fieldType: 'select' as never, groupName: 'dealinformation' }));
    expect(noOptions.code).toBe(400);
  });

  it('enforces a custom enumeration property’s options on writes', async () => {
    await hs.crm.properties.coreApi.create('deals', {
      name: 'partner_tier', label: 'Partner tier', type: 'enumeration' as never, fieldType: 'select' as never, groupName: 'dealinformation',
      options: [{ label: 'Gold', value: 'gold', hidden: false, displayOrder: 0 }, { label: 'Silver', value: 'silver', hidden: false, displayOrder: 1 }],
    });
    const ok = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Tiered', partner_tier: 'gold' }, associations: [] });
    expect(ok.properties.partner_tier).toBe('gold');
    const bad = await apiError(hs.crm.deals.basicApi.create({ properties: { dealname: 'Tiered', partner_tier: 'bronze' }, associations: [] }));
    expect(String(bad.body.message)).toContain('INVALID_OPTION');
  });

  it('starts enforcing unique values once a hasUniqueValue property exists, and refuses changing hasUniqueValue later', async () => {
    const prop = await hs.crm.properties.coreApi.create('companies', { name: 'external_key', label: 'External key', type: 'string' as never, fieldType: 'text' as never, groupName: 'companyinformation', hasUniqueValue: true });
    expect(prop.hasUniqueValue).toBe(true);
    await hs.crm.companies.basicApi.create({ properties: { name: 'K1', external_key: 'k' }, associations: [] });
    expect((await apiError(hs.crm.companies.basicApi.create({ properties: { name: 'K2', external_key: 'k' }, associations: [] }))).code).toBe(400);
    // the SDK's PropertyUpdate model has no hasUniqueValue; its raw request sends it anyway
    const change = await hs.apiRequest({ method: 'PATCH', path: '/crm/v3/properties/companies/external_key', body: { hasUniqueValue: false } });
    expect(change.status).toBe(400);
  });

  it('updates and archives a custom property; HubSpot-defined ones cannot be archived', async () => {
    await hs.crm.properties.coreApi.create('deals', { name: 'temp_prop', label: 'Temp', type: 'string' as never, fieldType: 'text' as never, groupName: 'dealinformation' });
    const updated = await hs.crm.properties.coreApi.update('deals', 'temp_prop', { label: 'Temporary' });
    expect(updated.label).toBe('Temporary');
    await hs.crm.properties.coreApi.archive('deals', 'temp_prop');
    expect((await apiError(hs.crm.properties.coreApi.getByName('deals', 'temp_prop'))).code).toBe(404);
    expect((await hs.crm.properties.coreApi.getByName('deals', 'temp_prop', true)).archived).toBe(true);
    expect((await apiError(hs.crm.properties.coreApi.archive('deals', 'dealname'))).code).toBe(400);
  });

  it('batch-reads properties by name', async () => {
    const res = await hs.crm.properties.batchApi.read('deals', { archived: false, inputs: [{ name: 'dealname' }, { name: 'amount' }, { name: 'missing' }] });
    expect(res.results.map((p) => p.name).sort()).toEqual(['amount', 'dealname']);
  });

  it('batch-creates properties: created ones in results, a duplicate as a 207 error', async () => {
    const res = await hs.crm.properties.batchApi.create('companies', {
      inputs: [
        { name: 'partner_status', label: 'Partner status', type: 'string' as never, fieldType: 'text' as never, groupName: 'companyinformation' },
        { name: 'domain', label: 'Domain again', type: 'string' as never, fieldType: 'text' as never, groupName: 'companyinformation' },
      ],
    });
    expect(res.results.map((p) => p.name)).toEqual(['partner_status']);
    expect((res as unknown as { errors: Array<{ category: string }> }).errors[0]!.category).toBe('OBJECT_ALREADY_EXISTS');
    await hs.crm.properties.batchApi.archive('companies', { inputs: [{ name: 'partner_status' }] });
    expect((await apiError(hs.crm.properties.coreApi.getByName('companies', 'partner_status'))).code).toBe(404);
  });

  it('lists, creates (409 on duplicate) and reads property groups', async () => {
    const groups = (await hs.crm.properties.groupsApi.getAll('deals')).results.map((g) => g.name);
    expect(groups).toContain('dealinformation');
    const created = await hs.crm.properties.groupsApi.create('deals', { name: 'dealreg', label: 'dealreg' });
    expect(created).toMatchObject({ name: 'dealreg', label: 'dealreg', archived: false });
    expect((await apiError(hs.crm.properties.groupsApi.create('deals', { name: 'dealreg', label: 'again' }))).code).toBe(409);
    expect((await hs.crm.properties.groupsApi.getByName('deals', 'dealreg')).label).toBe('dealreg');
    expect((await hs.crm.properties.groupsApi.update('deals', 'dealreg', { label: 'dealreg fields' })).label).toBe('dealreg fields');
    await hs.crm.properties.groupsApi.archive('deals', 'dealreg');
    expect((await apiError(hs.crm.properties.groupsApi.getByName('deals', 'dealreg'))).code).toBe(404);
  });
});

describe('owners', () => {
  it('lists owners with their teams, filters by email and reads one by id or userId', async () => {
    const seeded = await h.control<{ results: Array<{ id: string }> }>('POST', `/_sandbox/portals/${portalId}/owners`, {
      owners: [
        { email: 'direct@example.com', firstName: 'Dana', lastName: 'Direct', userId: 111, teams: [{ name: 'Direct Sales' }] },
        { email: 'partner.manager@example.com', firstName: 'Pat', lastName: 'Partner', userId: 222, teams: [{ name: 'Partner Team' }, { name: 'EMEA', primary: false }] },
      ],
    });
    expect(seeded.status).toBe(201);
    const all = await hs.crm.owners.ownersApi.getPage();
    expect(all.results.map((o) => o.email)).toEqual(['direct@example.com', 'partner.manager@example.com']);
    const pat = (await hs.crm.owners.ownersApi.getPage('partner.manager@example.com')).results[0]!;
    expect(pat).toMatchObject({ firstName: 'Pat', lastName: 'Partner', userId: 222, type: 'PERSON', archived: false });
    expect(pat.teams!.map((t) => [t.name, t.primary])).toEqual([['Partner Team', true], ['EMEA', false]]);
    const byId = await hs.crm.owners.ownersApi.getById(Number(pat.id));
    expect(byId.email).toBe('partner.manager@example.com');
    const byUser = await hs.crm.owners.ownersApi.getById(111, 'userId');
    expect(byUser.email).toBe('direct@example.com');
    expect((await apiError(hs.crm.owners.ownersApi.getById(1))).code).toBe(404);
  });

  it('pages owners with `after`', async () => {
    const page = await hs.crm.owners.ownersApi.getPage(undefined, undefined, 1);
    expect(page.results).toHaveLength(1);
    const next = await hs.crm.owners.ownersApi.getPage(undefined, page.paging!.next!.after, 1);
    expect(next.results[0]!.id).not.toBe(page.results[0]!.id);
  });
});

describe('deal pipelines', () => {
  it('serves the default pipeline with HubSpot’s default stages, probabilities and closed flags', async () => {
    const all = await hs.crm.pipelines.pipelinesApi.getAll('deals');
    const pipeline = all.results.find((p) => p.id === 'default')!;
    expect(pipeline.label).toBe('Sales Pipeline');
    expect(pipeline.stages.map((s) => [s.id, s.metadata?.probability, s.metadata?.isClosed])).toEqual([
      ['appointmentscheduled', '0.2', 'false'],
      ['qualifiedtobuy', '0.4', 'false'],
      ['presentationscheduled', '0.6', 'false'],
      ['decisionmakerboughtin', '0.8', 'false'],
      ['contractsent', '0.9', 'false'],
      ['closedwon', '1.0', 'true'],
      ['closedlost', '0.0', 'true'],
    ]);
    const one = await hs.crm.pipelines.pipelinesApi.getById('deals', 'default');
    expect(one.stages).toHaveLength(7);
    const stage = await hs.crm.pipelines.pipelineStagesApi.getById('deals', 'default', 'closedwon');
    expect(stage.label).toBe('Closed Won');
    expect((await hs.crm.pipelines.pipelineStagesApi.getAll('deals', 'default')).results).toHaveLength(7);
    expect((await apiError(hs.crm.pipelines.pipelinesApi.getById('deals', 'nope'))).code).toBe(404);
  });

  it('creates a pipeline whose stages deals can then use', async () => {
    const created = await hs.crm.pipelines.pipelinesApi.create('deals', {
      label: 'Partner pipeline', displayOrder: 1,
      stages: [
        { label: 'Registered', displayOrder: 0, metadata: { probability: '0.1' } },
        { label: 'Won', displayOrder: 1, metadata: { probability: '1.0', isClosed: 'true' } },
      ],
    });
    expect(created.id).toMatch(/^\d+$/);
    const won = created.stages.find((s) => s.label === 'Won')!;
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Partner deal', pipeline: created.id, dealstage: won.id }, associations: [] });
    expect(deal.properties).toMatchObject({ hs_is_closed_won: 'true' });
    const wrongPipeline = await apiError(hs.crm.deals.basicApi.create({ properties: { dealname: 'x', pipeline: created.id, dealstage: 'closedwon' }, associations: [] }));
    expect(wrongPipeline.code).toBe(400);
  });

  it('has no pipelines for companies', async () => {
    expect((await apiError(hs.crm.pipelines.pipelinesApi.getAll('companies'))).code).toBe(400);
  });
});
