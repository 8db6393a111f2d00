// dealreg against the Salesforce sandbox, end to end: connect, backfill the mirror, register →
// Opportunity (on the Account matched by Website, with the partner as OpportunityPartner), a rep's stage
// change → won through the change feed, field ownership both ways, no ping-pong, deletion, extension and
// expiry, disconnect.
import { registrationBody } from '../helpers/harness';
import { eventually } from './crm-e2e-kit';
import { connectSalesforce, oppsFor, seedOrg, startSalesforceE2E, type SalesforceE2E } from './salesforce-e2e-kit';

jest.setTimeout(60_000);

let e: SalesforceE2E;
let connectionId: string;
let repId: string;
let acmeId: string;
let partnerAccountId: string;

const apiUsed = async () => (await e.control<{ apiUsage: { used: number } }>('GET', `/_sandbox/orgs/${e.org.orgId}/stats`)).body.apiUsage.used;

beforeAll(async () => {
  e = await startSalesforceE2E();
  const seeded = await seedOrg(e, {
    users: [
      { _ref: 'rep', Username: `dana.direct@${e.org.orgId.toLowerCase()}.test`, LastName: 'Direct', FirstName: 'Dana', Email: 'dana.direct@corp.test', Alias: 'ddire', UserType: 'Standard' },
      { _ref: 'puser', Username: `pat.partner@${e.org.orgId.toLowerCase()}.test`, LastName: 'Partner', FirstName: 'Pat', Email: 'pat@northwind.test', Alias: 'ppart', UserType: 'PowerPartner' },
    ],
    accounts: [
      // Accounts owned by a partner community user: not direct sales, so open for registration.
      { _ref: 'acme', Name: 'Acme Inc.', Website: 'https://www.acme.com', OwnerId: { $ref: 'puser' } },
      { _ref: 'globex', Name: 'Globex', Website: 'globex.com', OwnerId: { $ref: 'rep' } },
      { _ref: 'umbrella', Name: 'Umbrella Corp', Website: 'http://umbrella.com/about', OwnerId: { $ref: 'puser' } },
      { _ref: 'northwind', Name: 'Northwind Resellers', Website: 'northwind.test', Type: 'Partner', OwnerId: { $ref: 'puser' } },
    ],
    opportunities: [{ Name: 'Umbrella renewal', StageName: 'Qualification', CloseDate: '2027-02-01', Amount: 120000, AccountId: { $ref: 'umbrella' } }],
  });
  repId = seeded.refs.rep!;
  acmeId = seeded.refs.acme!;
  partnerAccountId = seeded.refs.northwind!;
  // The registering partner's own account in Salesforce: its registrations get it as OpportunityPartner.
  const patched = await e.h.api.patch(`/v1/partners/${e.ws.partners[0]!.id}`, e.ws.adminToken, { crmRefs: { salesforceAccountId: partnerAccountId } });
  expect(patched.status).toBe(200);
  connectionId = (await connectSalesforce(e)).id;
});

afterAll(async () => {
  await e?.close();
});

test('connecting checks the deployed fields, and reconnecting the same org keeps the connection', async () => {
  const list = await e.h.api.get('/v1/connections', e.ws.adminToken);
  expect(list.body.data[0]).toMatchObject({ crm: 'salesforce', orgId: e.org.orgId, status: 'active', missingFields: [], backfill: { state: 'done', accounts: 4 } });
  const again = await e.h.api.post('/v1/connections/salesforce', e.ws.adminToken, { instanceUrl: e.org.instanceUrl, accessToken: e.org.accessToken, refreshToken: e.org.refreshToken });
  expect(again.status).toBe(201);
  expect(again.body.connection.id).toBe(connectionId);
  expect(again.body.schema.missing).toEqual([]);
  expect(JSON.stringify(again.body)).not.toContain(e.org.accessToken);
  await eventually('the second backfill', async () => (await e.h.api.get('/v1/connections', e.ws.adminToken)).body.data[0].backfill.state === 'done');
});

test('the backfill fills the mirror: a direct-owned account is blocked, an open opportunity needs review, a partner-owned one is available', async () => {
  const key = e.ws.partners[1]!.apiKey;
  const check = async (domain: string) => (await e.h.api.post('/v1/registrations/check', key, { company: { name: 'X', domain } })).body.availability;
  expect(await check('globex.com')).toBe('blocked');
  expect(await check('umbrella.com')).toBe('needs_review');
  expect(await check('acme.com')).toBe('available');
});

