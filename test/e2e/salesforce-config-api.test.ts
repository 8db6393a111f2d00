// Salesforce connections and sync mappings through the API, against the sandbox: clear 4xx answers,
// validation against the org's real describe (fields, picklists, stages with IsClosed / IsWon, record
// types), a saved mapping in force, previews that write nothing.
import { registrationBody } from '../helpers/harness';
import { eventually } from './crm-e2e-kit';
import { connectSalesforce, oppsFor, startSalesforceE2E, type SalesforceE2E } from './salesforce-e2e-kit';

jest.setTimeout(60_000);

let e: SalesforceE2E;
let enterpriseRt: string;

const issuesOf = (r: { body: any }) => (r.body.error.details.issues as { path: string; message: string }[]).map((i) => `${i.path}: ${i.message}`).join('\n');

beforeAll(async () => {
  e = await startSalesforceE2E({ org: { recordTypes: { Opportunity: [{ developerName: 'New_Business', name: 'New Business', isDefault: true }, { developerName: 'Enterprise', name: 'Enterprise' }] } } });
});

afterAll(async () => {
  await e?.close();
});

describe('connections', () => {
  test('bad connection requests are refused with a code and nothing is stored', async () => {
    const cases: [unknown, number, string][] = [
      [{ accessToken: e.org.accessToken }, 422, 'VALIDATION_FAILED'], // no instanceUrl
      [{ instanceUrl: 'ftp://acme.example', accessToken: e.org.accessToken }, 422, 'VALIDATION_FAILED'],
      [{ instanceUrl: e.org.instanceUrl }, 422, 'VALIDATION_FAILED'], // no token at all
      [{ instanceUrl: e.org.instanceUrl, accessToken: e.org.accessToken, password: 'hunter2hunter2' }, 422, 'VALIDATION_FAILED'],
      [{ auth: 'jwt', username: 'not a username' }, 422, 'VALIDATION_FAILED'],
      [{ instanceUrl: e.org.instanceUrl, accessToken: `${e.org.orgId.slice(0, 15)}!not-a-real-session-token` }, 422, 'CRM_CREDENTIALS_REJECTED'],
    ];
    for (const [body, status, code] of cases) {
      const r = await e.h.api.post('/v1/connections/salesforce', e.ws.adminToken, body);
      expect({ body, status: r.status, code: r.body.error?.code }).toEqual({ body, status, code });
      expect(r.body.error.message.length).toBeGreaterThan(10);
    }
    expect(await e.h.prisma.crmConnection.count()).toBe(0);
  });

  test('only admins manage connections', async () => {
    for (const token of [e.ws.pmToken, e.ws.revopsToken, e.ws.partners[0]!.apiKey]) {
      const r = await e.h.api.post('/v1/connections/salesforce', token, { instanceUrl: e.org.instanceUrl, accessToken: e.org.accessToken });
      expect(r.status).toBe(403);
    }
  });

  test('the OAuth install answers 503 OAUTH_NOT_CONFIGURED without a connected app', async () => {
    const bare = await startSalesforceE2E({ harness: { crm: { salesforce: { clientId: undefined, clientSecret: undefined } } } });
    try {
      const r = await bare.h.api.request('GET', '/oauth/salesforce/install', { token: bare.ws.adminToken, headers: { accept: 'application/json' } });
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('OAUTH_NOT_CONFIGURED');
      expect(r.body.error.message).toMatch(/SALESFORCE_CLIENT_ID/);
    } finally {
      await bare.close();
    }
  });
});

