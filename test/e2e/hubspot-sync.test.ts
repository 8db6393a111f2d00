// dealreg against the HubSpot sandbox, end to end: connect, backfill the mirror, register → deal,
// a rep's stage change → won, field ownership both ways, no ping-pong, deletion.
import { registrationBody } from '../helpers/harness';
import { connect, dealsFor, eventually, startHubspotE2E, type HubspotE2E } from './crm-e2e-kit';

jest.setTimeout(60_000);

let e: HubspotE2E;
let connectionId: string;
let repOwnerId: string;
let acmeCompanyId: string;

beforeAll(async () => {
  e = await startHubspotE2E();
  const owners = await e.hs<{ results: { id: string }[] }>('POST', `/_sandbox/portals/${e.portal.portalId}/owners`, {
    owners: [{ email: 'dana.direct@corp.test', firstName: 'Dana', lastName: 'Direct', userId: 701 }],
  });
  repOwnerId = owners.body.results[0]!.id;
  const seeded = await e.hs<{ companies: string[] }>('POST', `/_sandbox/portals/${e.portal.portalId}/seed`, {
    companies: [
      { properties: { name: 'Acme Inc.', domain: 'acme.com' } },
      { properties: { name: 'Globex', domain: 'globex.com', hubspot_owner_id: repOwnerId } },
      { properties: { name: 'Umbrella Corp', domain: 'umbrella.com' } },
    ],
    deals: [{ properties: { dealname: 'Umbrella renewal', amount: '120000', dealstage: 'presentationscheduled' }, companies: ['#2'] }],
  });
  acmeCompanyId = seeded.body.companies[0]!;
  const c = await connect(e);
  connectionId = c.id;
});

afterAll(async () => {
  await e?.close();
});

test('connecting provisions the dealreg deal properties, and reconnecting the same portal creates nothing new', async () => {
  const props = await e.hs<{ results: { name: string; hasUniqueValue?: boolean }[] }>('GET', '/crm/v3/properties/deals', undefined, { authorization: `Bearer ${e.portal.accessToken}` });
  const byName = new Map(props.body.results.map((p) => [p.name, p]));
  expect(byName.get('dealreg_registration_id')?.hasUniqueValue).toBe(true);
  for (const n of ['dealreg_partner_name', 'dealreg_partner_tier', 'dealreg_status', 'dealreg_protection_end', 'dealreg_verdict_summary']) expect(byName.has(n)).toBe(true);
  const again = await e.h.api.post('/v1/connections/hubspot', e.ws.adminToken, { portalId: e.portal.portalId, accessToken: e.portal.accessToken });
  expect(again.status).toBe(201);
  expect(again.body.schema.created).toEqual([]);
  expect(again.body.connection.id).toBe(connectionId);
  // Reconnecting restarts the backfill; wait for it so later tests start from a settled mirror.
  await eventually('the second backfill', async () => (await e.h.api.get('/v1/connections', e.ws.adminToken)).body.data[0].backfill.state === 'done');
});

test('the backfill fills the mirror: a direct-owned company is blocked, an open deal needs review, an unowned one is available', async () => {
  const key = e.ws.partners[1]!.apiKey;
  const check = async (domain: string) => (await e.h.api.post('/v1/registrations/check', key, { company: { name: 'X', domain } })).body.availability;
  expect(await check('globex.com')).toBe('blocked');
  expect(await check('umbrella.com')).toBe('needs_review');
  expect(await check('acme.com')).toBe('available');
  const list = await e.h.api.get('/v1/connections', e.ws.adminToken);
  expect(list.body.data[0]).toMatchObject({ crm: 'hubspot', portalId: String(e.portal.portalId), status: 'active', backfill: { state: 'done', accounts: 3 } });
});

