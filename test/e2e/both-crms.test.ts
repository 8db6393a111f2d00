// One workspace connected to HubSpot and Salesforce at once: a registration lands in both, and a
// change made in either CRM is reflected exactly once — in the registration and in the other CRM —
// without the two syncs echoing each other.
import { createHubspotSandbox, type HubspotSandbox } from '../../src/sandbox/hubspot';
import { createSalesforceSandbox, type SalesforceSandbox } from '../../src/sandbox/salesforce';
import { registrationBody, seedWorkspace, startHarness, type Harness } from '../helpers/harness';
import { APP_ID, CLIENT_ID, CLIENT_SECRET, eventually } from './crm-e2e-kit';
import { OPP_FIELDS, SF_API, SF_CLIENT_ID, SF_CLIENT_SECRET } from './salesforce-e2e-kit';

jest.setTimeout(90_000);

let hub: HubspotSandbox;
let sf: SalesforceSandbox;
let h: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let portal: { portalId: number; accessToken: string };
let org: { orgId: string; instanceUrl: string; accessToken: string; refreshToken: string; integrationUserId: string };
let sfViewer: string;

async function call<T = any>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const hsAsRep = (method: string, path: string, body?: unknown) => call(hub.baseUrl, method, path, body, { 'x-sandbox-actor': 'user:701', 'x-sandbox-portal-id': String(portal.portalId) });
const sfAsRep = (method: string, path: string, body?: unknown) => call(sf.baseUrl, method, `${SF_API}${path}`, body, { authorization: `Bearer ${sfViewer}`, 'x-sandbox-actor': `user:${org.integrationUserId}` });

async function deal(registrationId: string): Promise<{ id: string; properties: Record<string, string | null> } | undefined> {
  const r = await hsAsRep('POST', '/crm/v3/objects/deals/search', {
    filterGroups: [{ filters: [{ propertyName: 'dealreg_registration_id', operator: 'EQ', value: registrationId }] }],
    properties: ['amount', 'closedate', 'dealstage', 'dealreg_status'],
    limit: 10,
  });
  return r.body.results?.[0];
}

async function opp(registrationId: string): Promise<Record<string, any> | undefined> {
  const r = await sfAsRep('GET', `/query?q=${encodeURIComponent(`SELECT ${OPP_FIELDS} FROM Opportunity WHERE Dealreg_Registration_Id__c = '${registrationId}'`)}`);
  return r.body.records?.[0];
}

const ledger = async (id: string) => (await h.api.get(`/v1/registrations/${id}/events`, ws.pmToken)).body.data as { type: string; source: string; actor: { id: string }; data: any }[];