describe('sync mappings', () => {
  beforeAll(async () => {
    await connectSalesforce(e);
  });

  test('with nothing saved, GET answers the defaults, checked against the org, with record types as pipelines', async () => {
    const r = await e.h.api.get('/v1/mappings/salesforce?refresh=true', e.ws.revopsToken);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ crm: 'salesforce', version: 0, isDefault: true, validation: { issues: [] } });
    expect(r.body.validation.checkedAgainst.externalAccountId).toBe(e.org.orgId);
    expect(r.body.mapping.stages).toMatchObject({ pipelineId: 'default', byStatus: { won: 'Closed Won', lost: 'Closed Lost' } });
    const pipelines = r.body.available.pipelines as { id: string; label: string; stages: { id: string; isClosed: boolean; isWon: boolean }[] }[];
    expect(pipelines.map((p) => p.label)).toEqual(expect.arrayContaining(['Enterprise', 'New Business']));
    expect(pipelines[0]!.id).toBe('default');
    enterpriseRt = pipelines.find((p) => p.label === 'Enterprise')!.id;
    expect(enterpriseRt).toMatch(/^012/);
    expect(pipelines[0]!.stages).toEqual(expect.arrayContaining([{ id: 'Closed Won', label: 'Closed Won', isClosed: true, isWon: true }]));
    expect(r.body.available.fields).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Dealreg_Registration_Id__c', type: 'string' })]));
  });

  test('a mapping that does not fit the org is refused with every problem named', async () => {
    const current = (await e.h.api.get('/v1/mappings/salesforce', e.ws.revopsToken)).body.mapping;
    const bad = {
      ...current,
      fields: [
        ...current.fields,
        { registrationField: 'notes', crmField: 'Descripton', direction: 'to_crm' },
        { registrationField: 'contact.email', crmField: 'IsWon', direction: 'to_crm' },
        { registrationField: 'protection.startsAt', crmField: 'Probability', direction: 'to_crm' },
      ],
      stages: { ...current.stages, onCreate: 'Closed Won', byStatus: { won: 'Qualification', lost: 'Closed Lost' } },
    };
    const r = await e.h.api.put('/v1/mappings/salesforce', e.ws.revopsToken, bad);
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('MAPPING_INVALID');
    const messages = issuesOf(r);
    expect(messages).toMatch(/no opportunity field "Descripton".*Description/);
    expect(messages).toMatch(/"IsWon" is read-only/);
    expect(messages).toMatch(/"Probability" is a number field/);
    expect(messages).toMatch(/stages.onCreate: .*closed stage/);
    expect(messages).toMatch(/stages.byStatus.won: .*not a closed-won stage/);
    const unknownPipeline = await e.h.api.put('/v1/mappings/salesforce', e.ws.revopsToken, { ...current, stages: { ...current.stages, pipelineId: '012000000000000XYZ' } });
    expect(unknownPipeline.status).toBe(422);
    expect(issuesOf(unknownPipeline)).toMatch(/stages.pipelineId: no pipeline .*Enterprise/);
    expect((await e.h.api.get('/v1/mappings/salesforce', e.ws.revopsToken)).body.version).toBe(0);
  });

  test('a status mapped to a picklist needs an option for every status (or a valueMap)', async () => {
    const current = (await e.h.api.get('/v1/mappings/salesforce', e.ws.revopsToken)).body.mapping;
    const r = await e.h.api.put('/v1/mappings/salesforce', e.ws.revopsToken, {
      ...current,
      fields: current.fields.map((f: { crmField: string }) => (f.crmField === 'Dealreg_Status__c' ? { ...f, valueMap: { approved: 'Approved!' } } : f)),
    });
    expect(r.status).toBe(422);
    expect(issuesOf(r)).toMatch(/Dealreg_Status__c" has no option for: Approved!/);
  });

  test('RevOps saves a mapping on a record type; new Opportunities get it and the mapped extra field', async () => {
    const current = (await e.h.api.get('/v1/mappings/salesforce', e.ws.revopsToken)).body.mapping;
    const next = {
      ...current,
      fields: [...current.fields, { registrationField: 'notes', crmField: 'Description', direction: 'to_crm', owner: 'crm' }],
      stages: { ...current.stages, pipelineId: enterpriseRt, onCreate: 'Qualification' },
    };
    expect((await e.h.api.put('/v1/mappings/salesforce', e.ws.pmToken, next)).status).toBe(403);
    const saved = await e.h.api.put('/v1/mappings/salesforce', e.ws.revopsToken, next);
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ version: 1, isDefault: false });
    const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody('mapped.com', 'Mapped', { notes: 'Met at the trade fair' }));
    const opp = await eventually('the opportunity', async () => (await oppsFor(e, reg.body.id))[0]);
    const [full] = await e.query<{ Description: string; StageName: string; RecordTypeId: string | null }>(`SELECT Description, StageName, RecordTypeId FROM Opportunity WHERE Id = '${opp.Id}'`);
    expect(full).toMatchObject({ Description: 'Met at the trade fair', StageName: 'Qualification', RecordTypeId: enterpriseRt });
  });

  test('a preview shows what a registration would write, and spends no write', async () => {
    const reg = await e.h.api.post('/v1/registrations', e.ws.partners[1]!.apiKey, registrationBody('preview-only.com', 'Preview Only'));
    const before = (await e.control<{ apiUsage: { used: number } }>('GET', `/_sandbox/orgs/${e.org.orgId}/stats`)).body.apiUsage.used;
    const r = await e.h.api.post('/v1/mappings/salesforce/preview', e.ws.revopsToken, { registrationId: reg.body.id });
    expect(r.status).toBe(200);
    expect(r.body.fields).toMatchObject({ Name: 'Preview Only (Contoso Referrals)', Dealreg_Registration_Id__c: reg.body.id, Dealreg_Status__c: 'approved' });
    const after = (await e.control<{ apiUsage: { used: number } }>('GET', `/_sandbox/orgs/${e.org.orgId}/stats`)).body.apiUsage.used;
    expect(after - before).toBeLessThanOrEqual(3); // a describe refresh at most, never a write
  });
});
