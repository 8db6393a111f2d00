// Partners, their API keys, staff tokens and bearer authentication, through the HTTP API.
import { startHarness, seedWorkspace, type ApiResponse, type Harness } from '../helpers/harness';
import { dealFor, expectError, rowCounts, uniqueDomain } from '../helpers/api-fixtures';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const checkBody = (domain: string) => ({ company: { name: 'Probe Co', domain } });

describe('partners', () => {
  it('lets an admin and a partner manager create partners, and refuses revops with 403 FORBIDDEN', async () => {
    const ws = await seedWorkspace(h, []);
    const byAdmin = await h.api.post('/v1/partners', ws.adminToken, { name: 'Contoso Channel', type: 'reseller', tier: 'gold' });
    expect(byAdmin.status).toBe(201);
    expect(Object.keys(byAdmin.body).sort()).toEqual(['apiKey', 'partner']);
    expect(byAdmin.body.partner).toMatchObject({ name: 'Contoso Channel', type: 'reseller', tier: 'gold', status: 'active' });
    expect(byAdmin.body.apiKey).toMatch(/^drp_/);

    const byPm = await h.api.post('/v1/partners', ws.pmToken, { name: 'Fabrikam Referrals', type: 'referral' });
    expect(byPm.status).toBe(201);
    expect(byPm.body.partner).toMatchObject({ name: 'Fabrikam Referrals', type: 'referral', tier: 'registered', status: 'active' });

    const before = await rowCounts(h, ws.workspaceId);
    const byRevops = await h.api.post('/v1/partners', ws.revopsToken, { name: 'Tailspin Affiliates', type: 'affiliate' });
    expectError(byRevops, 403, 'FORBIDDEN');
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
  });

  it('returns the API key exactly once: it works, it is stored only as a hash, and reads never show it', async () => {
    const ws = await seedWorkspace(h, []);
    const created = await h.api.post('/v1/partners', ws.adminToken, { name: 'Once Only Partners', type: 'technology' });
    expect(created.status).toBe(201);
    const { apiKey, partner } = created.body;

    const check = await h.api.post('/v1/registrations/check', apiKey, checkBody(uniqueDomain()));
    expect(check.status).toBe(200);
    expect(check.body).toEqual({ availability: 'available' });

    const stored = await h.prisma.partnerApiKey.findMany({ where: { partnerId: partner.id } });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.keyHash).not.toContain(apiKey);
    expect(JSON.stringify(stored)).not.toContain(apiKey);

    const read = await h.api.get(`/v1/partners/${partner.id}`, ws.adminToken);
    const keys = await h.api.get(`/v1/partners/${partner.id}/api-keys`, ws.adminToken);
    expect(read.status).toBe(200);
    expect(keys.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toContain(apiKey);
    expect(JSON.stringify(keys.body)).not.toContain(apiKey);
    expect(keys.body.data).toEqual([expect.objectContaining({ id: stored[0]!.id, keyPrefix: apiKey.slice(0, 8), revokedAt: null })]);
  });

  it('lists partners as { data, nextCursor } and pages through all of them without duplicates or gaps', async () => {
    const names = ['P-Alpha', 'P-Bravo', 'P-Charlie', 'P-Delta', 'P-Echo', 'P-Foxtrot', 'P-Golf'];
    const ws = await seedWorkspace(h, names.map((name) => ({ name })));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: ApiResponse = await h.api.get(`/v1/partners?limit=3${cursor ? `&cursor=${cursor}` : ''}`, ws.pmToken);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['data', 'nextCursor']);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.data.map((p: { id: string }) => p.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(ws.partners.map((p) => p.id).sort());
  });

  it('reads one partner, and lets staff change its tier and status', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Patchable Partners', tier: 'registered' }]);
    const p = ws.partners[0]!;
    const read = await h.api.get(`/v1/partners/${p.id}`, ws.revopsToken);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: p.id, name: 'Patchable Partners', type: 'reseller', tier: 'registered', status: 'active' });

    const patched = await h.api.patch(`/v1/partners/${p.id}`, ws.pmToken, { tier: 'gold', status: 'inactive' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: p.id, tier: 'gold', status: 'inactive' });
    const again = await h.api.get(`/v1/partners/${p.id}`, ws.adminToken);
    expect(again.body).toMatchObject({ tier: 'gold', status: 'inactive' });

    const event = await h.prisma.ledgerEvent.findFirst({ where: { workspaceId: ws.workspaceId, type: 'partner.updated' } });
    expect(event?.data).toEqual({ partnerId: p.id, changes: { tier: { from: 'registered', to: 'gold' }, status: { from: 'active', to: 'inactive' } } });
  });

  it('answers 409 PARTNER_EXISTS for a duplicate name on create and on rename, and writes nothing', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Unique Name Ltd' }, { name: 'Other Name Ltd' }]);
    const before = await rowCounts(h, ws.workspaceId);
    const dup = await h.api.post('/v1/partners', ws.adminToken, { name: 'Unique Name Ltd', type: 'reseller' });
    expectError(dup, 409, 'PARTNER_EXISTS');
    const rename = await h.api.patch(`/v1/partners/${ws.partners[1]!.id}`, ws.adminToken, { name: 'Unique Name Ltd' });
    expectError(rename, 409, 'PARTNER_EXISTS');
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
  });

  it('issues a new API key that works alongside the old one, and a revoked key answers 401 saying it was revoked', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Key Rotation Inc' }]);
    const p = ws.partners[0]!;
    const issued = await h.api.post(`/v1/partners/${p.id}/api-keys`, ws.pmToken);
    expect(issued.status).toBe(201);
    expect(issued.body.apiKey).toMatch(/^drp_/);
    expect(issued.body.apiKey).not.toBe(p.apiKey);

    expect((await h.api.post('/v1/registrations/check', issued.body.apiKey, checkBody(uniqueDomain()))).status).toBe(200);
    expect((await h.api.post('/v1/registrations/check', p.apiKey, checkBody(uniqueDomain()))).status).toBe(200);

    const revoke = await h.api.delete(`/v1/partners/${p.id}/api-keys/${issued.body.id}`, ws.pmToken);
    expect(revoke.status).toBe(204);
    const refused = await h.api.post('/v1/registrations', issued.body.apiKey, dealFor(uniqueDomain()));
    expectError(refused, 401, 'UNAUTHENTICATED');
    expect(refused.body.error.message).toMatch(/revoked/i);
    expect(await h.prisma.registration.count({ where: { workspaceId: ws.workspaceId } })).toBe(0);

    // The old key is untouched.
    expect((await h.api.post('/v1/registrations/check', p.apiKey, checkBody(uniqueDomain()))).status).toBe(200);
    const listed = await h.api.get(`/v1/partners/${p.id}/api-keys`, ws.adminToken);
    expect(listed.body.data.map((k: { id: string; revokedAt: string | null }) => [k.id, k.revokedAt !== null])).toEqual(
      expect.arrayContaining([[issued.body.id, true]]),
    );
  });

  it('refuses partner API keys on staff endpoints with 403', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Curious Partner' }]);
    const key = ws.partners[0]!.apiKey;
    expectError(await h.api.get('/v1/partners', key), 403, 'FORBIDDEN');
    expectError(await h.api.post('/v1/partners', key, { name: 'Sneaky', type: 'reseller' }), 403, 'FORBIDDEN');
    expectError(await h.api.post('/v1/staff-tokens', key, { role: 'admin', name: 'me' }), 403, 'FORBIDDEN');
  });
});

