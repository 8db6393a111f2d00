// The rules of engagement, exercised through the HTTP API against real PostgreSQL: each reason code,
// first-to-register-wins, and what frees an account again.
import { startHarness, seedWorkspace, type Harness } from '../helpers/harness';
import { dealFor, expectError, mirrorAccount, putPolicy, reasonCodes, rowCounts, uniqueDomain } from '../helpers/api-fixtures';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
beforeEach(() => {
  h.clock.set('2026-06-01T12:00:00.000Z');
});
afterAll(async () => {
  await h?.close();
});

const twoPartners = () => seedWorkspace(h, [{ name: 'Early Bird Partners' }, { name: 'Late Comer Partners' }]);

describe('first to register wins', () => {
  it('rejects a second partner registering the same domain with DUPLICATE_REGISTRATION, and the first keeps its protection', async () => {
    const ws = await twoPartners();
    const [first, second] = ws.partners as [typeof ws.partners[0], typeof ws.partners[0]];
    const a = await h.api.post('/v1/registrations', first.apiKey, dealFor('https://www.duplicate-target.com/pricing'));
    expect(a.body.status).toBe('approved');
    h.clock.advanceDays(3);
    const b = await h.api.post('/v1/registrations', second.apiKey, dealFor('duplicate-target.com'));
    expect(b.status).toBe(201);
    expect(b.body).toMatchObject({ status: 'rejected', protection: null, verdict: { outcome: 'reject' } });
    expect(reasonCodes(b.body)).toEqual(['DUPLICATE_REGISTRATION']);

    const firstAgain = await h.api.get(`/v1/registrations/${a.body.id}`, first.apiKey);
    expect(firstAgain.body).toMatchObject({ status: 'approved', protection: { startsAt: a.body.protection.startsAt, endsAt: a.body.protection.endsAt } });
    const holds = await h.prisma.accountHold.findMany({ where: { workspaceId: ws.workspaceId } });
    expect(holds).toEqual([expect.objectContaining({ domain: 'duplicate-target.com', registrationId: a.body.id, partnerId: first.id })]);
  });

  it('holds the account while a registration is pending review: a later one is rejected as a duplicate', async () => {
    const ws = await twoPartners();
    await putPolicy(h, ws.revopsToken, { autoApprove: false });
    const [first, second] = ws.partners as [typeof ws.partners[0], typeof ws.partners[0]];
    const a = await h.api.post('/v1/registrations', first.apiKey, dealFor('pending-hold.com'));
    expect(a.body.status).toBe('pending_review');
    const b = await h.api.post('/v1/registrations', second.apiKey, dealFor('pending-hold.com'));
    expect(b.body.status).toBe('rejected');
    expect(reasonCodes(b.body)).toEqual(['DUPLICATE_REGISTRATION']);
    // The same partner registering again is told it already holds it.
    const again = await h.api.post('/v1/registrations', first.apiKey, dealFor('pending-hold.com'));
    expect(again.body.status).toBe('rejected');
    expect(reasonCodes(again.body)).toEqual(['DUPLICATE_REGISTRATION']);
    expect(again.body.verdict.reasons[0].message).toMatch(/you already registered/i);
  });

  it('frees the account once the holder withdraws', async () => {
    const ws = await twoPartners();
    const [first, second] = ws.partners as [typeof ws.partners[0], typeof ws.partners[0]];
    const a = await h.api.post('/v1/registrations', first.apiKey, dealFor('freed-by-withdraw.com'));
    expect((await h.api.post(`/v1/registrations/${a.body.id}/withdraw`, first.apiKey)).body.status).toBe('withdrawn');
    const b = await h.api.post('/v1/registrations', second.apiKey, dealFor('freed-by-withdraw.com'));
    expect(b.body).toMatchObject({ status: 'approved', verdict: { reasons: [] } });
    const holds = await h.prisma.accountHold.findMany({ where: { workspaceId: ws.workspaceId } });
    expect(holds.map((x) => x.registrationId)).toEqual([b.body.id]);
  });

  it('frees the account once a partner manager rejects the holder', async () => {
    const ws = await twoPartners();
    await putPolicy(h, ws.revopsToken, { autoApprove: false });
    const [first, second] = ws.partners as [typeof ws.partners[0], typeof ws.partners[0]];
    const a = await h.api.post('/v1/registrations', first.apiKey, dealFor('freed-by-reject.com'));
    expect((await h.api.post(`/v1/registrations/${a.body.id}/reject`, ws.pmToken, { reason: 'stale' })).body.status).toBe('rejected');
    const b = await h.api.post('/v1/registrations', second.apiKey, dealFor('freed-by-reject.com'));
    expect(b.body).toMatchObject({ status: 'pending_review', verdict: { outcome: 'review', reasons: [] } });
  });
});