test('an approved registration becomes an Opportunity on the Account matched by Website, with the partner recorded as OpportunityPartner', async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody('https://www.acme.com', 'Acme Inc.', { amount: { value: 48000, currency: 'USD' }, expectedCloseDate: '2026-12-31' }));
  expect(reg.status).toBe(201);
  expect(reg.body.status).toBe('approved');
  const opp = await eventually('the opportunity', async () => (await oppsFor(e, reg.body.id))[0]);
  expect(opp).toMatchObject({
    Name: 'Acme Inc. (Northwind Resellers)',
    Amount: 48000,
    CloseDate: '2026-12-31',
    StageName: 'Prospecting',
    IsClosed: false,
    AccountId: acmeId,
    Dealreg_Status__c: 'approved',
    Dealreg_Partner__c: 'Northwind Resellers',
    Dealreg_Partner_Tier__c: 'gold',
    Dealreg_Verdict__c: 'approved: no conflicts',
    Dealreg_Protection_End__c: reg.body.protection.endsAt.slice(0, 10),
  });
  const partners = await eventually('the OpportunityPartner', async () => {
    const rows = await e.query<{ AccountToId: string; Role: string; IsPrimary: boolean }>(`SELECT AccountToId, Role, IsPrimary FROM OpportunityPartner WHERE OpportunityId = '${opp.Id}'`);
    return rows.length > 0 ? rows : undefined;
  });
  expect(partners).toEqual([expect.objectContaining({ AccountToId: partnerAccountId, Role: 'VAR/Reseller', IsPrimary: true })]);
  const read = await eventually('the opportunity id on the registration', async () => {
    const r = await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken);
    return r.body.crm?.salesforce?.opportunityId ? r : undefined;
  });
  expect(read.body.crm.salesforce.opportunityId).toBe(opp.Id);
});

test('a registration without a close date still gets an Opportunity (Salesforce requires one): the protection end', async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[1]!.apiKey, registrationBody('no-close-date.com', 'No Close Date'));
  const opp = await eventually('the opportunity', async () => (await oppsFor(e, reg.body.id))[0]);
  expect(opp.CloseDate).toBe(reg.body.protection.endsAt.slice(0, 10));
  // Contoso has no Salesforce account: no OpportunityPartner.
  expect(await e.query(`SELECT Id FROM OpportunityPartner WHERE OpportunityId = '${opp.Id}'`)).toEqual([]);
});

test('a sales rep moving the Opportunity to Closed Won makes the registration won, with the rep as the actor, and nothing ping-pongs', async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody('initrode.com', 'Initrode', { amount: { value: 10000, currency: 'USD' } }));
  const opp = await eventually('the opportunity', async () => (await oppsFor(e, reg.body.id))[0]);
  await eventually('the link to settle', async () => (await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken)).body.crm?.salesforce?.opportunityId);
  const moved = await e.asUser(repId, 'PATCH', `/sobjects/Opportunity/${opp.Id}`, { StageName: 'Closed Won', Amount: 12500 });
  expect(moved.status).toBe(204);
  const won = await eventually('the registration to be won', async () => {
    const r = await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken);
    return r.body.status === 'won' ? r : undefined;
  });
  expect(won.body.amount).toEqual({ value: 12500, currency: 'USD' }); // Amount is latest-wins: the rep's change flowed back
  const events = (await e.h.api.get(`/v1/registrations/${reg.body.id}/events`, e.ws.pmToken)).body.data as { type: string; actor: { type: string; id: string }; source: string; data: any }[];
  const wonEvent = events.find((x) => x.type === 'registration.won')!;
  expect(wonEvent.actor).toEqual({ type: 'crm_user', id: `salesforce:${repId}` });
  expect(wonEvent.source).toBe('crm:salesforce');
  expect(wonEvent.data).toMatchObject({ crm: 'salesforce', externalId: opp.Id, amount: 12500, stageId: 'Closed Won' });
  // dealreg writes its status back once ("won"); the change event of that write is its own and changes nothing.
  await eventually('Dealreg_Status__c won in Salesforce', async () => (await oppsFor(e, reg.body.id))[0]?.Dealreg_Status__c === 'won');
  await new Promise((r) => setTimeout(r, 1500));
  const before = await apiUsed();
  const eventsBefore = (await e.h.api.get(`/v1/registrations/${reg.body.id}/events`, e.ws.pmToken)).body.data.length;
  await new Promise((r) => setTimeout(r, 2000));
  // Quiet: the feed is not metered, and no write-read-write loop spends API calls.
  expect((await apiUsed()) - before).toBeLessThanOrEqual(1);
  expect((await e.h.api.get(`/v1/registrations/${reg.body.id}/events`, e.ws.pmToken)).body.data.length).toBe(eventsBefore);
  expect(events.filter((x) => x.type === 'registration.crm_updated')).toHaveLength(1);
  expect(events.filter((x) => x.type === 'registration.crm_owner_changed')).toHaveLength(0);
});

