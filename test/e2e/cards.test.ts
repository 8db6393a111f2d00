// The CRM cards end to end, against the HubSpot and Salesforce sandboxes: dealreg synced with each CRM
// (pending registrations get a deal / Opportunity: createWhen "submitted"), the card endpoints called the
// way hubspot.fetch and the Apex controller call them, and the card's approval travelling back to the CRM.
import { createHmac } from 'node:crypto';
import { registrationBody, type ApiResponse } from '../helpers/harness';
import { CLIENT_SECRET, connect, dealsFor, eventually, startHubspotE2E, type HubspotE2E } from './crm-e2e-kit';
import { connectSalesforce, oppsFor, seedOrg, startSalesforceE2E, type SalesforceE2E } from './salesforce-e2e-kit';

jest.setTimeout(90_000);

type Events = { type: string; actor: { type: string; id: string }; source: string; data: Record<string, unknown> }[];

/** Pending registrations get a CRM record too, so their card can approve them. */
async function createWhenSubmitted(api: HubspotE2E['h']['api'], crm: 'hubspot' | 'salesforce', revopsToken: string): Promise<void> {
  const current = (await api.get(`/v1/mappings/${crm}`, revopsToken)).body.mapping;
  const saved = await api.put(`/v1/mappings/${crm}`, revopsToken, { ...current, createWhen: 'submitted' });
  if (saved.status !== 200) throw new Error(`mapping: ${saved.status} ${JSON.stringify(saved.body)}`);
}

