// The rules-of-engagement policy through the API: read, replace (validated strictly, versioned), dry run.
import { startHarness, seedWorkspace, type Harness } from '../helpers/harness';
import { dealFor, expectError, mirrorAccount, putPolicy, rowCounts, uniqueDomain } from '../helpers/api-fixtures';
import { defaultPolicy } from '../../src/domain/policy';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('reading and replacing the policy', () => {
  it('starts every workspace on version 1 with the documented defaults', async () => {
    const ws = await seedWorkspace(h, []);
    const res = await h.api.get('/v1/policy', ws.revopsToken);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 1, policy: defaultPolicy() });
    expect(res.body.policy).toMatchObject({
      autoApprove: true,
      protection: { defaultDays: 90, maxDays: 180, extensionDays: 30, maxExtensions: 2, extensionWindowDays: 30, reminderDays: [14, 3] },
      partnerCaps: { registered: 25, silver: 100, gold: null },
    });
  });

  it('lets revops replace the policy: the version goes up and new verdicts carry it', async () => {
    const ws = await seedWorkspace(h);
    const before = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor(uniqueDomain('v1')));
    expect(before.body.verdict.policyVersion).toBe(1);

    const put = await h.api.put('/v1/policy', ws.revopsToken, { protection: { defaultDays: 60, maxDays: 120 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ version: 2, policy: { protection: { defaultDays: 60, maxDays: 120, extensionDays: 30 } } });
    expect((await h.api.get('/v1/policy', ws.pmToken)).body.version).toBe(2);

    const after = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor(uniqueDomain('v2')));
    expect(after.body.verdict.policyVersion).toBe(2);
    const days = (Date.parse(after.body.protection.endsAt) - Date.parse(after.body.protection.startsAt)) / 86_400_000;
    expect(days).toBe(60);
    // The earlier verdict keeps the version it was decided under.
    expect((await h.api.get(`/v1/registrations/${before.body.id}`, ws.pmToken)).body.verdict.policyVersion).toBe(1);
    const event = await h.prisma.ledgerEvent.findFirst({ where: { workspaceId: ws.workspaceId, type: 'policy.updated' } });
    expect(event?.data).toEqual({ version: 2, previousVersion: 1 });
  });

  it('refuses policy changes by a partner manager or a partner with 403', async () => {
    const ws = await seedWorkspace(h);
    const before = await rowCounts(h, ws.workspaceId);
    expectError(await h.api.put('/v1/policy', ws.pmToken, {}), 403, 'FORBIDDEN');
    expectError(await h.api.put('/v1/policy', ws.partners[0]!.apiKey, {}), 403, 'FORBIDDEN');
    expectError(await h.api.get('/v1/policy', ws.partners[0]!.apiKey), 403, 'FORBIDDEN');
    expectError(await h.api.post('/v1/policy/dry-run', ws.pmToken, { policy: {} }), 403, 'FORBIDDEN');
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
  });

  it.each([
    ['an unknown top-level field', { autoAprove: false }, '', /autoAprove/],
    ['an unknown nested field', { protection: { defaultDayz: 30 } }, 'protection', /defaultDayz/],
    ['defaultDays above maxDays', { protection: { defaultDays: 200, maxDays: 100 } }, 'protection.defaultDays', /maxDays/],
    ['a bad country code', { reserved: { territories: [{ country: 'Germany' }] } }, 'reserved.territories.0.country', /ISO 3166/],
    ['a wrong type', { autoApprove: 'yes' }, 'autoApprove', /./],
    ['an unknown outcome', { outcomes: { OPEN_OPPORTUNITY: 'maybe' } }, 'outcomes.OPEN_OPPORTUNITY', /./],
  ])('refuses %s with 422 VALIDATION_FAILED naming the path, and keeps the version', async (_t, policy, path, message) => {
    const ws = await seedWorkspace(h, []);
    const before = await rowCounts(h, ws.workspaceId);
    const res = await h.api.put('/v1/policy', ws.revopsToken, policy);
    expectError(res, 422, 'VALIDATION_FAILED');
    expect(res.body.error.details.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path, message: expect.stringMatching(message) })]));
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
    expect((await h.api.get('/v1/policy', ws.revopsToken)).body.version).toBe(1);
  });

  it('refuses a policy body that is not an object', async () => {
    const ws = await seedWorkspace(h, []);
    expectError(await h.api.put('/v1/policy', ws.revopsToken, ['autoApprove']), 422, 'VALIDATION_FAILED');
    expect((await h.api.get('/v1/policy', ws.revopsToken)).body.version).toBe(1);
  });
});

describe('dry run of a proposed policy', () => {
  it('reports exactly which past verdicts would change, and writes nothing', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Dry Run Partner' }]);
    const key = ws.partners[0]!.apiKey;
    await mirrorAccount(h, ws.workspaceId, { domain: 'has-open-deal.com', name: 'Has Open Deal', ownerRole: 'partner', openOpportunity: { name: 'Expansion' } });
    const withOpp = await h.api.post('/v1/registrations', key, dealFor('has-open-deal.com'));
    const toReserve = await h.api.post('/v1/registrations', key, dealFor('soon-reserved.com'));
    const untouched = await h.api.post('/v1/registrations', key, dealFor('stays-the-same.com'));
    expect([withOpp.body.status, toReserve.body.status, untouched.body.status]).toEqual(['pending_review', 'approved', 'approved']);

    const before = await rowCounts(h, ws.workspaceId);
    const regsBefore = await h.prisma.registration.findMany({ where: { workspaceId: ws.workspaceId }, orderBy: { id: 'asc' } });
    const res = await h.api.post('/v1/policy/dry-run', ws.revopsToken, {
      policy: { outcomes: { OPEN_OPPORTUNITY: 'reject' }, reserved: { domains: [{ domain: 'soon-reserved.com' }] } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ currentVersion: 1, total: 3, changed: 2, transitions: { 'review→reject': 1, 'approve→reject': 1 } });
    expect(res.body.changes).toHaveLength(2);
    expect(res.body.changes).toEqual(
      expect.arrayContaining([
        { registrationId: withOpp.body.id, from: 'review', to: 'reject', added: [], removed: [] },
        { registrationId: toReserve.body.id, from: 'approve', to: 'reject', added: ['RESERVED_ACCOUNT'], removed: [] },
      ]),
    );

    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
    expect(await h.prisma.registration.findMany({ where: { workspaceId: ws.workspaceId }, orderBy: { id: 'asc' } })).toEqual(regsBefore);
    expect((await h.api.get('/v1/policy', ws.revopsToken)).body.version).toBe(1);
  });

  it('reports no changes for the policy already in force', async () => {
    const ws = await seedWorkspace(h);
    await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor(uniqueDomain('same')));
    const current = (await h.api.get('/v1/policy', ws.revopsToken)).body.policy;
    const res = await h.api.post('/v1/policy/dry-run', ws.revopsToken, { policy: current });
    expect(res.body).toMatchObject({ total: 1, changed: 0, changes: [] });
  });

  it('validates the proposed policy like PUT does', async () => {
    const ws = await seedWorkspace(h);
    const res = await h.api.post('/v1/policy/dry-run', ws.revopsToken, { policy: { protection: { defaultDays: 400, maxDays: 300 } } });
    expectError(res, 422, 'VALIDATION_FAILED');
    expect(res.body.error.details.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'protection.defaultDays' })]));
    expectError(await h.api.post('/v1/policy/dry-run', ws.revopsToken, { policy: {}, extra: 1 }), 422, 'VALIDATION_FAILED');
  });
});