test('an approved registration becomes a deal with the mapped properties, in the default pipeline, on the company matched by domain', async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody('https://www.acme.com', 'Acme Inc.', { amount: { value: 48000, currency: 'usd' }, expectedCloseDate: '2026-12-31' }));
  expect(reg.status).toBe(201);
  expect(reg.body.status).toBe('approved');
  const deal = await eventually('the deal', async () => (await dealsFor(e, reg.body.id))[0]);
  expect(deal.properties).toMatchObject({
    dealname: 'Acme Inc. (Northwind Resellers)',
    amount: '48000',
    deal_currency_code: 'USD',
    pipeline: 'default',
    dealstage: 'appointmentscheduled',
    dealreg_status: 'approved',
    dealreg_partner_name: 'Northwind Resellers',
    dealreg_partner_tier: 'gold',
    dealreg_partner_type: 'reseller',
    dealreg_verdict_summary: 'approved: no conflicts',
  });
  expect(deal.properties.closedate?.slice(0, 10)).toBe('2026-12-31');
  expect(deal.properties.dealreg_protection_end).toBe(reg.body.protection.endsAt.slice(0, 10));
  const assoc = await e.hs<{ results: { toObjectId: string | number }[] }>('GET', `/crm/v4/objects/deals/${deal.id}/associations/companies`, undefined, { authorization: `Bearer ${e.portal.accessToken}` });
  expect(assoc.body.results.map((r) => String(r.toObjectId))).toContain(acmeCompanyId);
  const read = await eventually('the deal id on the registration', async () => {
    const r = await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken);
    return r.body.crm?.hubspot?.dealId ? r : undefined;
  });
  expect(read.body.crm.hubspot.dealId).toBe(deal.id);
});

test("a sales rep moving the deal to closed won makes the registration won, with the rep as the actor, and nothing ping-pongs", async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody('initrode.com', 'Initrode', { amount: { value: 10000, currency: 'EUR' } }));
  const deal = await eventually('the deal', async () => (await dealsFor(e, reg.body.id))[0]);
  await eventually('the link to settle', async () => (await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken)).body.crm?.hubspot?.dealId);
  const moved = await e.asRep(701, 'PATCH', `/crm/v3/objects/deals/${deal.id}`, { properties: { dealstage: 'closedwon', amount: '12500' } });
  expect(moved.status).toBe(200);
  const won = await eventually('the registration to be won', async () => {
    const r = await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken);
    return r.body.status === 'won' ? r : undefined;
  });
  expect(won.body.amount).toEqual({ value: 12500, currency: 'EUR' }); // amount is latest-wins: the rep's change flowed back
  const events = (await e.h.api.get(`/v1/registrations/${reg.body.id}/events`, e.ws.pmToken)).body.data as { type: string; actor: { type: string; id: string }; source: string; data: any }[];
  const wonEvent = events.find((x) => x.type === 'registration.won')!;
  expect(wonEvent.actor).toEqual({ type: 'crm_user', id: 'hubspot:701' });
  expect(wonEvent.source).toBe('crm:hubspot');
  expect(wonEvent.data).toMatchObject({ crm: 'hubspot', externalId: deal.id, amount: 12500, attribution: { partners: [{ partnerId: e.ws.partners[0]!.id, percent: 100, amount: 12500 }] } });
  // dealreg writes its status back once ("won"), and the echo of that write changes nothing.
  await eventually('dealreg_status won in HubSpot', async () => (await dealsFor(e, reg.body.id))[0]?.properties.dealreg_status === 'won');
  await e.hs('POST', `/_sandbox/portals/${e.portal.portalId}/webhooks/flush`, {});
  await new Promise((r) => setTimeout(r, 1000));
  const before = (await e.hs<{ requests: number }>('GET', `/_sandbox/portals/${e.portal.portalId}/stats`)).body.requests;
  const eventsBefore = events.length + 1;
  await new Promise((r) => setTimeout(r, 1500));
  const after = (await e.hs<{ requests: number }>('GET', `/_sandbox/portals/${e.portal.portalId}/stats`)).body.requests;
  expect(after - before).toBeLessThanOrEqual(1); // quiet: no write-read-write loop
  const eventsAfter = (await e.h.api.get(`/v1/registrations/${reg.body.id}/events`, e.ws.pmToken)).body.data.length;
  expect(eventsAfter).toBeLessThanOrEqual(eventsBefore);
  expect(events.filter((x) => x.type === 'registration.crm_updated')).toHaveLength(1);
});