beforeAll(async () => {
  hub = createHubspotSandbox({ webhookDispatchIntervalMs: 25 });
  sf = createSalesforceSandbox();
  await hub.listen(0);
  await sf.listen(0);
  h = await startHarness({
    withJobs: true,
    realClock: true,
    outboxPollMs: 25,
    crm: {
      hubspot: { apiBaseUrl: hub.baseUrl, appBaseUrl: hub.baseUrl, appId: String(APP_ID), clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      salesforce: { loginUrl: sf.baseUrl, clientId: SF_CLIENT_ID, clientSecret: SF_CLIENT_SECRET, feedWaitMs: 0 },
      sweepMs: 300,
    },
  });
  const p = await call(hub.baseUrl, 'POST', '/_sandbox/portals', { appId: APP_ID, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, webhookTargetUrl: `${h.baseUrl}/webhooks/hubspot` });
  portal = p.body;
  await call(hub.baseUrl, 'POST', `/_sandbox/portals/${portal.portalId}/owners`, { owners: [{ email: 'dana.direct@corp.test', firstName: 'Dana', lastName: 'Direct', userId: 701 }] });
  const o = await call(sf.baseUrl, 'POST', '/_sandbox/orgs', { clientId: SF_CLIENT_ID, clientSecret: SF_CLIENT_SECRET });
  org = o.body;
  sfViewer = (await call(sf.baseUrl, 'POST', `/_sandbox/orgs/${org.orgId}/tokens`, { userId: org.integrationUserId })).body.accessToken;
  ws = await seedWorkspace(h, [{ name: 'Northwind Resellers', tier: 'gold' }]);
  const a = await h.api.post('/v1/connections/hubspot', ws.adminToken, { portalId: portal.portalId, accessToken: portal.accessToken });
  expect(a.status).toBe(201);
  const b = await h.api.post('/v1/connections/salesforce', ws.adminToken, { instanceUrl: org.instanceUrl, accessToken: org.accessToken, refreshToken: org.refreshToken });
  expect(b.status).toBe(201);
  await eventually('both backfills', async () => {
    const list = (await h.api.get('/v1/connections', ws.adminToken)).body.data as { backfill: { state: string } }[];
    return list.length === 2 && list.every((c) => c.backfill.state === 'done');
  });
});

afterAll(async () => {
  await h?.close();
  await hub?.close();
  await sf?.close();
});

test('a registration lands in both CRMs, and each CRM change is reflected once in the registration and in the other CRM', async () => {
  const reg = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, registrationBody('twocrm.com', 'Two CRM Ltd', { amount: { value: 20000, currency: 'USD' }, expectedCloseDate: '2027-01-31' }));
  expect(reg.body.status).toBe('approved');
  const d = await eventually('the HubSpot deal', () => deal(reg.body.id));
  const o = await eventually('the Salesforce opportunity', () => opp(reg.body.id));
  expect(d.properties.amount).toBe('20000');
  expect(o.Amount).toBe(20000);
  const linked = await eventually('both ids on the registration', async () => {
    const r = await h.api.get(`/v1/registrations/${reg.body.id}`, ws.pmToken);
    return r.body.crm?.hubspot?.dealId && r.body.crm?.salesforce?.opportunityId ? r : undefined;
  });
  expect(linked.body.crm).toEqual({ hubspot: { dealId: d.id }, salesforce: { opportunityId: o.Id } });

  // A HubSpot rep changes the amount (latest wins): the registration takes it, and dealreg writes it to Salesforce.
  expect((await hsAsRep('PATCH', `/crm/v3/objects/deals/${d.id}`, { properties: { amount: '25000' } })).status).toBe(200);
  await eventually('the HubSpot amount in Salesforce', async () => (await opp(reg.body.id))?.Amount === 25000);
  expect((await h.api.get(`/v1/registrations/${reg.body.id}`, ws.pmToken)).body.amount.value).toBe(25000);

  // A Salesforce rep changes it again: back through the registration into HubSpot.
  expect((await sfAsRep('PATCH', `/sobjects/Opportunity/${o.Id}`, { Amount: 31000 })).status).toBe(204);
  await eventually('the Salesforce amount in HubSpot', async () => (await deal(reg.body.id))?.properties.amount === '31000');
  expect((await h.api.get(`/v1/registrations/${reg.body.id}`, ws.pmToken)).body.amount.value).toBe(31000);

  // Settled: each CRM change is one crm_updated event, from its own CRM; nothing echoes afterwards.
  await new Promise((r) => setTimeout(r, 2000));
  const events = await ledger(reg.body.id);
  const updates = events.filter((x) => x.type === 'registration.crm_updated');
  expect(updates.map((x) => x.source).sort()).toEqual(['crm:hubspot', 'crm:salesforce']);
  await new Promise((r) => setTimeout(r, 1500));
  expect((await ledger(reg.body.id)).length).toBe(events.length);
  expect((await deal(reg.body.id))?.properties.amount).toBe('31000');
  expect((await opp(reg.body.id))?.Amount).toBe(31000);
});

test('a deal won in HubSpot makes the registration won, and the Salesforce opportunity shows it', async () => {
  const reg = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, registrationBody('won-in-hubspot.com', 'Won In HubSpot', { amount: { value: 9000, currency: 'USD' } }));
  const d = await eventually('the HubSpot deal', () => deal(reg.body.id));
  await eventually('the Salesforce opportunity', () => opp(reg.body.id));
  await eventually('both links', async () => {
    const r = await h.api.get(`/v1/registrations/${reg.body.id}`, ws.pmToken);
    return r.body.crm?.hubspot?.dealId && r.body.crm?.salesforce?.opportunityId;
  });
  expect((await hsAsRep('PATCH', `/crm/v3/objects/deals/${d.id}`, { properties: { dealstage: 'closedwon' } })).status).toBe(200);
  await eventually('the registration won', async () => (await h.api.get(`/v1/registrations/${reg.body.id}`, ws.pmToken)).body.status === 'won');
  // The mapping moves a won registration's opportunity to Closed Won.
  const o = await eventually('Closed Won in Salesforce', async () => {
    const x = await opp(reg.body.id);
    return x?.StageName === 'Closed Won' && x.Dealreg_Status__c === 'won' ? x : undefined;
  });
  expect(o.IsWon).toBe(true);
  await new Promise((r) => setTimeout(r, 1500));
  // Salesforce's own change event of that write came back to dealreg as an echo: the win is recorded once.
  expect((await ledger(reg.body.id)).filter((x) => x.type === 'registration.won')).toHaveLength(1);
});