describe('HubSpot app card (hubspot.fetch, signature v3)', () => {
  let e: HubspotE2E;
  let seededDealId: string;

  /** hubspot.fetch: the user and portal appended to the query, the request signed with the app's client secret. */
  const card = async (method: 'GET' | 'POST', path: string, o: { user?: number; body?: unknown; signature?: string | null } = {}): Promise<ApiResponse> => {
    const sep = path.includes('?') ? '&' : '?';
    const full = `${path}${sep}userId=${o.user ?? 701}&userEmail=user${o.user ?? 701}@corp.test&portalId=${e.portal.portalId}&appId=3000777`;
    const raw = o.body === undefined ? '' : JSON.stringify(o.body);
    const timestamp = String(Date.now());
    const signature = o.signature === undefined ? createHmac('sha256', CLIENT_SECRET).update(`${method}${e.h.baseUrl}${full}${raw}${timestamp}`).digest('base64') : o.signature;
    return e.h.api.request(method, full, {
      ...(raw ? { rawBody: raw } : {}),
      headers: { ...(raw ? { 'content-type': 'application/json' } : {}), ...(signature === null ? {} : { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp }) },
    });
  };

  /** A partner registers a company with an open deal: pending review, and (createWhen submitted) a deal of its own. */
  const pendingWithDeal = async (domain: string, name: string): Promise<{ id: string; dealId: string }> => {
    const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody(domain, name, { amount: { value: 48000, currency: 'USD' } }));
    expect(reg.status).toBe(201);
    expect(reg.body.status).toBe('pending_review');
    const dealId = await eventually('the deal id on the registration', async () => (await e.h.api.get(`/v1/registrations/${reg.body.id}`, e.ws.pmToken)).body.crm?.hubspot?.dealId as string | undefined);
    return { id: reg.body.id, dealId };
  };

  beforeAll(async () => {
    e = await startHubspotE2E();
    const owners = await e.hs<{ results: { id: string }[] }>('POST', `/_sandbox/portals/${e.portal.portalId}/owners`, {
      owners: [{ email: 'dana.direct@corp.test', firstName: 'Dana', lastName: 'Direct', userId: 801 }],
    });
    const seeded = await e.hs<{ companies: string[]; deals: string[] }>('POST', `/_sandbox/portals/${e.portal.portalId}/seed`, {
      companies: [{ properties: { name: 'Umbrella Corp', domain: 'umbrella.com' } }, { properties: { name: 'Initech', domain: 'initech.com' } }],
      deals: [
        { properties: { dealname: 'Umbrella renewal', amount: '120000', dealstage: 'presentationscheduled', hubspot_owner_id: owners.body.results[0]!.id }, companies: ['#0'] },
        { properties: { dealname: 'Initech upsell', amount: '30000', dealstage: 'qualifiedtobuy' }, companies: ['#1'] },
      ],
    });
    seededDealId = seeded.body.deals[0]!;
    await connect(e);
    await createWhenSubmitted(e.h.api, 'hubspot', e.ws.revopsToken);
  });

  afterAll(async () => {
    await e?.close();
  });

  test('unsigned or forged card requests are 401 INVALID_SIGNATURE', async () => {
    const missing = await card('GET', `/cards/hubspot/view?dealId=${seededDealId}`, { signature: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('INVALID_SIGNATURE');
    const forged = await card('GET', `/cards/hubspot/view?dealId=${seededDealId}`, { signature: createHmac('sha256', 'not-the-secret').update('x').digest('base64') });
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('INVALID_SIGNATURE');
  });

  test('a deal without a registration shows the empty state', async () => {
    const r = await card('GET', `/cards/hubspot/view?dealId=${seededDealId}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'empty', title: 'No partner on this deal', viewer: { id: 'hubspot:701', role: 'viewer' } });
  });

  test('an unmapped user, or one mapped as viewer, sees the conflict but cannot approve (403)', async () => {
    const { id, dealId } = await pendingWithDeal('umbrella.com', 'Umbrella Corp');
    const view = await card('GET', `/cards/hubspot/view?dealId=${dealId}`, { user: 901 });
    expect(view.status).toBe(200);
    const reg = view.body.registration;
    expect(reg).toMatchObject({ id, status: 'pending_review', statusLabel: 'Pending review', company: 'Umbrella Corp (umbrella.com)', partner: { name: 'Northwind Resellers', tierLabel: 'Gold' }, verdictLabel: 'Needs review: 1 conflict', actions: [] });
    expect(reg.protection.label).toBe('Not protected: pending review');
    expect(reg.reasons).toEqual([
      { code: 'OPEN_OPPORTUNITY', title: 'Open opportunity on this account', detail: 'Deal “Umbrella renewal” (Presentation scheduled) is open on umbrella.com, owned by Dana Direct.', tone: 'warning' },
    ]);
    expect(reg.actionsNote).toContain('Only partner managers');
    const approve = { dealId, registrationId: id, action: 'approve' };
    const unmapped = await card('POST', '/cards/hubspot/actions', { user: 901, body: approve });
    expect(unmapped.status).toBe(403);
    expect(unmapped.body.error.code).toBe('FORBIDDEN');
    expect((await e.h.api.put('/v1/crm-users', e.ws.adminToken, { crm: 'hubspot', crmUserId: '902', role: 'viewer' })).status).toBe(201);
    const viewer = await card('POST', '/cards/hubspot/actions', { user: 902, body: approve });
    expect(viewer.status).toBe(403);
    expect((await e.h.api.get(`/v1/registrations/${id}`, e.ws.pmToken)).body.status).toBe('pending_review');
  });

  test("a partner manager approves from the card: approved, in the ledger as the HubSpot user, on the deal, and the answer is the new card", async () => {
    const { id, dealId } = await pendingWithDeal('initech.com', 'Initech');
    const mapped = await e.h.api.put('/v1/crm-users', e.ws.adminToken, { crm: 'hubspot', crmUserId: '701', email: 'pat.manager@corp.test', role: 'partner_manager', name: 'Pat Manager' });
    expect(mapped.status).toBe(201);
    const view = await card('GET', `/cards/hubspot/view?dealId=${dealId}`);
    expect(view.body.registration.actions).toEqual([
      { id: 'approve', label: 'Approve', requiresReason: false },
      { id: 'reject', label: 'Reject', requiresReason: true },
    ]);
    // Reject needs a reason.
    const noReason = await card('POST', '/cards/hubspot/actions', { body: { dealId, registrationId: id, action: 'reject' } });
    expect(noReason.status).toBe(422);
    expect(noReason.body.error.code).toBe('VALIDATION_FAILED');

    const r = await card('POST', '/cards/hubspot/actions', { body: { dealId, registrationId: id, action: 'approve' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, action: 'approve', view: { kind: 'registration', viewer: { id: 'hubspot:701', role: 'partner_manager' }, registration: { id, status: 'approved', statusTone: 'success', actions: [], actionsNote: null } } });
    expect(r.body.view.registration.protection.label).toMatch(/^Protected for 90 more days \(until \d{4}-\d{2}-\d{2}\)$/);
    expect(r.body.view.registration.attribution).toMatchObject({ totalLabel: '$48,000.00', partners: [{ name: 'Northwind Resellers', roleLabel: 'Sourcing partner', percent: 100, amountLabel: '$48,000.00' }] });

    expect((await e.h.api.get(`/v1/registrations/${id}`, e.ws.pmToken)).body.status).toBe('approved');
    const events = (await e.h.api.get(`/v1/registrations/${id}/events`, e.ws.pmToken)).body.data as Events;
    const approved = events.find((x) => x.type === 'registration.approved')!;
    expect(approved.actor).toEqual({ type: 'crm_user', id: 'hubspot:701' });
    expect(approved.source).toBe('card:hubspot');
    await eventually('dealreg_status approved on the deal', async () => (await dealsFor(e, id))[0]?.properties.dealreg_status === 'approved');
    expect((await dealsFor(e, id))[0]!.id).toBe(dealId);
    // Illegal transitions stay 409.
    const again = await card('POST', '/cards/hubspot/actions', { body: { dealId, registrationId: id, action: 'approve' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('INVALID_TRANSITION');
  });
});

describe('Salesforce LWC card (Apex through a Named Credential with the card secret)', () => {
  let e: SalesforceE2E;
  let approverId: string;
  let viewerId: string;
  let seededOppId: string;
  let cardSecret: string;

  /** What DealregCardController sends: the card secret, and the running user as it knows them. */
  const card = (method: 'GET' | 'POST', path: string, o: { user: string; canApprove: boolean; secret?: string; body?: unknown }): Promise<ApiResponse> =>
    e.h.api.request(method, path, {
      headers: {
        authorization: `Bearer ${o.secret ?? cardSecret}`,
        'x-dealreg-user-id': o.user,
        'x-dealreg-user-email': 'someone@corp.test',
        'x-dealreg-user-name': 'Some One',
        'x-dealreg-can-approve': String(o.canApprove),
      },
      ...(o.body !== undefined ? { body: o.body } : {}),
    });

  beforeAll(async () => {
    e = await startSalesforceE2E();
    const seeded = await seedOrg(e, {
      users: [
        { _ref: 'rep', Username: `dana.direct@${e.org.orgId.toLowerCase()}.test`, LastName: 'Direct', FirstName: 'Dana', Email: 'dana.direct@corp.test', Alias: 'ddire', UserType: 'Standard' },
        { _ref: 'approver', Username: `sam.approver@${e.org.orgId.toLowerCase()}.test`, LastName: 'Approver', FirstName: 'Sam', Email: 'sam@corp.test', Alias: 'sappr', UserType: 'Standard' },
        { _ref: 'viewer', Username: `vic.viewer@${e.org.orgId.toLowerCase()}.test`, LastName: 'Viewer', FirstName: 'Vic', Email: 'vic@corp.test', Alias: 'vview', UserType: 'Standard' },
        { _ref: 'puser', Username: `pat.partner@${e.org.orgId.toLowerCase()}.test`, LastName: 'Partner', FirstName: 'Pat', Email: 'pat@northwind.test', Alias: 'ppart', UserType: 'PowerPartner' },
      ],
      accounts: [{ _ref: 'umbrella', Name: 'Umbrella Corp', Website: 'umbrella.com', OwnerId: { $ref: 'puser' } }],
      opportunities: [{ _ref: 'renewal', Name: 'Umbrella renewal', StageName: 'Qualification', CloseDate: '2027-02-01', Amount: 120000, AccountId: { $ref: 'umbrella' }, OwnerId: { $ref: 'rep' } }],
    });
    approverId = seeded.refs.approver!;
    viewerId = seeded.refs.viewer!;
    seededOppId = seeded.refs.renewal!;
    const { id } = await connectSalesforce(e);
    await createWhenSubmitted(e.h.api, 'salesforce', e.ws.revopsToken);
    const secret = await e.h.api.post(`/v1/connections/${id}/card-secret`, e.ws.adminToken);
    expect(secret.status).toBe(201);
    expect(secret.body).toMatchObject({ connectionId: id, cardSecret: expect.stringMatching(/^drc_/) });
    cardSecret = secret.body.cardSecret;
  });

  afterAll(async () => {
    await e?.close();
  });

  test('a wrong or missing card secret is 401 INVALID_CARD_CREDENTIAL', async () => {
    const wrong = await card('GET', `/cards/salesforce/view?opportunityId=${seededOppId}`, { user: approverId, canApprove: true, secret: 'drc_not-the-secret-of-this-org-000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('INVALID_CARD_CREDENTIAL');
    const missing = await e.h.api.request('GET', `/cards/salesforce/view?opportunityId=${seededOppId}`, { headers: { 'x-dealreg-user-id': approverId } });
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('INVALID_CARD_CREDENTIAL');
  });

  test('an Opportunity without a registration shows the empty state', async () => {
    const r = await card('GET', `/cards/salesforce/view?opportunityId=${seededOppId}`, { user: viewerId, canApprove: false });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'empty', title: 'No partner on this deal', viewer: { id: `salesforce:${viewerId}`, role: 'viewer' } });
  });

  test('without Dealreg_Approve a user sees the card but cannot act; with it, the approval lands on the Opportunity', async () => {
    const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody('umbrella.com', 'Umbrella Corp', { amount: { value: 48000, currency: 'USD' } }));
    expect(reg.status).toBe(201);
    expect(reg.body.status).toBe('pending_review');
    const id = reg.body.id as string;
    const opportunityId = await eventually('the Opportunity id on the registration', async () => (await e.h.api.get(`/v1/registrations/${id}`, e.ws.pmToken)).body.crm?.salesforce?.opportunityId as string | undefined);

    const asViewer = await card('GET', `/cards/salesforce/view?opportunityId=${opportunityId}`, { user: viewerId, canApprove: false });
    expect(asViewer.status).toBe(200);
    expect(asViewer.body).toMatchObject({ viewer: { role: 'viewer' }, registration: { id, status: 'pending_review', actions: [] } });
    expect(asViewer.body.registration.reasons[0]).toMatchObject({ code: 'OPEN_OPPORTUNITY', detail: expect.stringContaining('Opportunity “Umbrella renewal” (Qualification) is open on umbrella.com') });
    const approve = { opportunityId, registrationId: id, action: 'approve' };
    const refused = await card('POST', '/cards/salesforce/actions', { user: viewerId, canApprove: false, body: approve });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');

    const noReason = await card('POST', '/cards/salesforce/actions', { user: approverId, canApprove: true, body: { ...approve, action: 'reject' } });
    expect(noReason.status).toBe(422);
    const r = await card('POST', '/cards/salesforce/actions', { user: approverId, canApprove: true, body: approve });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, action: 'approve', view: { viewer: { id: `salesforce:${approverId}`, role: 'partner_manager' }, registration: { id, status: 'approved' } } });

    expect((await e.h.api.get(`/v1/registrations/${id}`, e.ws.pmToken)).body.status).toBe('approved');
    const events = (await e.h.api.get(`/v1/registrations/${id}/events`, e.ws.pmToken)).body.data as Events;
    const approved = events.find((x) => x.type === 'registration.approved')!;
    expect(approved.actor).toEqual({ type: 'crm_user', id: `salesforce:${approverId}` });
    expect(approved.source).toBe('card:salesforce');
    const opp = await eventually('Dealreg_Status__c approved on the Opportunity', async () => {
      const o = (await oppsFor(e, id))[0];
      return o?.Dealreg_Status__c === 'approved' ? o : undefined;
    });
    expect(opp.Id).toBe(opportunityId);
  });
});