describe('reason codes', () => {
  it('rejects a domain reserved in the policy with RESERVED_ACCOUNT', async () => {
    const ws = await seedWorkspace(h);
    const version = await putPolicy(h, ws.revopsToken, { reserved: { domains: [{ domain: 'crown-jewel.com', note: 'named account, AE Kim' }] } });
    const res = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor('https://shop.crown-jewel.com'));
    expect(res.body).toMatchObject({ status: 'rejected', verdict: { outcome: 'reject', policyVersion: version } });
    expect(reasonCodes(res.body)).toEqual(['RESERVED_ACCOUNT']);
    expect(JSON.stringify(res.body)).not.toContain('AE Kim');
    const staff = await h.api.get(`/v1/registrations/${res.body.id}`, ws.pmToken);
    expect(staff.body.verdict.reasons[0].evidence).toMatchObject({ reserved: { kind: 'domain', value: 'crown-jewel.com', note: 'named account, AE Kim' } });
  });

  it('sends "ACME, Incorporated" on another domain to review with SIMILAR_COMPANY_NAME after "Acme Inc."', async () => {
    const ws = await twoPartners();
    const [first, second] = ws.partners as [typeof ws.partners[0], typeof ws.partners[0]];
    const a = await h.api.post('/v1/registrations', first.apiKey, { company: { name: 'Acme Inc.', domain: 'acme-similar.com' }, contact: { name: 'A', email: 'a@acme-similar.com' } });
    expect(a.body.status).toBe('approved');
    const b = await h.api.post('/v1/registrations', second.apiKey, { company: { name: 'ACME, Incorporated', domain: 'acme-holdings-group.com' }, contact: { name: 'B', email: 'b@acme-holdings-group.com' } });
    expect(b.body).toMatchObject({ status: 'pending_review', verdict: { outcome: 'review' } });
    expect(reasonCodes(b.body)).toEqual(['SIMILAR_COMPANY_NAME']);
    expect(JSON.stringify(b.body)).not.toContain('acme-similar.com');
    const staff = await h.api.get(`/v1/registrations/${b.body.id}`, ws.adminToken);
    expect(staff.body.verdict.reasons[0].evidence).toMatchObject({ registration: { id: a.body.id, domain: 'acme-similar.com' }, similarity: { theirs: 'Acme Inc.', ours: 'ACME, Incorporated' } });
  });

  it('rejects a partner made inactive with PARTNER_INACTIVE', async () => {
    const ws = await seedWorkspace(h);
    const p = ws.partners[0]!;
    expect((await h.api.patch(`/v1/partners/${p.id}`, ws.pmToken, { status: 'inactive' })).body.status).toBe('inactive');
    const res = await h.api.post('/v1/registrations', p.apiKey, dealFor(uniqueDomain('inactive')));
    expect(res.body.status).toBe('rejected');
    expect(reasonCodes(res.body)).toEqual(['PARTNER_INACTIVE']);
    expect(await h.prisma.accountHold.count({ where: { workspaceId: ws.workspaceId } })).toBe(0);
    expect((await h.api.post('/v1/registrations/check', p.apiKey, { company: { name: 'Z', domain: uniqueDomain() } })).body).toEqual({ availability: 'blocked' });
  });

  it('rejects with PARTNER_CAP_REACHED once a partner holds as many active registrations as its tier allows', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Capped Partner', tier: 'silver' }]);
    await putPolicy(h, ws.revopsToken, { partnerCaps: { registered: 1, silver: 2, gold: null } });
    const key = ws.partners[0]!.apiKey;
    const r1 = await h.api.post('/v1/registrations', key, dealFor(uniqueDomain('cap-a')));
    const r2 = await h.api.post('/v1/registrations', key, dealFor(uniqueDomain('cap-b')));
    expect([r1.body.status, r2.body.status]).toEqual(['approved', 'approved']);
    const r3 = await h.api.post('/v1/registrations', key, dealFor(uniqueDomain('cap-c')));
    expect(r3.body.status).toBe('rejected');
    expect(reasonCodes(r3.body)).toEqual(['PARTNER_CAP_REACHED']);
    // Withdrawing one makes room again.
    await h.api.post(`/v1/registrations/${r1.body.id}/withdraw`, key);
    const r4 = await h.api.post('/v1/registrations', key, dealFor(uniqueDomain('cap-d')));
    expect(r4.body.status).toBe('approved');
  });

  it('rejects an account owned by direct sales in the CRM mirror with DIRECT_OWNED_ACCOUNT', async () => {
    const ws = await seedWorkspace(h);
    await mirrorAccount(h, ws.workspaceId, { domain: 'direct-owned.com', name: 'Direct Owned', ownerName: 'Dana Direct', ownerRole: 'direct' });
    const res = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor('direct-owned.com'));
    expect(res.body.status).toBe('rejected');
    expect(reasonCodes(res.body)).toEqual(['DIRECT_OWNED_ACCOUNT']);
    expect(JSON.stringify(res.body)).not.toContain('Dana');
    const staff = await h.api.get(`/v1/registrations/${res.body.id}`, ws.pmToken);
    expect(staff.body.verdict.reasons[0].evidence.account).toMatchObject({ ownerName: 'Dana Direct', ownerRole: 'direct' });
  });

  it('sends an account with an open opportunity to review with OPEN_OPPORTUNITY', async () => {
    const ws = await seedWorkspace(h);
    await mirrorAccount(h, ws.workspaceId, { domain: 'open-opp.com', name: 'Open Opp', ownerRole: 'partner', openOpportunity: { name: 'Renewal 2026', ownerName: 'Olly Opp', amount: 40000 } });
    const res = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor('open-opp.com'));
    expect(res.body.status).toBe('pending_review');
    expect(reasonCodes(res.body)).toEqual(['OPEN_OPPORTUNITY']);
    expect(JSON.stringify(res.body)).not.toContain('Olly');
    expect(JSON.stringify(res.body)).not.toContain('Renewal 2026');
  });

  it('sends an existing customer to review with EXISTING_CUSTOMER', async () => {
    const ws = await seedWorkspace(h);
    await mirrorAccount(h, ws.workspaceId, { domain: 'loyal-customer.com', name: 'Loyal Customer', isCustomer: true });
    const res = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor('loyal-customer.com'));
    expect(res.body.status).toBe('pending_review');
    expect(reasonCodes(res.body)).toEqual(['EXISTING_CUSTOMER']);
  });

  it('lists every finding on a mirrored account owned by direct sales with an open deal that is already a customer', async () => {
    const ws = await seedWorkspace(h);
    await mirrorAccount(h, ws.workspaceId, { domain: 'all-in.com', name: 'All In', ownerRole: 'direct', isCustomer: true, openOpportunity: { name: 'Upsell' } });
    const res = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor('all-in.com'));
    expect(res.body.status).toBe('rejected');
    expect(reasonCodes(res.body).sort()).toEqual(['DIRECT_OWNED_ACCOUNT', 'EXISTING_CUSTOMER', 'OPEN_OPPORTUNITY']);
  });

  it.each([
    ['INVALID_DOMAIN', 'not a domain!!'],
    ['INVALID_DOMAIN', '192.168.10.1'],
    ['INVALID_DOMAIN', 'localhost'],
    ['FREE_EMAIL_DOMAIN', 'gmail.com'],
    ['FREE_EMAIL_DOMAIN', 'https://mail.yahoo.com/inbox'],
  ])('answers 422 %s for "%s" and stores nothing', async (code, domain) => {
    const ws = await seedWorkspace(h);
    const before = await rowCounts(h, ws.workspaceId);
    const res = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor(domain), { 'Idempotency-Key': `bad-${code}` });
    expectError(res, 422, code);
    expect(res.body.error.details).toMatchObject({ field: 'company.domain' });
    const check = await h.api.post('/v1/registrations/check', ws.partners[0]!.apiKey, { company: { name: 'X', domain } });
    expectError(check, 422, code);
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
  });

  it('treats a domain added to the policy\'s free-mail list as FREE_EMAIL_DOMAIN', async () => {
    const ws = await seedWorkspace(h);
    await putPolicy(h, ws.revopsToken, { freeEmailDomains: ['localmail.de'] });
    const before = await rowCounts(h, ws.workspaceId);
    expectError(await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor('localmail.de')), 422, 'FREE_EMAIL_DOMAIN');
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
  });
});
