// Workspaces are tenants: nothing crosses from one to another, whoever asks and however.
import { startHarness, seedWorkspace, type Harness } from '../helpers/harness';
import { dealFor, expectError, putPolicy, rowCounts } from '../helpers/api-fixtures';

let h: Harness;
let one: Awaited<ReturnType<typeof seedWorkspace>>;
let two: Awaited<ReturnType<typeof seedWorkspace>>;
let regId: string;

beforeAll(async () => {
  h = await startHarness();
  one = await seedWorkspace(h, [{ name: 'Tenant One Partner' }]);
  two = await seedWorkspace(h, [{ name: 'Tenant Two Partner' }]);
  const reg = await h.api.post('/v1/registrations', one.partners[0]!.apiKey, { company: { name: 'Globex Corporation', domain: 'shared-prospect.com' }, contact: { name: 'Hank', email: 'hank@shared-prospect.com' }, notes: 'tenant one secret' });
  expect(reg.body.status).toBe('approved');
  regId = reg.body.id;
  await putPolicy(h, one.revopsToken, { autoApprove: false, reserved: { domains: [{ domain: 'tenant-one-reserved.com' }] } });
});
afterAll(async () => {
  await h?.close();
});

const staffTokens = () => [two.adminToken, two.pmToken, two.revopsToken];

describe('one workspace never sees another', () => {
  it('lists only its own partners and answers 404 for the other workspace\'s partner', async () => {
    const p1 = one.partners[0]!.id;
    for (const token of staffTokens()) {
      const list = await h.api.get('/v1/partners', token);
      expect(list.body.data.map((p: { id: string }) => p.id)).toEqual([two.partners[0]!.id]);
      expectError(await h.api.get(`/v1/partners/${p1}`, token), 404, 'NOT_FOUND');
    }
    const before = await rowCounts(h, one.workspaceId);
    expectError(await h.api.patch(`/v1/partners/${p1}`, two.adminToken, { status: 'inactive' }), 404, 'NOT_FOUND');
    expectError(await h.api.post(`/v1/partners/${p1}/api-keys`, two.adminToken), 404, 'NOT_FOUND');
    expectError(await h.api.get(`/v1/partners/${p1}/api-keys`, two.adminToken), 404, 'NOT_FOUND');
    const keyId = (await h.prisma.partnerApiKey.findFirstOrThrow({ where: { partnerId: p1 } })).id;
    expectError(await h.api.delete(`/v1/partners/${p1}/api-keys/${keyId}`, two.adminToken), 404, 'NOT_FOUND');
    expect(await rowCounts(h, one.workspaceId)).toEqual(before);
    expect((await h.api.get(`/v1/partners/${p1}`, one.adminToken)).body.status).toBe('active');
  });

  it('answers 404 for the other workspace\'s registration, its events and its actions, and lists none of them', async () => {
    const before = await rowCounts(h, one.workspaceId);
    for (const token of [...staffTokens(), two.partners[0]!.apiKey]) {
      expectError(await h.api.get(`/v1/registrations/${regId}`, token), 404, 'NOT_FOUND');
      expectError(await h.api.get(`/v1/registrations/${regId}/events`, token), 404, 'NOT_FOUND');
      expectError(await h.api.get(`/v1/registrations/${regId}/extension-requests`, token), 404, 'NOT_FOUND');
      const list = await h.api.get('/v1/registrations', token);
      expect(list.body).toEqual({ data: [], nextCursor: null });
      const filtered = await h.api.get(`/v1/registrations?partnerId=${one.partners[0]!.id}`, token);
      expect(filtered.body).toEqual({ data: [], nextCursor: null });
    }
    expectError(await h.api.post(`/v1/registrations/${regId}/withdraw`, two.partners[0]!.apiKey), 404, 'NOT_FOUND');
    expectError(await h.api.post(`/v1/registrations/${regId}/extension-requests`, two.partners[0]!.apiKey, {}), 404, 'NOT_FOUND');
    expectError(await h.api.post(`/v1/registrations/${regId}/reject`, two.pmToken, { reason: 'cross-tenant' }), 404, 'NOT_FOUND');
    expectError(await h.api.post(`/v1/registrations/${regId}/approve`, two.adminToken, {}), 404, 'NOT_FOUND');
    expect(await rowCounts(h, one.workspaceId)).toEqual(before);
    expect((await h.api.get(`/v1/registrations/${regId}`, one.pmToken)).body.status).toBe('approved');
  });

  it('decides its own registrations without seeing the other\'s holds, registrations or policy', async () => {
    const check = await h.api.post('/v1/registrations/check', two.partners[0]!.apiKey, { company: { name: 'Shared Prospect', domain: 'shared-prospect.com' } });
    expect(check.body).toEqual({ availability: 'available' });
    const reg = await h.api.post('/v1/registrations', two.partners[0]!.apiKey, dealFor('shared-prospect.com'));
    expect(reg.body).toMatchObject({ status: 'approved', verdict: { reasons: [], policyVersion: 1 } });
    const reserved = await h.api.post('/v1/registrations', two.partners[0]!.apiKey, dealFor('tenant-one-reserved.com'));
    expect(reserved.body).toMatchObject({ status: 'approved', verdict: { reasons: [] } });
    // A name tenant one registered ("Globex Corporation") on another domain: no SIMILAR_COMPANY_NAME across tenants.
    const similar = await h.api.post('/v1/registrations', two.partners[0]!.apiKey, { company: { name: 'Globex Corp.', domain: 'globex-group.de' }, contact: { name: 'X', email: 'x@globex-group.de' } });
    expect(similar.body.verdict.reasons.map((r: { code: string }) => r.code)).not.toContain('SIMILAR_COMPANY_NAME');
  });

  it('keeps each workspace\'s policy to itself', async () => {
    expect((await h.api.get('/v1/policy', one.revopsToken)).body).toMatchObject({ version: 2, policy: { autoApprove: false } });
    expect((await h.api.get('/v1/policy', two.revopsToken)).body).toMatchObject({ version: 1, policy: { autoApprove: true, reserved: { domains: [] } } });
    const dry = await h.api.post('/v1/policy/dry-run', two.revopsToken, { policy: { reserved: { domains: [{ domain: 'shared-prospect.com' }] } } });
    expect(dry.body.changes.map((c: { registrationId: string }) => c.registrationId)).not.toContain(regId);
  });

  it('does not let one workspace\'s admin revoke the other\'s staff tokens', async () => {
    const pmOfOne = await h.prisma.staffToken.findFirstOrThrow({ where: { workspaceId: one.workspaceId, role: 'partner_manager' } });
    expectError(await h.api.delete(`/v1/staff-tokens/${pmOfOne.id}`, two.adminToken), 404, 'NOT_FOUND');
    expect((await h.api.get('/v1/partners', one.pmToken)).status).toBe(200);
    const listed = await h.api.get('/v1/staff-tokens', two.adminToken);
    expect(listed.body.data.map((t: { id: string }) => t.id)).not.toContain(pmOfOne.id);
  });
});