test('a rep editing a dealreg-owned property sees it put back; editing the CRM-owned close date changes the registration', async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[1]!.apiKey, registrationBody('vandelay.com', 'Vandelay Industries', { expectedCloseDate: '2027-01-15' }));
  const deal = await eventually('the deal', async () => (await dealsFor(e, reg.body.id))[0]);
  await eventually('the link', async () => (await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken)).body.crm?.hubspot?.dealId);
  await e.asRep(701, 'PATCH', `/crm/v3/objects/deals/${deal.id}`, { properties: { dealreg_partner_name: 'Someone Else', closedate: '2027-03-01T00:00:00.000Z' } });
  await eventually('the partner name restored', async () => (await dealsFor(e, reg.body.id))[0]?.properties.dealreg_partner_name === 'Contoso Referrals');
  const r = await eventually('the close date to flow back', async () => {
    const x = await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken);
    return x.body.expectedCloseDate === '2027-03-01' ? x : undefined;
  });
  expect(r.body.status).toBe('approved');
  // The close date is the rep's: dealreg did not write its own value back.
  expect((await dealsFor(e, reg.body.id))[0]!.properties.closedate?.slice(0, 10)).toBe('2027-03-01');
});

test('a deal deleted by a rep unlinks the registration (said in the ledger) and dealreg does not recreate it', async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[1]!.apiKey, registrationBody('hooli-xyz.com', 'Hooli XYZ'));
  const deal = await eventually('the deal', async () => (await dealsFor(e, reg.body.id))[0]);
  await eventually('the link', async () => (await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken)).body.crm?.hubspot?.dealId);
  expect((await e.asRep(701, 'DELETE', `/crm/v3/objects/deals/${deal.id}`)).status).toBe(204);
  const events = await eventually('the deletion in the ledger', async () => {
    const x = (await e.h.api.get(`/v1/registrations/${reg.body.id}/events`, e.ws.pmToken)).body.data as { type: string; actor: { id: string } }[];
    return x.find((ev) => ev.type === 'registration.crm_record_deleted') ? x : undefined;
  });
  expect(events.find((ev) => ev.type === 'registration.crm_record_deleted')!.actor.id).toBe('hubspot:701');
  // A later change to the registration (a withdrawal) does not bring the deal back.
  await e.h.api.post(`/v1/registrations/${reg.body.id}/withdraw`, e.ws.partners[1]!.apiKey, {});
  await new Promise((r) => setTimeout(r, 800));
  expect(await dealsFor(e, reg.body.id)).toHaveLength(0);
  const after = await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken);
  expect(after.body.status).toBe('withdrawn');
  expect(after.body.crm.hubspot).toBeUndefined();
});