describe('staff tokens and authentication', () => {
  it('lets an admin create a staff token that answers { token, role } and works with that role', async () => {
    const ws = await seedWorkspace(h, []);
    const res = await h.api.post('/v1/staff-tokens', ws.adminToken, { role: 'revops', name: 'Riley' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ token: expect.stringMatching(/^drs_/), role: 'revops' });
    const policy = await h.api.get('/v1/policy', res.body.token);
    expect(policy.status).toBe(200);
    const stored = await h.prisma.staffToken.findFirst({ where: { workspaceId: ws.workspaceId, name: 'Riley' } });
    expect(stored?.role).toBe('revops');
    expect(JSON.stringify(stored)).not.toContain(res.body.token);
  });

  it('refuses staff-token creation by a partner manager or revops with 403, writing nothing', async () => {
    const ws = await seedWorkspace(h, []);
    const before = await rowCounts(h, ws.workspaceId);
    expectError(await h.api.post('/v1/staff-tokens', ws.pmToken, { role: 'admin', name: 'escalate' }), 403, 'FORBIDDEN');
    expectError(await h.api.post('/v1/staff-tokens', ws.revopsToken, { role: 'admin', name: 'escalate' }), 403, 'FORBIDDEN');
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
  });

  it('answers 401 for a revoked staff token', async () => {
    const ws = await seedWorkspace(h, []);
    const made = await h.api.post('/v1/staff-tokens', ws.adminToken, { role: 'partner_manager', name: 'Leaver' });
    expect((await h.api.get('/v1/partners', made.body.token)).status).toBe(200);
    const revoked = await h.api.delete(`/v1/staff-tokens/${made.body.id}`, ws.adminToken);
    expect(revoked.status).toBe(204);
    const res = await h.api.get('/v1/partners', made.body.token);
    expectError(res, 401, 'UNAUTHENTICATED');
    expect(res.body.error.message).toMatch(/revoked/i);
  });

  it('answers 401 UNAUTHENTICATED for a missing header, a non-Bearer scheme, garbage, and well-formed but unknown tokens', async () => {
    const cases: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: '' },
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer not-a-dealreg-token' },
      { authorization: 'Bearer drs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      { authorization: 'Bearer drp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      { authorization: 'Bearer two tokens' },
    ];
    for (const headers of cases) {
      const res = await h.api.request('GET', '/v1/registrations', { headers });
      expectError(res, 401, 'UNAUTHENTICATED');
    }
  });
});
