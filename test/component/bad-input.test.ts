// Bad input (issue 2, "Bad input"): each is a 4xx with a stable error code and a clear message, the body
// is always { error: { code, message } }, and nothing is written.
import { startHarness, seedWorkspace, type Harness } from '../helpers/harness';
import { dealFor, expectError, rowCounts, uniqueDomain, type RowCounts } from '../helpers/api-fixtures';
import { submitRegistrationSchema } from '../../src/use-cases/submit-registration';

let h: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let partnerKey: string;
let regId: string;
let before: RowCounts;

beforeAll(async () => {
  h = await startHarness();
  ws = await seedWorkspace(h, [{ name: 'Careless Partner' }]);
  partnerKey = ws.partners[0]!.apiKey;
  const reg = await h.api.post('/v1/registrations', partnerKey, dealFor(uniqueDomain('existing')));
  regId = reg.body.id;
});
beforeEach(async () => {
  before = await rowCounts(h, ws.workspaceId);
});
afterEach(async () => {
  // Whatever each test sent, nothing was written.
  expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
});
afterAll(async () => {
  await h?.close();
});

const post = (path: string, opts: { rawBody?: string; body?: unknown; headers?: Record<string, string>; token?: string }) =>
  h.api.request('POST', path, { token: opts.token ?? partnerKey, ...opts });