test('a rep taking over the opportunity is recorded as an owner change; the integration user owning what dealreg created is not', async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[1]!.apiKey, registrationBody('owner-change.com', 'Owner Change'));
  const opp = await eventually('the opportunity', async () => (await oppsFor(e, reg.body.id))[0]);
  expect(opp.OwnerId).toBe(e.org.integrationUserId);
  await eventually('the link', async () => (await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken)).body.crm?.salesforce?.opportunityId);
  expect((await e.asUser(repId, 'PATCH', `/sobjects/Opportunity/${opp.Id}`, { OwnerId: repId, NextStep: 'call the CFO' })).status).toBe(204);
  const changed = await eventually('the owner change in the ledger', async () => {
    const x = (await e.h.api.get(`/v1/registrations/${reg.body.id}/events`, e.ws.pmToken)).body.data as { type: string; actor: { id: string }; data: any }[];
    return x.filter((ev) => ev.type === 'registration.crm_owner_changed').length > 0 ? x : undefined;
  });
  const owner = changed.filter((ev) => ev.type === 'registration.crm_owner_changed');
  expect(owner).toHaveLength(1);
  expect(owner[0]!.data).toMatchObject({ crm: 'salesforce', from: e.org.integrationUserId, to: repId, toName: 'Dana Direct' });
  expect(owner[0]!.actor.id).toBe(`salesforce:${repId}`);
});

test('a rep editing a dealreg-owned field sees it put back; editing the CRM-owned close date changes the registration', async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[1]!.apiKey, registrationBody('vandelay.com', 'Vandelay Industries', { expectedCloseDate: '2027-01-15' }));
  const opp = await eventually('the opportunity', async () => (await oppsFor(e, reg.body.id))[0]);
  await eventually('the link', async () => (await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken)).body.crm?.salesforce?.opportunityId);
  expect((await e.asUser(repId, 'PATCH', `/sobjects/Opportunity/${opp.Id}`, { Dealreg_Partner__c: 'Someone Else', CloseDate: '2027-03-01' })).status).toBe(204);
  await eventually('the partner name restored', async () => (await oppsFor(e, reg.body.id))[0]?.Dealreg_Partner__c === 'Contoso Referrals');
  const r = await eventually('the close date to flow back', async () => {
    const x = await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken);
    return x.body.expectedCloseDate === '2027-03-01' ? x : undefined;
  });
  expect(r.body.status).toBe('approved');
  expect((await oppsFor(e, reg.body.id))[0]!.CloseDate).toBe('2027-03-01');
});

test('an account edited in Salesforce keeps the mirror fresh: a new owner from direct sales blocks the domain', async () => {
  const key = e.ws.partners[1]!.apiKey;
  const check = async () => (await e.h.api.post('/v1/registrations/check', key, { company: { name: 'X', domain: 'umbrella.com' } })).body.availability;
  const [umbrella] = await e.query<{ Id: string }>(`SELECT Id FROM Account WHERE Name = 'Umbrella Corp'`);
  expect((await e.asUser(repId, 'PATCH', `/sobjects/Account/${umbrella!.Id}`, { OwnerId: repId })).status).toBe(204);
  await eventually('the account owner change in the mirror', async () => (await check()) === 'blocked');
});