test('a forged webhook is refused with 401 and stores nothing', async () => {
  const before = await e.h.prisma.inboxEvent.count();
  const body = JSON.stringify([{ eventId: 99, subscriptionId: 1, portalId: e.portal.portalId, appId: 1, occurredAt: Date.now(), subscriptionType: 'deal.propertyChange', attemptNumber: 0, objectId: 1, propertyName: 'dealstage', propertyValue: 'closedwon', changeSource: 'CRM_UI', sourceId: 'userId:1' }]);
  const res = await e.h.api.request('POST', '/webhooks/hubspot', { rawBody: body, headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': 'Zm9yZ2Vk', 'x-hubspot-request-timestamp': String(Date.now()) } });
  expect(res.status).toBe(401);
  expect(res.body.error.code).toBe('INVALID_SIGNATURE');
  expect(await e.h.prisma.inboxEvent.count()).toBe(before);
});

test('an extension and an expiry update the deal: protection end, then status', async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody('extend-me.com', 'Extend Me'));
  await eventually('the deal', async () => (await dealsFor(e, reg.body.id))[0]);
  // 80 days later the registration is inside the extension window (the last 30 of its 90 days).
  e.h.clock.advanceDays(80);
  try {
    const ask = await e.h.api.post(`/v1/registrations/${reg.body.id}/extension-requests`, e.ws.partners[0]!.apiKey, { reason: 'procurement' });
    expect(ask.status).toBe(201);
    const ok = await e.h.api.post(`/v1/registrations/${reg.body.id}/extension-requests/${ask.body.id}/approve`, e.ws.pmToken, {});
    expect(ok.status).toBe(200);
    const newEnd = ok.body.registration.protection.endsAt.slice(0, 10);
    expect(newEnd).not.toBe(reg.body.protection.endsAt.slice(0, 10));
    await eventually('the new protection end in HubSpot', async () => (await dealsFor(e, reg.body.id))[0]?.properties.dealreg_protection_end === newEnd);
    e.h.clock.advanceDays(60);
    const { runProtectionSweep } = await import('../../src/use-cases/registration-lifecycle');
    const swept = await runProtectionSweep(e.h.ctx);
    expect(swept.expired).toBeGreaterThanOrEqual(1);
    await eventually('expired in HubSpot', async () => (await dealsFor(e, reg.body.id))[0]?.properties.dealreg_status === 'expired');
  } finally {
    e.h.clock.offsetMs = 0;
  }
});

test('two deals merged in HubSpot: the registration follows the surviving deal', async () => {
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[1]!.apiKey, registrationBody('merge-me.com', 'Merge Me'));
  const ours = await eventually('the deal', async () => (await dealsFor(e, reg.body.id))[0]);
  await eventually('the link', async () => (await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken)).body.crm?.hubspot?.dealId);
  const other = await e.asRep(701, 'POST', '/crm/v3/objects/deals', { properties: { dealname: 'Merge Me (from the rep)', dealstage: 'qualifiedtobuy' } });
  expect(other.status).toBe(201);
  const merged = await e.asRep(701, 'POST', '/crm/v3/objects/deals/merge', { primaryObjectId: other.body.id, objectIdToMerge: ours.id });
  expect(merged.status).toBe(200);
  const followed = await eventually('the registration to follow the survivor', async () => {
    const r = await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken);
    return r.body.crm?.hubspot?.dealId === other.body.id ? r : undefined;
  });
  expect(followed.body.status).toBe('approved');
  const events = (await e.h.api.get(`/v1/registrations/${reg.body.id}/events`, e.ws.pmToken)).body.data as { type: string; data: any }[];
  expect(events.find((x) => x.type === 'registration.crm_record_merged')?.data).toMatchObject({ from: ours.id, into: other.body.id, followed: true });
});

test('disconnecting stops the sync, revokes nothing it does not have, and forgets the token', async () => {
  const res = await e.h.api.delete(`/v1/connections/${connectionId}`, e.ws.adminToken);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ status: 'disconnected' });
  const row = await e.h.prisma.crmConnection.findUniqueOrThrow({ where: { id: connectionId } });
  expect(row.accessTokenEnc).toBeNull();
  const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody('after-disconnect.com', 'After Disconnect'));
  expect(reg.body.status).toBe('approved');
  await new Promise((r) => setTimeout(r, 1500));
  expect(await dealsFor(e, reg.body.id)).toHaveLength(0);
  expect((await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken)).body.crm).toEqual({});
  const events = await e.h.prisma.ledgerEvent.findMany({ where: { type: 'connection.disconnected' } });
  expect(events).toHaveLength(1);
});