describe('malformed and oversized bodies', () => {
  it('answers 400 MALFORMED_JSON for JSON that does not parse', async () => {
    for (const rawBody of ['{"company": ', '{company: 1}', "{'a': 1}", 'null', '"a string"', '{"a":1}}']) {
      const res = await post('/v1/registrations', { rawBody, headers: { 'content-type': 'application/json' } });
      expectError(res, 400, 'MALFORMED_JSON');
    }
  });

  it('answers 413 PAYLOAD_TOO_LARGE for a body over 100 kB', async () => {
    const body = dealFor(uniqueDomain(), { notes: 'x'.repeat(110 * 1024) });
    expectError(await post('/v1/registrations', { body }), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await h.api.put('/v1/policy', ws.revopsToken, { reserved: { domains: Array.from({ length: 5000 }, (_, i) => ({ domain: `reserved-${i}.com` })) } }), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers 415 UNSUPPORTED_MEDIA_TYPE for a body that is not JSON', async () => {
    const json = JSON.stringify(dealFor(uniqueDomain()));
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'application/json; charset=latin1']) {
      const res = await post('/v1/registrations', { rawBody: json, headers: { 'content-type': contentType } });
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('accepts application/json with a UTF-8 charset (the control case)', async () => {
    const res = await h.api.request('POST', '/v1/registrations/check', {
      token: partnerKey,
      rawBody: JSON.stringify({ company: { name: 'Control', domain: uniqueDomain() } }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(res.status).toBe(200);
  });
});

describe('fields', () => {
  it('answers 422 VALIDATION_FAILED naming an unknown field', async () => {
    const res = await post('/v1/registrations', { body: { ...dealFor(uniqueDomain()), discountCode: 'FREE' } });
    expectError(res, 422, 'VALIDATION_FAILED');
    expect(res.body.error.details.issues).toEqual([expect.objectContaining({ message: expect.stringContaining('discountCode') })]);
    const nested = await post('/v1/registrations', { body: dealFor(uniqueDomain(), { contact: { name: 'A', email: 'a@b-corp.com', phone: '1' } }) });
    expectError(nested, 422, 'VALIDATION_FAILED');
    expect(nested.body.error.details.issues).toEqual([expect.objectContaining({ path: 'contact', message: expect.stringContaining('phone') })]);
    const partner = await h.api.post('/v1/partners', ws.adminToken, { name: 'New One', type: 'reseller', colour: 'red' });
    expectError(partner, 422, 'VALIDATION_FAILED');
    expect(JSON.stringify(partner.body.error.details)).toContain('colour');
  });

  it('answers 422 VALIDATION_FAILED with the path of every missing field', async () => {
    const empty = await post('/v1/registrations', { body: {} });
    expectError(empty, 422, 'VALIDATION_FAILED');
    expect(empty.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['company', 'contact']);
    const partial = await post('/v1/registrations', { body: { company: { name: 'No Domain' }, contact: { name: 'X' } } });
    expectError(partial, 422, 'VALIDATION_FAILED');
    expect(partial.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['company.domain', 'contact.email']);
    const noBody = await post('/v1/registrations', {});
    expectError(noBody, 422, 'VALIDATION_FAILED');
    const arrayBody = await post('/v1/registrations', { body: [dealFor(uniqueDomain())] });
    expectError(arrayBody, 422, 'VALIDATION_FAILED');
    const emptyPatch = await h.api.patch(`/v1/partners/${ws.partners[0]!.id}`, ws.adminToken, {});
    expectError(emptyPatch, 422, 'VALIDATION_FAILED');
    expect(emptyPatch.body.error.details.issues[0].message).toMatch(/at least one field/);
    expectError(await h.api.post('/v1/partners', ws.adminToken, { type: 'reseller' }), 422, 'VALIDATION_FAILED');
  });

  it('answers 422 VALIDATION_FAILED for wrongly typed or out-of-range values', async () => {
    const cases = [
      dealFor(uniqueDomain(), { amount: { value: -5, currency: 'EUR' } }),
      dealFor(uniqueDomain(), { amount: { value: 10, currency: 'euro' } }),
      dealFor(uniqueDomain(), { expectedCloseDate: 'next week' }),
      { ...dealFor(uniqueDomain()), contact: { name: 'A', email: 'not-an-email' } },
      { ...dealFor(uniqueDomain()), company: { name: 123, domain: uniqueDomain() } },
    ];
    for (const body of cases) expectError(await post('/v1/registrations', { body }), 422, 'VALIDATION_FAILED');
  });

  it('answers 422 VALIDATION_FAILED for an impossible calendar date such as 2026-02-30, not a 500', async () => {
    for (const expectedCloseDate of ['2026-02-30', '2025-02-29', '2026-04-31', '2026-13-01', '2026-00-10']) {
      const res = await post('/v1/registrations', { body: dealFor(uniqueDomain(), { expectedCloseDate }) });
      expectError(res, 422, 'VALIDATION_FAILED');
      expect(res.body.error.details.issues).toEqual([expect.objectContaining({ path: 'expectedCloseDate', message: 'not a real date' })]);
    }
    // A real leap day is a real date (checked on the schema, so this test writes nothing).
    expect(submitRegistrationSchema.safeParse(dealFor(uniqueDomain(), { expectedCloseDate: '2028-02-29' })).success).toBe(true);
  });

  it('answers 422 INVALID_DOMAIN / FREE_EMAIL_DOMAIN for a bad company domain', async () => {
    expectError(await post('/v1/registrations', { body: dealFor('acme') }), 422, 'INVALID_DOMAIN');
    expectError(await post('/v1/registrations', { body: dealFor('co.uk') }), 422, 'INVALID_DOMAIN');
    expectError(await post('/v1/registrations', { body: dealFor('hotmail.com') }), 422, 'FREE_EMAIL_DOMAIN');
  });
});

describe('credentials and roles', () => {
  it('answers 401 UNAUTHENTICATED for a wrong key and for a revoked key', async () => {
    expectError(await post('/v1/registrations', { token: 'drp_wrongwrongwrongwrongwrongwrongwron', body: dealFor(uniqueDomain()) }), 401, 'UNAUTHENTICATED');
    const extra = await h.api.post(`/v1/partners/${ws.partners[0]!.id}/api-keys`, ws.adminToken);
    await h.api.delete(`/v1/partners/${ws.partners[0]!.id}/api-keys/${extra.body.id}`, ws.adminToken);
    before = await rowCounts(h, ws.workspaceId);
    const res = await post('/v1/registrations', { token: extra.body.apiKey, body: dealFor(uniqueDomain()) });
    expectError(res, 401, 'UNAUTHENTICATED');
    expect(res.body.error.message).toMatch(/revoked/);
  });

  it('answers 403 FORBIDDEN for the wrong role', async () => {
    expectError(await post('/v1/registrations', { token: ws.adminToken, body: dealFor(uniqueDomain()) }), 403, 'FORBIDDEN');
    expectError(await h.api.post(`/v1/registrations/${regId}/approve`, ws.revopsToken, {}), 403, 'FORBIDDEN');
    expectError(await h.api.put('/v1/policy', ws.pmToken, {}), 403, 'FORBIDDEN');
    const res = await h.api.post('/v1/staff-tokens', ws.revopsToken, { role: 'admin', name: 'x' });
    expectError(res, 403, 'FORBIDDEN');
    expect(res.body.error.details).toMatchObject({ requiredRoles: ['admin'], role: 'revops' });
  });

  it('answers 422 for a staff token with an unknown role', async () => {
    expectError(await h.api.post('/v1/staff-tokens', ws.adminToken, { role: 'superuser', name: 'x' }), 422, 'VALIDATION_FAILED');
  });
});

describe('state, ids, cursors and routes', () => {
  it('answers 409 INVALID_TRANSITION for an illegal transition', async () => {
    expectError(await h.api.post(`/v1/registrations/${regId}/approve`, ws.pmToken, {}), 409, 'INVALID_TRANSITION');
  });

  it('answers 400 INVALID_CURSOR for a cursor the API did not hand out', async () => {
    for (const cursor of ['garbage', 'bm90LWEtdXVpZA', '!!!!']) {
      expectError(await h.api.get(`/v1/registrations?cursor=${cursor}`, ws.pmToken), 400, 'INVALID_CURSOR');
      expectError(await h.api.get(`/v1/partners?cursor=${cursor}`, ws.pmToken), 400, 'INVALID_CURSOR');
    }
    expectError(await h.api.get(`/v1/registrations/${regId}/events?cursor=garbage`, ws.pmToken), 400, 'INVALID_CURSOR');
  });

  it('answers 400 INVALID_QUERY for a bad limit or partnerId, and 422 for an unknown status', async () => {
    expectError(await h.api.get('/v1/registrations?limit=0', ws.pmToken), 400, 'INVALID_QUERY');
    expectError(await h.api.get('/v1/registrations?limit=abc', ws.pmToken), 400, 'INVALID_QUERY');
    expectError(await h.api.get('/v1/registrations?limit=1000', ws.pmToken), 400, 'INVALID_QUERY');
    expectError(await h.api.get('/v1/registrations?partnerId=nope', ws.pmToken), 400, 'INVALID_QUERY');
    expectError(await h.api.get('/v1/registrations?status=approved,bogus', ws.pmToken), 422, 'VALIDATION_FAILED');
  });

  it('answers 404 NOT_FOUND for ids that are not UUIDs, and for UUIDs that do not exist', async () => {
    const missing = '01900000-0000-7000-8000-000000000000';
    for (const id of ['abc', '1', "1'; drop table registrations;--", missing]) {
      const enc = encodeURIComponent(id);
      expectError(await h.api.get(`/v1/registrations/${enc}`, ws.pmToken), 404, 'NOT_FOUND');
      expectError(await h.api.get(`/v1/registrations/${enc}/events`, ws.pmToken), 404, 'NOT_FOUND');
      expectError(await h.api.post(`/v1/registrations/${enc}/approve`, ws.pmToken, {}), 404, 'NOT_FOUND');
      expectError(await h.api.post(`/v1/registrations/${enc}/withdraw`, partnerKey), 404, 'NOT_FOUND');
      expectError(await h.api.get(`/v1/partners/${enc}`, ws.pmToken), 404, 'NOT_FOUND');
      expectError(await h.api.patch(`/v1/partners/${enc}`, ws.pmToken, { tier: 'gold' }), 404, 'NOT_FOUND');
      expectError(await h.api.delete(`/v1/staff-tokens/${enc}`, ws.adminToken), 404, 'NOT_FOUND');
    }
    expectError(await h.api.post(`/v1/registrations/${regId}/extension-requests/not-a-uuid/approve`, ws.pmToken, {}), 404, 'NOT_FOUND');
  });

  it('answers 404 ROUTE_NOT_FOUND for an unknown route or method', async () => {
    expectError(await h.api.get('/nope'), 404, 'ROUTE_NOT_FOUND');
    expectError(await h.api.get('/v1/nope', ws.adminToken), 404, 'ROUTE_NOT_FOUND');
    expectError(await h.api.delete(`/v1/registrations/${regId}`, ws.adminToken), 404, 'ROUTE_NOT_FOUND');
    expectError(await h.api.get('/v2/registrations', ws.adminToken), 404, 'ROUTE_NOT_FOUND');
  });
});