test('an Opportunity deleted by a rep unlinks the registration (said in the ledger) and dealreg does not recreate it', async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[1]!.apiKey, registrationBody('hooli-xyz.com', 'Hooli XYZ'));
  const opp = await eventually('the opportunity', async () => (await oppsFor(e, reg.body.id))[0]);
  await eventually('the link', async () => (await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken)).body.crm?.salesforce?.opportunityId);
  expect((await e.asUser(repId, 'DELETE', `/sobjects/Opportunity/${opp.Id}`)).status).toBe(204);
  const events = await eventually('the deletion in the ledger', async () => {
    const x = (await e.h.api.get(`/v1/registrations/${reg.body.id}/events`, e.ws.pmToken)).body.data as { type: string; actor: { id: string } }[];
    return x.find((ev) => ev.type === 'registration.crm_record_deleted') ? x : undefined;
  });
  expect(events.find((ev) => ev.type === 'registration.crm_record_deleted')!.actor.id).toBe(`salesforce:${repId}`);
  await e.h.api.post(`/v1/registrations/${reg.body.id}/withdraw`, e.ws.partners[1]!.apiKey, {});
  await new Promise((r) => setTimeout(r, 800));
  expect(await oppsFor(e, reg.body.id)).toHaveLength(0);
  const after = await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken);
  expect(after.body.status).toBe('withdrawn');
  expect(after.body.crm.salesforce).toBeUndefined();
});

test('an extension and an expiry update the Opportunity: protection end, then status', async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody('extend-me.com', 'Extend Me'));
  await eventually('the opportunity', async () => (await oppsFor(e, reg.body.id))[0]);
  e.h.clock.advanceDays(80);
  try {
    const ask = await e.h.api.post(`/v1/registrations/${reg.body.id}/extension-requests`, e.ws.partners[0]!.apiKey, { reason: 'procurement' });
    expect(ask.status).toBe(201);
    const ok = await e.h.api.post(`/v1/registrations/${reg.body.id}/extension-requests/${ask.body.id}/approve`, e.ws.pmToken, {});
    expect(ok.status).toBe(200);
    const newEnd = ok.body.registration.protection.endsAt.slice(0, 10);
    expect(newEnd).not.toBe(reg.body.protection.endsAt.slice(0, 10));
    await eventually('the new protection end in Salesforce', async () => (await oppsFor(e, reg.body.id))[0]?.Dealreg_Protection_End__c === newEnd);
    e.h.clock.advanceDays(60);
    const { runProtectionSweep } = await import('../../src/use-cases/registration-lifecycle');
    const swept = await runProtectionSweep(e.h.ctx);
    expect(swept.expired).toBeGreaterThanOrEqual(1);
    await eventually('expired in Salesforce', async () => (await oppsFor(e, reg.body.id))[0]?.Dealreg_Status__c === 'expired');
  } finally {
    e.h.clock.offsetMs = 0;
  }
});

test('the connection shows where its change feed stands', async () => {
  const list = await e.h.api.get('/v1/connections', e.ws.adminToken);
  const c = list.body.data.find((x: any) => x.id === connectionId);
  expect(c.health.changeFeed).toEqual({ replayId: expect.stringMatching(/^\d+$/), readAt: expect.any(String) });
  expect(c.health.pendingInboundEvents).toBe(0);
});

test('disconnecting stops the sync, revokes the refresh token, and forgets the credentials', async () => {
  const res = await e.h.api.delete(`/v1/connections/${connectionId}`, e.ws.adminToken);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ status: 'disconnected', revoked: true });
  const row = await e.h.prisma.crmConnection.findUniqueOrThrow({ where: { id: connectionId } });
  expect(row.accessTokenEnc).toBeNull();
  expect(row.refreshTokenEnc).toBeNull();
  // The refresh token no longer works at Salesforce.
  const refresh = await fetch(`${e.sandbox.baseUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: e.org.refreshToken, client_id: e.org.clientId, client_secret: e.org.clientSecret }),
  });
  expect(refresh.status).toBe(400);
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody('after-disconnect.com', 'After Disconnect'));
  expect(reg.body.status).toBe('approved');
  await new Promise((r) => setTimeout(r, 1500));
  expect(await oppsFor(e, reg.body.id)).toHaveLength(0);
});
